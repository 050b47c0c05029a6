package addon_test

import (
	"bytes"
	"image"
	_ "image/png"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// What the Supervisor's store needs of the repository (supervisor/store/data.py):
// a repository.yaml at the root; add-ons found as `path.glob("**/config.*")`
// with a .json, .yaml or .yml suffix, skipping any path with a part that
// starts with "." or is "rootfs"; each add-on's folder is its location, the
// build context of its Dockerfile (supervisor/addons/build.py: "path":
// path_location), where translations/, DOCS.md, CHANGELOG.md, icon.png and
// logo.png are read.

// cloned lists the files a clone of the repository has: what git tracks,
// and what it would track (untracked, not ignored).
func cloned(t *testing.T) []string {
	t.Helper()
	out, err := exec.Command("git", "-C", "..", "ls-files", "--cached", "--others", "--exclude-standard").Output()
	if err != nil {
		t.Skipf("not a git checkout: %v", err)
	}
	var files []string
	for _, f := range strings.Split(strings.TrimSpace(string(out)), "\n") {
		if _, err := os.Stat(filepath.Join("..", f)); err == nil {
			files = append(files, f)
		}
	}
	return files
}

func TestStore_FindsOneAddonAtTheRoot(t *testing.T) {
	var found []string
	for _, f := range cloned(t) {
		base := filepath.Base(f)
		if !strings.HasPrefix(base, "config.") || !slices.Contains([]string{".json", ".yaml", ".yml"}, filepath.Ext(base)) {
			continue
		}
		skipped := false
		for _, part := range strings.Split(f, "/") {
			if strings.HasPrefix(part, ".") || part == "rootfs" {
				skipped = true
			}
		}
		if !skipped {
			found = append(found, f)
		}
	}
	if !slices.Equal(found, []string{"config.yaml"}) {
		t.Fatalf("the store would read %v as add-on configurations, want only config.yaml at the root", found)
	}
	for _, f := range []string{"Dockerfile", "repository.yaml", "DOCS.md", "CHANGELOG.md", "translations/en.yaml", "icon.png", "logo.png", "README.md"} {
		if _, err := os.Stat(filepath.Join("..", f)); err != nil {
			t.Errorf("the add-on's folder (the root) lacks %s", f)
		}
	}
}

func TestStore_RepositoryFile(t *testing.T) {
	b, err := os.ReadFile("../repository.yaml")
	if err != nil {
		t.Fatalf("no repository.yaml: the Supervisor refuses the repository (%v)", err)
	}
	var repo map[string]any
	if err := yaml.Unmarshal(b, &repo); err != nil {
		t.Fatalf("repository.yaml: %v", err)
	}
	// supervisor/store/validate.py: name is required, url and maintainer
	// optional strings, nothing else.
	for k, v := range repo {
		if !slices.Contains([]string{"name", "url", "maintainer"}, k) {
			t.Errorf("repository.yaml: unknown key %q", k)
		}
		if s, ok := v.(string); !ok || s == "" {
			t.Errorf("repository.yaml: %s must be a non-empty string", k)
		}
	}
	for _, k := range []string{"name", "url", "maintainer"} {
		if repo[k] == nil {
			t.Errorf("repository.yaml lacks %s", k)
		}
	}
	if repo["url"] != readConfig(t)["url"] {
		t.Errorf("repository.yaml's url %v differs from config.yaml's %v", repo["url"], readConfig(t)["url"])
	}
}

// Every option has a name and a description in the store's language, and
// every port its description (SCHEMA_ADDON_TRANSLATIONS).
func TestStore_Translations(t *testing.T) {
	b, err := os.ReadFile("../translations/en.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tr struct {
		Configuration map[string]struct{ Name, Description string }
		Network       map[string]string
	}
	if err := yaml.Unmarshal(b, &tr); err != nil {
		t.Fatalf("translations/en.yaml: %v", err)
	}
	cfg := readConfig(t)
	schema, _ := cfg["schema"].(map[string]any)
	for k := range schema {
		if e, ok := tr.Configuration[k]; !ok || e.Name == "" || e.Description == "" {
			t.Errorf("option %s has no name and description in translations/en.yaml", k)
		}
	}
	for k := range tr.Configuration {
		if _, ok := schema[k]; !ok {
			t.Errorf("translations/en.yaml names %s, which is not an option", k)
		}
	}
	ports, _ := cfg["ports"].(map[string]any)
	for k := range ports {
		if tr.Network[k] == "" {
			t.Errorf("port %s has no description in translations/en.yaml", k)
		}
	}
}

func TestStore_Docs(t *testing.T) {
	docs, err := os.ReadFile("../DOCS.md")
	if err != nil {
		t.Fatal(err)
	}
	cfg := readConfig(t)
	schema, _ := cfg["schema"].(map[string]any)
	for k := range schema {
		if !bytes.Contains(docs, []byte("`"+k+"`")) {
			t.Errorf("DOCS.md does not document the option %s", k)
		}
	}
	for _, want := range []string{"launcher status", "launcher check", "/healthz", "ingress"} {
		if !bytes.Contains(docs, []byte(want)) {
			t.Errorf("DOCS.md does not mention %q", want)
		}
	}
	changelog, err := os.ReadFile("../CHANGELOG.md")
	if err != nil {
		t.Fatal(err)
	}
	if v := cfg["version"].(string); !bytes.Contains(changelog, []byte("## "+v)) {
		t.Errorf("CHANGELOG.md has no section for version %s", v)
	}
	// The store shows README.md as the add-on's page: it opens with what
	// the add-on does and how to add it, not with a developer's commands.
	readme, _ := os.ReadFile("../README.md")
	store, dev := bytes.Index(readme, []byte("Add-on Store")), bytes.Index(readme, []byte("make "))
	if store < 0 || !bytes.Contains(readme, []byte("Repositories")) || dev >= 0 && dev < store {
		t.Errorf("README.md must open with what the add-on does and how to add its repository to Home Assistant, before any developer command")
	}
}

// The images are square (the icon, 128 px or more) and landscape 250×100
// (the logo), and are what addon/artwork draws.
func TestStore_Images(t *testing.T) {
	drawn := t.TempDir()
	if out, err := exec.Command("go", "run", "./artwork", drawn).CombinedOutput(); err != nil {
		t.Fatalf("go run ./addon/artwork: %v\n%s", err, out)
	}
	for name, check := range map[string]func(image.Rectangle) bool{
		"icon.png": func(r image.Rectangle) bool { return r.Dx() == r.Dy() && r.Dx() >= 128 },
		"logo.png": func(r image.Rectangle) bool { return r.Dx() == 250 && r.Dy() == 100 },
	} {
		b, err := os.ReadFile(filepath.Join("..", name))
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		cfg, format, err := image.DecodeConfig(bytes.NewReader(b))
		if err != nil || format != "png" {
			t.Errorf("%s is not a PNG: %v", name, err)
			continue
		}
		if !check(image.Rect(0, 0, cfg.Width, cfg.Height)) {
			t.Errorf("%s is %d×%d", name, cfg.Width, cfg.Height)
		}
		want, _ := os.ReadFile(filepath.Join(drawn, name))
		if !bytes.Equal(b, want) {
			t.Errorf("%s is not what addon/artwork draws: run `go run ./addon/artwork .`", name)
		}
	}
}
