package preflight

import (
	"fmt"
	"path/filepath"
	"sort"
	"strings"

	"github.com/hasync/launcher/launcher/plural"
)

// The app's own native binaries: what a bundler (ncc, esbuild, webpack)
// copies beside the bundle, and any .node the app's code requires by a
// literal path. No package loader marks them, and node loads them all the
// same. Found by a bounded walk of the app folder outside node_modules.

const (
	appWalkEntries = 5000    // folder entries read at most
	appWalkDepth   = 6       // folder levels below the app
	appScriptBytes = 4 << 20 // a script larger than this is not read for requires
	appScripts     = 400     // scripts read at most
)

// requireNode matches require('./x.node') and its bundler forms
// (__non_webpack_require__, require.resolve is not loading).
var requireNode = lazy(`(?:\brequire|__non_webpack_require__)\(\s*["']([^"'\n]+\.node)["']\s*\)`)

// appBinary is a .node of the app's own, and why it counts.
type appBinary struct {
	path string
	by   string // "file" (found beside the code) or the requiring script
}

// findAppBinaries walks appDir (not node_modules, not dot folders) for
// .node files and for scripts that require one by a literal path. A
// literal path that does not exist is returned with by set and path
// pointing where node would look.
func findAppBinaries(fsys *files, appDir string) []appBinary {
	var out []appBinary
	seen := map[string]bool{}
	entries, scripts := 0, 0
	var walk func(dir string, depth int)
	walk = func(dir string, depth int) {
		list, err := fsys.readDir(dir)
		if err != nil {
			return
		}
		for _, e := range list {
			entries++
			if entries > appWalkEntries {
				return
			}
			name := e.Name()
			path := filepath.Join(dir, name)
			switch {
			case e.IsDir():
				if name != "node_modules" && !strings.HasPrefix(name, ".") && depth < appWalkDepth {
					walk(path, depth+1)
				}
			case strings.HasSuffix(name, ".node"):
				if !seen[path] {
					seen[path] = true
					out = append(out, appBinary{path: path, by: "file"})
				}
			case (strings.HasSuffix(name, ".js") || strings.HasSuffix(name, ".cjs")) && scripts < appScripts && e.Type().IsRegular():
				scripts++
				for _, req := range literalRequires(fsys, path) {
					target := filepath.Join(dir, req)
					if filepath.IsAbs(req) {
						target = req
					}
					if !seen[target] {
						seen[target] = true
						out = append(out, appBinary{path: target, by: path})
					}
				}
			}
		}
	}
	walk(appDir, 0)
	sort.Slice(out, func(i, j int) bool { return out[i].path < out[j].path })
	return out
}

// literalRequires reads the .node paths a script requires literally; only
// relative and absolute paths (a bare name is a package's to resolve).
func literalRequires(fsys *files, path string) []string {
	b, ok := readScript(fsys, path)
	if !ok {
		return nil
	}
	var out []string
	for _, m := range requireNode.get().FindAllSubmatch(b, -1) {
		req := string(m[1])
		if strings.HasPrefix(req, "./") || strings.HasPrefix(req, "../") || filepath.IsAbs(req) {
			out = append(out, req)
		}
	}
	return out
}

// checkAppBinaries checks the app's own native binaries: each must load,
// and each literal require must find its file.
func (p *Preflight) checkAppBinaries(node *NodeInfo, libs *libResolver, checked map[string]bool) Check {
	c := Check{Name: "native-app", Status: StatusPass}
	found := findAppBinaries(p.fsys, p.app)
	var bad, hints []string
	count := 0
	for _, b := range found {
		shown, _ := filepath.Rel(p.app, b.path)
		if _, err := p.fsys.stat(b.path); err != nil && b.by != "file" {
			by, _ := filepath.Rel(p.app, b.by)
			bad = append(bad, fmt.Sprintf("%s requires %s, which is missing (node would fail with: Cannot find module)", by, shown))
			hints = append(hints, "Copy the .node files the bundler emitted beside the bundle into the image (the whole dist/ folder).")
			continue
		}
		if real, err := p.fsys.evalSymlinks(b.path); err == nil && checked[real] {
			continue
		}
		count++
		if node == nil || libs == nil {
			continue
		}
		if v := p.checkBinary(b.path, node, libs, p.Deep); len(v.problems) > 0 {
			bad = append(bad, fmt.Sprintf("%s: %s", shown, v.details()))
			hints = append(hints, v.hints(shown))
		}
	}
	switch {
	case len(bad) > 0:
		c.Status = StatusFail
		c.Detail = strings.Join(bad, "; ")
		c.Hint = strings.Join(dedupe(hints), " ")
	case count == 0:
		c.Detail = "the app has no native binary of its own outside node_modules"
	default:
		c.Detail = fmt.Sprintf("%d native %s of the app's own (outside node_modules) would load", count, plural.Word(count, "binary", "binaries"))
	}
	return c
}

func dedupe(list []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, s := range list {
		if !seen[s] {
			seen[s] = true
			out = append(out, s)
		}
	}
	return out
}
