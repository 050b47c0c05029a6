package addon_test

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/moby/buildkit/client/llb"
	"github.com/moby/buildkit/client/llb/sourceresolver"
	"github.com/moby/buildkit/frontend/dockerfile/dockerfile2llb"
	"github.com/moby/buildkit/frontend/dockerui"
	"github.com/moby/buildkit/solver/pb"
	digest "github.com/opencontainers/go-digest"
	ocispecs "github.com/opencontainers/image-spec/specs-go/v1"
)

// The build graph as BuildKit builds it: the Dockerfile converted to LLB by
// BuildKit's own converter, for each platform, with exactly the arguments
// the Supervisor passes (BUILD_ARCH, BUILD_VERSION; `docker buildx build
// --platform linux/<arch>` on an amd64 machine). The tests assert on the
// resulting operations, not on the Dockerfile's text: what would run where,
// with which environment.

// alpineNode is the Node major each Alpine release's `nodejs` package ships
// (pkgs.alpinelinux.org, main/nodejs, which tracks Node's LTS line). A fact
// table, not a pin: a release missing from it fails with a message saying
// to add it.
var alpineNode = map[string]int{
	"3.16": 16, "3.17": 18, "3.18": 18, "3.19": 20, "3.20": 20, "3.21": 22, "3.22": 22, "3.23": 24, "3.24": 24,
}

// goArch is Go's name for each Home Assistant architecture; platformArch is
// the OCI platform the Supervisor builds it for.
var (
	supervisorArchs = []struct{ buildArch, platformArch string }{{"amd64", "amd64"}, {"aarch64", "arm64"}}
	buildMachine    = ocispecs.Platform{OS: "linux", Architecture: "amd64"}
)

// imageConfigs answers BuildKit's image look-ups without a registry (none is
// reachable here): each image is taken to exist for the platform asked, with
// one layer and a plain PATH. This is the only stand-in in the conversion; the graph is
// BuildKit's.
// BuildKit asks for images concurrently: it keeps no state.
type imageConfigs struct{}

