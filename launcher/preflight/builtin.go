package preflight

import (
	"fmt"
	"strings"

	"github.com/hasync/launcher/launcher/builtins"
)

// The app's imports of node's own modules: node:sqlite exists from Node
// 22.13 on (behind a flag from 22.5), inspector/promises from 19, node:util's
// styleText from 20.12, and Node 23 took util.isString out. An app
// written against a newer or older node than the image's fails as node
// links its modules, at every start: "No such built-in module", "Cannot
// find module", "does not provide an export named". The launcher's table
// of every release (package builtins) judges them once node's exact
// version is known. With a flag set that adds to node's modules
// (--experimental-*, --expose-internals), none is judged.

// builtinImport is a top-level import or require of one of node's
// modules, as some release names it.
type builtinImport struct {
	imp    appImport
	module builtins.Module
	// A package of the module's name resolves from the script: where node
	// has no such module of its own, require and import load the package.
	packaged bool
}

// builtinError is an import node fails on in the release at hand: a
// module it does not have, or names its module does not export.
type builtinError struct {
	module builtins.Module
	spec   string
	names  []string // none: the module itself is missing
	esm    bool     // imported, not required
	node   string   // node's version
}

func (e *builtinError) Error() string {
	switch {
	case len(e.names) > 0:
		return (&namedExportError{names: e.names, spec: e.spec}).Error()
	case builtins.Scheme(e.spec):
		return "ERR_UNKNOWN_BUILTIN_MODULE: No such built-in module: " + e.spec
	case e.esm:
		// Node looks for a package of the name, as for any bare
		// specifier.
		return fmt.Sprintf("ERR_MODULE_NOT_FOUND: Cannot find package '%s'", packageName(e.spec))
	}
	return fmt.Sprintf("Cannot find module '%s'", e.spec)
}

// lacking says what the release lacks, for the fix: what other releases
// have, with them (`styleText from "node:util" (20.12.0 and later 20.x,
// …)`), and what none has (`"node:nope"`).
func (e *builtinError) lacking() (elsewhere, nowhere []string) {
	say := func(what, name string) {
		if releases := e.module.Releases(e.spec, name); releases != builtins.Nowhere {
			elsewhere = append(elsewhere, what+" ("+releases+")")
		} else {
			nowhere = append(nowhere, what)
		}
	}
	if len(e.names) == 0 {
		say(fmt.Sprintf("%q", e.spec), "")
	}
	for _, n := range e.names {
		say(fmt.Sprintf("%s from %q", n, e.spec), n)
	}
	return elsewhere, nowhere
}

// builtinMisses are the app's imports of node's modules that fail in the
// release of node at hand; none when the table cannot say of it.
func builtinMisses(uses []builtinImport, nodeVersion string) []miss {
	release, ok := builtins.At(nodeVersion)
	if !ok {
		return nil
	}
	var out []miss
	for _, u := range uses {
		spec := u.imp.pre.Spec
		switch u.module.Loads(release, spec) {
		case builtins.No:
			if !u.packaged {
				out = append(out, miss{u.imp, &builtinError{module: u.module, spec: spec, esm: u.imp.pre.ESM(), node: nodeVersion}, allEras})
			}
			continue
		case builtins.Unknown:
			// A release after the table: a name node took out before it
			// fails whether the module loads or not, unless node may take
			// a package of the module's name for it.
			if u.packaged {
				continue
			}
		}
		e := &builtinError{module: u.module, spec: spec, node: nodeVersion}
		for _, n := range u.imp.names {
			if u.module.Exports(release, n) == builtins.No {
				e.names = append(e.names, n)
			}
		}
		if len(e.names) > 0 {
			out = append(out, miss{u.imp, e, allEras})
		}
	}
	return out
}

// addsBuiltins is the first flag among node's options that adds modules
// or names to node's own (--experimental-vm-modules adds vm's
// SourceTextModule, --experimental-sqlite node:sqlite), as given; "" when
// none is. Node takes a flag's dashes as underscores too.
func addsBuiltins(words []string) string {
	for _, w := range words {
		name, _, _ := strings.Cut(w, "=")
		name = strings.ReplaceAll(name, "_", "-")
		if strings.HasPrefix(name, "--experimental-") || name == "--expose-internals" {
			return w
		}
	}
	return ""
}

// builtinsUnjudged says, for a report that passes, how far the app's
// imports of node's own modules were not judged against the release at
// hand: a flag adds to them, the table does not know the release, or it
// knows only what node took out before it (a node newer than the
// launcher, as the image's gets patch releases the launcher's table has
// not seen); "" when they were judged whole, or there are none.
func builtinsUnjudged(w importsWalk, node *NodeInfo) string {
	if len(w.builtins) == 0 || node == nil || !node.versionKnown() {
		return ""
	}
	if w.addsBuiltins != "" {
		return fmt.Sprintf("node's own modules not checked: %s adds to them", w.addsBuiltins)
	}
	release, ok := builtins.At(node.Version)
	if !ok {
		first, last := builtins.Reach()
		return fmt.Sprintf("node's own modules not checked: the launcher knows those of node's releases %s to %s, not of %s", first, last, node.Version)
	}
	if newest, after := release.After(); after {
		return fmt.Sprintf("node's own modules checked only for what node took out before %s: the launcher knows those of node's releases up to %s", node.Version, newest)
	}
	return ""
}
