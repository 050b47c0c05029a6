// Package nodeopts reads node's options as node reads them: NODE_OPTIONS
// split into words by node's own rules, and the modules those words, or
// node's arguments, make node load before the entry.
//
// It is the one place the launcher parses node's options: the gate asks
// it which options node was given, the preflight which modules node
// preloads. Non-goals: validating options (node says what it refuses) and
// resolving modules (the preflight does, with the app's files).
package nodeopts

import (
	"errors"
	"net/url"
	"strings"

	"github.com/hasync/launcher/launcher/builtins"
)

// Split splits NODE_OPTIONS into words as node does (ParseNodeOptionsEnvVar
// in node's src/node_options.cc): spaces, and only spaces, separate words;
// double quotes group, and inside them a backslash escapes the next
// character; single quotes are ordinary characters. Its errors are node's,
// which refuses to start on them.
func Split(s string) ([]string, error) {
	var words [][]byte
	inString, newWord := false, true
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && inString:
			if i+1 == len(s) {
				return nil, errors.New("invalid value for NODE_OPTIONS (invalid escape)")
			}
			i++
			c = s[i]
		case c == ' ' && !inString:
			newWord = true
			continue
		case c == '"':
			inString = !inString
			continue
		}
		if newWord {
			words = append(words, nil)
			newWord = false
		}
		words[len(words)-1] = append(words[len(words)-1], c)
	}
	if inString {
		return nil, errors.New("invalid value for NODE_OPTIONS (unterminated string)")
	}
	var out []string
	for _, w := range words {
		out = append(out, string(w))
	}
	return out, nil
}

// Quote makes word one word of NODE_OPTIONS, whatever it holds: Split
// gives it back. An empty word has no quoting: node drops it.
func Quote(word string) string {
	var b strings.Builder
	b.WriteByte('"')
	for i := 0; i < len(word); i++ {
		if word[i] == '"' || word[i] == '\\' {
			b.WriteByte('\\')
		}
		b.WriteByte(word[i])
	}
	b.WriteByte('"')
	return b.String()
}

// Preload is a module node loads before the entry.
type Preload struct {
	Option string // as node was given it: --require, -r, --import, --loader, --experimental-loader
	Spec   string // the specifier, as written
}

// ESM reports whether node loads the preload as an ES module, resolved by
// import's rules: a relative specifier is a URL, taken as is (no extension
// added, no folder's index), and a bare one resolves with the "import"
// condition.
func (p Preload) ESM() bool { return p.Option != "--require" && p.Option != "-r" }

// Hooks reports whether node loads the module as module hooks, whose
// resolve and load hooks it calls for every module after (--loader,
// --experimental-loader), rather than running it first.
func (p Preload) Hooks() bool { return p.Option == "--loader" || p.Option == "--experimental-loader" }

// Where is what the preload names: a file (its path as written, relative
// to node's working folder unless absolute; for an ES module, the URL's
// path, percent-escapes decoded, a query or fragment dropped), or a bare
// specifier, a package's name maybe with a subpath. Both are "" for what
// no file holds: node's builtins, data: URLs. A specifier node cannot load
// at all (a file: URL given to require) is a bare one, which resolves to
// no package, as node finds none.
func (p Preload) Where() (file, bare string) {
	spec := p.Spec
	if scheme, _, ok := strings.Cut(spec, ":"); ok && isScheme(scheme) {
		switch {
		case scheme == "node":
			return "", ""
		case !p.ESM():
			return "", spec
		case scheme != "file":
			return "", "" // data:, or a scheme node refuses with its own message
		}
		u, err := url.Parse(spec)
		if err != nil {
			return "", spec
		}
		return u.Path, ""
	}
	relative := spec == "." || spec == ".." || strings.HasPrefix(spec, "./") || strings.HasPrefix(spec, "../") || strings.HasPrefix(spec, "/")
	switch {
	case !relative && builtin(spec):
		return "", ""
	case !relative:
		return "", spec
	case !p.ESM():
		return spec, ""
	}
	if i := strings.IndexAny(spec, "?#"); i >= 0 {
		spec = spec[:i]
	}
	if unescaped, err := url.PathUnescape(spec); err == nil {
		spec = unescaped
	}
	return spec, ""
}

// Scheme is the URL scheme of an ES specifier that is a URL (file, data,
// node, https, …), in lower case; "" for a path or a package's name, and
// for every specifier require() takes (to it a URL is a package's name).
func (p Preload) Scheme() string {
	scheme, _, ok := strings.Cut(p.Spec, ":")
	if !p.ESM() || !ok || !isScheme(scheme) {
		return ""
	}
	return strings.ToLower(scheme)
}

// isScheme reports whether s is a URL scheme (RFC 3986: a letter, then
// letters, digits, +, - or .), longer than a letter so that no drive
// letter passes.
func isScheme(s string) bool {
	if len(s) < 2 || !('a' <= s[0]|0x20 && s[0]|0x20 <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !('a' <= c|0x20 && c|0x20 <= 'z' || '0' <= c && c <= '9' || c == '+' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// builtin reports whether spec, without node:, names one of node's own
// modules in some release (fs, fs/promises, _http_agent); whether the
// release at hand has it is the preflight's to judge. Anything else is a
// package, however it starts: punycode/ is npm's punycode, fs/x a
// package named fs.
func builtin(spec string) bool {
	_, ok := builtins.Of(spec)
	return ok
}

// Preloads lists the modules that args, node's options (NODE_OPTIONS'
// words, or the arguments before the entry), make node load before the
// entry, in their order.
func Preloads(args []string) []Preload {
	var out []Preload
	for i := 0; i < len(args); i++ {
		name, value, hasValue := strings.Cut(args[i], "=")
		switch {
		case name == "--require" || name == "--import" || name == "--loader" || name == "--experimental-loader":
		case args[i] == "-r": // -r=x node refuses
		default:
			continue
		}
		if !hasValue {
			if i+1 >= len(args) {
				continue // node refuses it: "requires an argument"
			}
			i++
			value = args[i]
		}
		out = append(out, Preload{Option: name, Spec: value})
	}
	return out
}