func (imageConfigs) ResolveImageConfig(_ context.Context, ref string, opt sourceresolver.Opt) (string, digest.Digest, []byte, error) {
	p := buildMachine
	if opt.ImageOpt != nil && opt.ImageOpt.Platform != nil {
		p = *opt.ImageOpt.Platform
	}
	cfg, _ := json.Marshal(map[string]any{
		"architecture": p.Architecture, "os": p.OS,
		"config": map[string]any{"Env": []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"}},
		// One layer: an image with none is taken for scratch.
		"rootfs": map[string]any{"type": "layers", "diff_ids": []string{digest.FromString(ref).String()}},
	})
	return ref, digest.FromBytes([]byte(ref + p.Architecture)), cfg, nil
}

// buildOp is one operation of the graph: an exec with its platform, its
// command, its environment, and the image its root filesystem comes from.
type buildOp struct {
	platform string
	args     []string
	env      map[string]string
	image    string
	stage    string
}

func (o buildOp) command() string { return strings.Join(o.args, " ") }

// graph converts dockerfile for linux/<platformArch> as the Supervisor
// builds it, plus extra build arguments, and returns its execs and the
// images it starts from.
func graph(t *testing.T, dockerfile []byte, buildArch, platformArch string, extra map[string]string) (execs []buildOp, images map[string]string) {
	t.Helper()
	target := ocispecs.Platform{OS: "linux", Architecture: platformArch}
	args := map[string]string{"BUILD_ARCH": buildArch, "BUILD_VERSION": "1.2.3"}
	for k, v := range extra {
		args[k] = v
	}
	ctx := context.Background()
	res, err := dockerfile2llb.Dockerfile2LLB(ctx, dockerfile, dockerfile2llb.ConvertOpt{
		Config: dockerui.Config{
			BuildArgs:       args,
			TargetPlatforms: []ocispecs.Platform{target},
			BuildPlatforms:  []ocispecs.Platform{buildMachine},
		},
		TargetPlatform: &target,
		MetaResolver:   imageConfigs{},
	})
	if err != nil {
		t.Fatalf("BuildKit cannot convert the Dockerfile for %s: %v", platformArch, err)
	}
	def, err := res.State.Marshal(ctx, llb.Platform(target))
	if err != nil {
		t.Fatal(err)
	}
	ops := map[digest.Digest]*pb.Op{}
	for _, dt := range def.Def {
		var op pb.Op
		if err := op.UnmarshalVT(dt); err != nil {
			t.Fatal(err)
		}
		ops[digest.FromBytes(dt)] = &op
	}
	// The image an op's root filesystem descends from.
	var imageOf func(d digest.Digest) string
	imageOf = func(d digest.Digest) string {
		op := ops[d]
		if op == nil {
			return ""
		}
		if src := op.GetSource(); src != nil {
			return imageRef(src.Identifier)
		}
		if len(op.Inputs) == 0 {
			return ""
		}
		return imageOf(digest.Digest(op.Inputs[0].Digest))
	}
	images = map[string]string{}
	for d, op := range ops {
		if src := op.GetSource(); src != nil {
			if ref := imageRef(src.Identifier); ref != "" {
				images[ref] = op.GetPlatform().GetArchitecture()
			}
		}
		e := op.GetExec()
		if e == nil {
			continue
		}
		env := map[string]string{}
		for _, kv := range e.Meta.Env {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
		root := ""
		for _, m := range e.Mounts {
			if m.Dest == "/" && m.Input >= 0 {
				root = imageOf(digest.Digest(op.Inputs[m.Input].Digest))
			}
		}
		execs = append(execs, buildOp{platform: op.GetPlatform().GetArchitecture(), args: e.Meta.Args, env: env, image: root, stage: stageOf(def.Metadata[d])})
	}
	if len(execs) == 0 {
		t.Fatal("the converted graph has no RUN")
	}
	return execs, images
}

// imageRef is the image a source op names, without its resolved digest.
func imageRef(identifier string) string {
	ref, ok := strings.CutPrefix(identifier, "docker-image://")
	if !ok {
		return ""
	}
	ref, _, _ = strings.Cut(ref, "@")
	return ref
}

func dockerfile(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("../Dockerfile")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// goBuildTarget runs a `go build` RUN as the builder would, with its own
// environment, but with a stand-in `go` on PATH that records the GOOS and
// GOARCH it was given: the shell, not a regular expression, decides what the
// command line means. Go without GOARCH targets the machine it runs on.
func goBuildTarget(t *testing.T, op buildOp) string {
	t.Helper()
	bin := t.TempDir()
	record := filepath.Join(bin, "target")
	stub := "#!/bin/sh\n[ \"$1\" = build ] && echo \"${GOOS:-linux}/${GOARCH:-" + op.platform + "}\" >> " + record + "\nexit 0\n"
	if err := os.WriteFile(filepath.Join(bin, "go"), []byte(stub), 0o755); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(op.args[0], op.args[1:]...)
	if !strings.HasPrefix(op.args[0], "/") {
		t.Fatalf("a go build RUN in exec form: %q", op.args)
	}
	cmd.Dir = bin
	for k, v := range op.env {
		if k != "PATH" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Env = append(cmd.Env, "PATH="+bin+":/usr/bin:/bin")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("%s: %v\n%s", op.command(), err, out)
	}
	got, err := os.ReadFile(record)
	if err != nil {
		t.Fatalf("%s never ran go build", op.command())
	}
	return strings.TrimSpace(string(got))
}

var (
	nativeBuild = regexp.MustCompile(`\bnpm (ci|install|rebuild)\b|node-gyp|prebuild-install`)
	nativeStage = regexp.MustCompile(`\bg\+\+|node-gyp|require\('(bcrypt|better-sqlite3)'\)`)
	stageLabel  = regexp.MustCompile(`^\[(?:linux/\S+ )?(\S+) \d+/\d+\]`)
	nodeImage   = regexp.MustCompile(`^docker\.io/library/node:(\d+)-alpine(\d+\.\d+)$`)
	baseImage   = regexp.MustCompile(`^ghcr\.io/home-assistant/(?:[a-z0-9]+-)?base:(\d+\.\d+)$`)
)

// checkGraph asserts what must hold of the build for one platform.
func checkGraph(t *testing.T, df []byte, buildArch, platformArch string, extra map[string]string) {
	execs, images := graph(t, df, buildArch, platformArch, extra)

	// Every go build targets the image's architecture.
	builds := 0
	for _, op := range execs {
		if !strings.Contains(op.command(), "go build") {
			continue
		}
		builds++
		if got, want := goBuildTarget(t, op), "linux/"+platformArch; got != want {
			t.Errorf("%s: `go build` targets %s in the %s image (TARGETARCH=%q): the launcher would not run there",
				platformArch, got, want, op.env["TARGETARCH"])
		}
	}
	if builds == 0 {
		t.Errorf("%s: no RUN builds the launcher", platformArch)
	}

	// Every stage that installs or compiles native modules runs on the
	// target platform, so what it builds is for the runtime's CPU.
	natives := 0
	for _, op := range execs {
		if !nativeBuild.MatchString(op.command()) || !compilesNative(execs, op.stage) {
			continue
		}
		natives++
		if op.platform != platformArch {
			t.Errorf("%s: %s: %q runs on %s: native modules would be built for the build machine's CPU",
				platformArch, op.stage, op.command(), op.platform)
		}
	}
	if natives == 0 {
		t.Errorf("%s: no stage installs the backend's native modules", platformArch)
	}

	// One Alpine release for the builders and the runtime, and a Node major
	// that release's nodejs package provides.
	var alpines, nodes []string
	runtime := ""
	for ref, arch := range images {
		if m := nodeImage.FindStringSubmatch(ref); m != nil {
			alpines = append(alpines, m[2])
			nodes = append(nodes, m[1])
		}
		if m := baseImage.FindStringSubmatch(ref); m != nil {
			runtime = m[1]
			if arch != platformArch {
				t.Errorf("%s: the runtime's base %s is taken for %s", platformArch, ref, arch)
			}
		}
	}
	if runtime == "" {
		t.Fatalf("%s: no Home Assistant base image among %v", platformArch, images)
	}
	want, known := alpineNode[runtime]
	if !known {
		t.Fatalf("Alpine %s: add the Node major its nodejs package ships to alpineNode", runtime)
	}
	for i := range alpines {
		if alpines[i] != runtime {
			t.Errorf("%s: a builder on Alpine %s, the runtime on %s: musl would differ", platformArch, alpines[i], runtime)
		}
		if nodes[i] != fmt.Sprint(want) {
			t.Errorf("%s: a builder on Node %s, while Alpine %s's nodejs is Node %d: the ABI would differ", platformArch, nodes[i], runtime, want)
		}
	}
	if len(nodes) == 0 {
		t.Errorf("%s: no node builder image", platformArch)
	}
}

// compilesNative tells whether a stage builds native modules: it installs a
// compiler or loads a native module. The frontend's npm ci, static files
// built anywhere, does neither.
func compilesNative(execs []buildOp, stage string) bool {
	for _, op := range execs {
		if op.stage == stage && nativeStage.MatchString(op.command()) {
			return true
		}
	}
	return false
}

// stageOf reads the stage's name from the label BuildKit gives each step,
// "[backend-builder 3/9] RUN npm ci".
func stageOf(m llb.OpMetadata) string {
	name := m.Description["llb.customname"]
	if f := stageLabel.FindStringSubmatch(name); f != nil {
		return f[1]
	}
	return name
}

func TestBuildGraph_PerPlatform(t *testing.T) {
	df := dockerfile(t)
	for _, a := range supervisorArchs {
		t.Run(a.buildArch, func(t *testing.T) { checkGraph(t, df, a.buildArch, a.platformArch, nil) })
	}
}

// The seed's pair, Node 18 on Alpine 3.18 (end of life), stays two build
// arguments away and builds as consistently.
func TestBuildGraph_SeedPair(t *testing.T) {
	df := dockerfile(t)
	for _, a := range supervisorArchs {
		t.Run(a.buildArch, func(t *testing.T) {
			checkGraph(t, df, a.buildArch, a.platformArch, map[string]string{"NODE_VERSION": "18", "ALPINE_VERSION": "3.18"})
		})
	}
}
