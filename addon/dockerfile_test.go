package addon_test

import (
	"encoding/json"
	"os"
	"path"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// stagesOf parses ../Dockerfile with BuildKit's parser.
func stagesOf(t *testing.T) ([]instructions.Stage, []instructions.ArgCommand) {
	t.Helper()
	f, err := os.Open("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	res, err := parser.Parse(f)
	if err != nil {
		t.Fatalf("BuildKit cannot parse the Dockerfile: %v", err)
	}
	stages, metaArgs, err := instructions.Parse(res.AST, nil)
	if err != nil {
		t.Fatalf("BuildKit cannot read the Dockerfile's instructions: %v", err)
	}
	return stages, metaArgs
}

func stage(t *testing.T, stages []instructions.Stage, name string) *instructions.Stage {
	t.Helper()
	for i := range stages {
		if stages[i].Name == name {
			return &stages[i]
		}
	}
	t.Fatalf("no stage %q", name)
	return nil
}

func runs(s *instructions.Stage) []string {
	var out []string
	for _, c := range s.Commands {
		if r, ok := c.(*instructions.RunCommand); ok {
			out = append(out, strings.Join(r.CmdLine, " "))
		}
	}
	return out
}

func TestDockerfile_Stages(t *testing.T) {
	stages, metaArgs := stagesOf(t)
	var names []string
	for _, s := range stages {
		names = append(names, s.Name)
	}
	if !slices.Equal(names, []string{"frontend-builder", "backend-builder", "launcher-builder", "runtime"}) {
		t.Fatalf("stages %v", names)
	}
	// Node and Alpine are set once, as build arguments, and used by every
	// node stage and by the runtime's base.
	args := map[string]string{}
	for _, a := range metaArgs {
		for _, kv := range a.Args {
			if kv.Value != nil {
				args[kv.Key] = *kv.Value
			}
		}
	}
	if args["NODE_VERSION"] == "" || args["ALPINE_VERSION"] == "" {
		t.Fatalf("NODE_VERSION and ALPINE_VERSION must be build arguments before the first FROM: %v", args)
	}
	for _, n := range []string{"frontend-builder", "backend-builder"} {
		if base := stage(t, stages, n).BaseName; base != "node:${NODE_VERSION}-alpine${ALPINE_VERSION}" {
			t.Errorf("%s is FROM %q: the builders must use the runtime's Alpine release and the Node major", n, base)
		}
	}
	if !strings.Contains(args["BUILD_FROM"], "${ALPINE_VERSION}") || !strings.Contains(args["BUILD_FROM"], "ghcr.io/home-assistant/") {
		t.Errorf("BUILD_FROM = %q: want the Home Assistant base image of ALPINE_VERSION", args["BUILD_FROM"])
	}
	if stage(t, stages, "runtime").BaseName != "${BUILD_FROM}" {
		t.Errorf("the runtime stage must be FROM ${BUILD_FROM}")
	}
}

func TestDockerfile_BackendBuilder(t *testing.T) {
	stages, _ := stagesOf(t)
	all := strings.Join(runs(stage(t, stages, "backend-builder")), "\n")
	for _, want := range []string{"apk add --no-cache python3 make g++", "npm ci", "npm run build", "test -f dist/index.js",
		"require('bcrypt')", "require('better-sqlite3')", "npm prune --omit=dev"} {
		if !strings.Contains(all, want) {
			t.Errorf("backend-builder lacks %q:\n%s", want, all)
		}
	}
	if strings.Index(all, "npm prune") < strings.Index(all, "require('better-sqlite3')") {
		t.Errorf("dev dependencies are pruned before the native modules are proven to load")
	}
}

func TestDockerfile_LauncherBuilder(t *testing.T) {
	stages, _ := stagesOf(t)
	s := stage(t, stages, "launcher-builder")
	all := strings.Join(runs(s), "\n")
	for _, want := range []string{"CGO_ENABLED=0", "GOARCH=${TARGETARCH}", "-trimpath", `-ldflags "-s -w -X main.version=`, "./cmd/launcher"} {
		if !strings.Contains(all, want) {
			t.Errorf("launcher-builder lacks %q:\n%s", want, all)
		}
	}
	if !strings.HasPrefix(s.BaseName, "golang:") || !strings.HasSuffix(s.BaseName, "-alpine") {
		t.Errorf("launcher-builder is FROM %q, want golang:<v>-alpine", s.BaseName)
	}
}

func TestDockerfile_Runtime(t *testing.T) {
	stages, _ := stagesOf(t)
	s := stage(t, stages, "runtime")
	var entrypoint, healthcheck []string
	var interval, startPeriod, startInterval time.Duration
	env := map[string]string{}
	labels := map[string]string{}
	for _, c := range s.Commands {
		switch c := c.(type) {
		case *instructions.EntrypointCommand:
			if c.PrependShell {
				t.Errorf("ENTRYPOINT in shell form: the shell, not the launcher, would be PID 1")
			}
			entrypoint = c.CmdLine
		case *instructions.HealthCheckCommand:
			healthcheck = c.Health.Test
			interval, startPeriod, startInterval = c.Health.Interval, c.Health.StartPeriod, c.Health.StartInterval
		case *instructions.EnvCommand:
			for _, kv := range c.Env {
				env[kv.Key] = kv.Value
			}
		case *instructions.LabelCommand:
			for _, kv := range c.Labels {
				labels[kv.Key] = kv.Value
			}
		}
	}
	if !slices.Equal(entrypoint, []string{"/usr/bin/launcher"}) {
		t.Errorf("ENTRYPOINT %q, want [\"/usr/bin/launcher\"]", entrypoint)
	}
	if !slices.Equal(healthcheck, []string{"CMD", "/usr/bin/launcher", "healthcheck", "--started"}) {
		t.Errorf("HEALTHCHECK %q, want CMD [\"/usr/bin/launcher\", \"healthcheck\", \"--started\"]", healthcheck)
	}
	// The Supervisor holds an add-on with a HEALTHCHECK in "startup" until
	// Docker first reports it healthy: the add-on's start, restart, update
	// and cold backup wait for that. Docker's first check comes one
	// --interval after the start, unless a --start-interval (Docker 25 and
	// newer) checks more often until the first success.
	if startInterval <= 0 || startInterval > 2*time.Second {
		t.Errorf("HEALTHCHECK --start-interval=%s: the Supervisor would see the add-on started only at the first check, %s after its start; want 2s or less", startInterval, interval)
	}
	if startPeriod < time.Minute {
		t.Errorf("HEALTHCHECK --start-period=%s, want at least LAUNCHER_READY_TIMEOUT's 60s", startPeriod)
	}
	if env["LAUNCHER_APP_DIR"] != "/app/backend" {
		t.Errorf("LAUNCHER_APP_DIR = %q", env["LAUNCHER_APP_DIR"])
	}
	// The entry is where the image's package.json says ("main"), under the
	// app folder.
	var pkg struct{ Main string }
	if b, err := os.ReadFile("../rootfs/app/backend/package.json"); err != nil || json.Unmarshal(b, &pkg) != nil {
		t.Fatalf("package.json: %v", err)
	}
	if env["LAUNCHER_ENTRY"] != pkg.Main {
		t.Errorf("LAUNCHER_ENTRY = %q, but package.json's main is %q", env["LAUNCHER_ENTRY"], pkg.Main)
	}
	for _, l := range []string{"io.hass.name", "io.hass.description", "io.hass.version", "io.hass.type", "io.hass.arch"} {
		if labels[l] == "" {
			t.Errorf("label %s missing", l)
		}
	}

	// No build tool in the runtime: only node and the native modules' libraries.
	apk := regexp.MustCompile(`apk add (?:--no-cache )?(.+)`)
	tools := regexp.MustCompile(`\b(npm|npx|tsx|tsc|typescript|gcc|g\+\+|make|python3|build-base|musl-dev|go)\b`)
	checked := false
	for _, r := range runs(s) {
		if m := apk.FindStringSubmatch(r); m != nil {
			pkgs := strings.Fields(m[1])
			slices.Sort(pkgs)
			// better-sqlite3 bundles SQLite: no sqlite-libs.
			if !slices.Equal(pkgs, []string{"libgcc", "libstdc++", "nodejs"}) {
				t.Errorf("the runtime installs %v, want exactly nodejs libstdc++ libgcc", pkgs)
			}
			continue
		}
		if tools.MatchString(r) && !strings.HasPrefix(r, "/usr/bin/launcher") {
			t.Errorf("a build tool in the runtime: %q", r)
		}
		if strings.Contains(r, "/usr/bin/launcher check") {
			checked = true
		}
	}
	if !checked {
		t.Errorf("the runtime stage does not run `launcher check`: a broken image would build")
	}
}

// Every COPY --from takes a path its stage produced: a COPY destination, a
// go build -o, npm ci's node_modules, or tsc's outDir (from tsconfig.json).
func TestDockerfile_CopiesFromWhatStagesProduce(t *testing.T) {
	stages, _ := stagesOf(t)
	var tsconfig struct {
		CompilerOptions struct{ OutDir string } `json:"compilerOptions"`
	}
	b, err := os.ReadFile("../rootfs/app/backend/tsconfig.json")
	if err != nil || json.Unmarshal(b, &tsconfig) != nil {
		t.Fatalf("tsconfig.json: %v", err)
	}
	frontendOut := regexp.MustCompile(`mkdirSync\('([^']+)'\)`)
	fb, _ := os.ReadFile("../rootfs/app/frontend/build.mjs")
	produced := map[string][]string{}
	for _, s := range stages {
		workdir := "/"
		for _, c := range s.Commands {
			switch c := c.(type) {
			case *instructions.WorkdirCommand:
				workdir = path.Join(workdir, c.Path)
			case *instructions.CopyCommand:
				produced[s.Name] = append(produced[s.Name], copied(workdir, c)...)
			case *instructions.RunCommand:
				line := strings.Join(c.CmdLine, " ")
				if strings.Contains(line, "npm ci") {
					produced[s.Name] = append(produced[s.Name], path.Join(workdir, "node_modules"))
				}
				if strings.Contains(line, "npm run build") {
					out := tsconfig.CompilerOptions.OutDir
					if s.Name == "frontend-builder" {
						m := frontendOut.FindSubmatch(fb)
						if m == nil {
							t.Fatal("build.mjs does not say where it builds to")
						}
						out = string(m[1])
					}
					produced[s.Name] = append(produced[s.Name], path.Join(workdir, out))
				}
				if m := regexp.MustCompile(`-o (\S+)`).FindStringSubmatch(line); m != nil && strings.Contains(line, "go build") {
					produced[s.Name] = append(produced[s.Name], m[1])
				}
			}
		}
	}
	copies := 0
	for _, s := range stages {
		for _, c := range s.Commands {
			cp, ok := c.(*instructions.CopyCommand)
			if !ok || cp.From == "" {
				continue
			}
			for _, src := range cp.SourcePaths {
				copies++
				src = path.Clean(src)
				found := false
				for _, p := range produced[cp.From] {
					if src == p || strings.HasPrefix(src, p+"/") {
						found = true
					}
				}
				if !found {
					t.Errorf("%s: COPY --from=%s %s, which that stage does not produce (it makes %v)", s.Name, cp.From, src, produced[cp.From])
				}
			}
		}
	}
	if copies < 5 {
		t.Errorf("only %d COPY --from sources found", copies)
	}
}

// copied lists what a COPY creates: the destination itself for one file to
// a file name, else each source's name in the destination folder, and for
// a source folder each of its entries (as the build context holds them:
// no node_modules or dist, which .dockerignore keeps out).
func copied(workdir string, c *instructions.CopyCommand) []string {
	dest := c.DestPath
	if !path.IsAbs(dest) {
		dest = path.Join(workdir, dest)
	}
	toFolder := strings.HasSuffix(c.DestPath, "/") || c.DestPath == "." || len(c.SourcePaths) > 1
	if !toFolder {
		return []string{path.Clean(dest)}
	}
	var out []string
	for _, src := range c.SourcePaths {
		if c.From == "" {
			if entries, err := os.ReadDir("../" + src); err == nil {
				for _, e := range entries {
					if e.Name() != "node_modules" && e.Name() != "dist" {
						out = append(out, path.Join(dest, e.Name()))
					}
				}
				continue
			}
		}
		out = append(out, path.Join(dest, path.Base(src)))
	}
	return out
}
