package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/preflight"
	"golang.org/x/sys/unix"
)

// node in secure-execution mode, as the preflight judges it. The kernel
// marks node's exec secure when its file's capabilities raise a user other
// than root (node-raw: cap_net_raw, as Bluetooth libraries ask; node-bind:
// cap_net_bind_service, to listen on a port below 1024). There the loader
// ignores LD_LIBRARY_PATH and LD_PRELOAD, and node, unless it holds
// cap_net_bind_service alone, NODE_OPTIONS and NODE_EXTRA_CA_CERTS. So an
// addon whose library only LD_LIBRARY_PATH finds does not load: the check
// fails it. A preload NODE_OPTIONS names that is not there fails no start:
// the check does not fail it, and warns of every variable that does
// nothing. The premises are node's own: each node is run as the launcher
// would run it, and must behave so.
func TestCheck_NodeInSecureExecution(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("file capabilities and another user need root")
	}
	if _, err := exec.LookPath("gcc"); err != nil {
		t.Skip("gcc builds the addon and its library")
	}
	base, _ := addonData(t)
	raw, bind := cappedNode(t, base, "node-raw", unix.CAP_NET_RAW), cappedNode(t, base, "node-bind", unix.CAP_NET_BIND_SERVICE)
	plain, err := exec.LookPath("node")
	must(t, err)

	// An addon that needs libfoo.so, which only LD_LIBRARY_PATH finds.
	lib := filepath.Join(base, "lib")
	must(t, os.Mkdir(lib, 0o755))
	app := filepath.Join(base, "app")
	release := filepath.Join(app, "node_modules", "foo", "build", "Release")
	must(t, os.MkdirAll(release, 0o755))
	libSrc, addonSrc := filepath.Join(base, "libfoo.c"), filepath.Join(base, "foo.c")
	must(t, os.WriteFile(libSrc, []byte("int foo(void) { return 42; }\n"), 0o644))
	must(t, os.WriteFile(addonSrc, []byte("extern int foo(void);\ntypedef void *napi_env, *napi_value;\n"+
		"napi_value napi_register_module_v1(napi_env env, napi_value exports) { foo(); return exports; }\n"), 0o644))
	for _, build := range [][]string{
		{"gcc", "-shared", "-fPIC", "-o", filepath.Join(lib, "libfoo.so"), libSrc},
		{"gcc", "-shared", "-fPIC", "-o", filepath.Join(release, "foo.node"), addonSrc, "-L" + lib, "-lfoo"},
	} {
		if out, err := exec.Command(build[0], build[1:]...).CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", strings.Join(build, " "), err, out)
		}
	}
	must(t, os.WriteFile(filepath.Join(app, "node_modules", "foo", "package.json"), []byte(`{"name":"foo","version":"1.0.0","main":"build/Release/foo.node"}`), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"app","engines":{"node":">=18"}}`), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("require('foo');\nconsole.log('loaded');\n"), 0o644))

	env := []string{"LD_LIBRARY_PATH=" + lib, "NODE_OPTIONS=--require ./absent.js", "LD_PRELOAD=/absent.so", "NODE_EXTRA_CA_CERTS=/absent.pem"}
	for _, c := range []struct {
		name, node string
		// said is how node, run as the launcher runs it, fails (or
		// "loaded"): the premise.
		said string
		code int
		// checks are the checks' statuses; what each says, below.
		checks  map[string]preflight.CheckStatus
		ignored []string // the variables secure-execution names
	}{
		{"without capabilities", plain, "Cannot find module './absent.js'", 3,
			map[string]preflight.CheckStatus{"entry": preflight.StatusFail, "native:foo": preflight.StatusPass, "ld-preload": preflight.StatusWarn}, nil},
		{"cap_net_raw", raw, "libfoo.so: cannot open shared object file", 3,
			map[string]preflight.CheckStatus{"entry": preflight.StatusPass, "native:foo": preflight.StatusFail, "secure-execution": preflight.StatusWarn},
			[]string{"NODE_OPTIONS", "NODE_EXTRA_CA_CERTS", "LD_LIBRARY_PATH", "LD_PRELOAD"}},
		{"cap_net_bind_service", bind, "Cannot find module './absent.js'", 3,
			map[string]preflight.CheckStatus{"entry": preflight.StatusFail, "native:foo": preflight.StatusFail, "secure-execution": preflight.StatusWarn},
			[]string{"LD_LIBRARY_PATH", "LD_PRELOAD"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			cmd := exec.Command(c.node, "index.js")
			cmd.Dir, cmd.Env = app, append(os.Environ(), env...)
			cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
			if out, _ := cmd.CombinedOutput(); !strings.Contains(string(out), c.said) {
				t.Fatalf("premise: %s as nobody printed %q, want %q", c.node, out, c.said)
			}
			code, r := runCheck(t, app, append(env, "LAUNCHER_NODE="+c.node, "LAUNCHER_USER=nobody", "LAUNCHER_NATIVE_MODULES=foo")...)
			if code != c.code {
				t.Errorf("exit %d, want %d: %+v", code, c.code, r.Checks)
			}
			for _, check := range r.Checks {
				want, ok := c.checks[check.Name]
				if check.Name == "secure-execution" || check.Name == "ld-preload" || ok {
					if check.Status != want {
						t.Errorf("%s: %s, want %q: %s", check.Name, check.Status, want, check.Detail)
					}
					delete(c.checks, check.Name)
				}
			}
			for name := range c.checks {
				t.Errorf("no %s check: %+v", name, r.Checks)
			}
			for _, check := range r.Checks {
				switch check.Name {
				case "native:foo":
					if check.Status == preflight.StatusFail && !strings.Contains(check.Detail, "libfoo.so") ||
						check.Status == preflight.StatusFail && !strings.Contains(check.Hint, "LD_LIBRARY_PATH, which the loader ignores") {
						t.Errorf("native:foo does not say that libfoo.so is not found where the loader looks: %+v", check)
					}
				case "secure-execution":
					for _, v := range c.ignored {
						if !strings.Contains(check.Detail, v) {
							t.Errorf("secure-execution does not name %s: %s", v, check.Detail)
						}
					}
					if !strings.Contains(check.Detail, "uid 65534") || strings.Contains(check.Hint, "LAUNCHER_NODE_ARGS") != slices.Contains(c.ignored, "NODE_OPTIONS") {
						t.Errorf("secure-execution does not say why, and the way out: %+v", check)
					}
				}
			}
		})
	}
}

// The same judgement by the launcher built for arm64, in Debian's arm64
// root, of that root's node given cap_net_raw and run as nobody: the check
// reads the file's mode, its filesystem and its capabilities through
// arm64's system calls and structures. NODE_OPTIONS' missing preload is
// not failed, as node would not load it; without the capability it is.
// (Under emulation the kernel applies the capabilities of qemu's file, not
// of node's: binfmt_misc's entry here lacks the C flag. So node's own
// behaviour in that mode is proven above, on this machine's node.)
func TestCheck_NodeInSecureExecution_Arm64(t *testing.T) {
	requireArm64(t)
	root := debianRoot(t, "arm64")
	app := newApp(t, ">=18", nil)
	bin, appDir := inRoot(t, root, app)
	must(t, os.Chmod(filepath.Join(root, filepath.Dir(appDir)), 0o755)) // nobody reaches the app
	node := besideApp(t, root, appDir, filepath.Join(root, "usr", "bin", "node"))
	env := []string{"LAUNCHER_APP_DIR=" + appDir, "LAUNCHER_NODE=" + node, "LAUNCHER_USER=65534",
		"NODE_OPTIONS=--require ./absent.js", "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL="}
	check := func() (int, preflight.Report) {
		out, code := chroot(t, root, env, bin, "check", "--json")
		var r preflight.Report
		if err := json.Unmarshal(out, &r); err != nil {
			t.Fatalf("check --json printed no report (%v):\n%s", err, out)
		}
		return code, r
	}
	code, r := check()
	if code != 3 {
		t.Errorf("without capabilities: exit %d, want 3: %+v", code, r.Checks)
	}
	expectCheck(t, r, "entry", preflight.StatusFail, []string{"absent.js"}, nil)

	setcap(t, filepath.Join(root, node), unix.CAP_NET_RAW, true)
	code, r = check()
	if code != 0 {
		t.Errorf("with cap_net_raw: exit %d, want 0: %+v", code, r.Checks)
	}
	expectCheck(t, r, "entry", preflight.StatusPass, nil, nil)
	expectCheck(t, r, "secure-execution", preflight.StatusWarn, []string{"its file has capabilities (cap_net_raw) that raise uid 65534", "NODE_OPTIONS"}, []string{"LAUNCHER_NODE_ARGS"})
}

// node whose file has a capability the container lacks (its bounding set:
// a capability Docker does not give by default, such as cap_net_admin,
// which Home Assistant gives an add-on only when config.yaml's privileged
// lists it; or one a run dropped) cannot be started at all, not even by
// root: the kernel refuses to run a file whose effective capabilities it
// cannot all grant (EPERM). The check, a start after it and a start of
// `run -- CMD` say so and name the capability and the fix, where they said
// "operation not permitted" and to reinstall node.
func TestRun_NodeWithACapabilityTheContainerLacks(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("file capabilities need root")
	}
	base, _ := addonData(t)
	app := filepath.Join(base, "app")
	must(t, os.Mkdir(app, 0o755))
	must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte("console.log('app loaded')\n"), 0o644))
	must(t, os.WriteFile(filepath.Join(app, "package.json"), []byte(`{"name":"app"}`), 0o644))
	for _, c := range []struct {
		name string
		cap  uint
		drop string // from the bounding set, as setpriv names it
		fix  string
	}{
		{"cap_net_admin", unix.CAP_NET_ADMIN, "-net_admin", "privileged: [NET_ADMIN]"},
		{"cap_net_bind_service", unix.CAP_NET_BIND_SERVICE, "-net_bind_service", "--cap-add NET_BIND_SERVICE"},
	} {
		t.Run(c.name, func(t *testing.T) {
			node := cappedNode(t, base, "node-"+c.name, c.cap)
			under := []string{"setpriv", "--bounding-set", c.drop}
			// The premise: so started, as root, node does not run.
			premise := exec.Command(under[0], append(under[1:], node, "--version")...)
			if out, err := premise.CombinedOutput(); err == nil || !strings.Contains(string(out), "Operation not permitted") {
				t.Fatalf("%s --version without %s in the bounding set: %v: %s", node, c.name, err, out)
			}
			cause := "its file has the capabilities " + c.name + ", of which " + c.name + " is not in this container's bounding set"
			env := []string{"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + node, "LAUNCHER_NATIVE_MODULES=", "LAUNCHER_READY_URL=", never}
			code, r := checkReport(t, launchOpts{args: []string{"check", "--json"}, env: env, under: under})
			if code != 3 {
				t.Errorf("check: exit %d, want 3", code)
			}
			expectCheck(t, r, "node", preflight.StatusFail, []string{cause}, []string{c.fix, "setcap -r"})

			l := launch(t, launchOpts{env: env, under: under})
			if code := l.wait(30 * time.Second); code != 3 {
				t.Errorf("run: exit %d, want 3\n%s", code, l.stdout)
			}
			logHas(t, l.stdout.String(), cause, c.fix)

			l = launch(t, launchOpts{args: []string{"run", "--", node, "-e", "1"}, env: env, under: under})
			if code := l.wait(30 * time.Second); code != 126 {
				t.Errorf("run -- node: exit %d, want 126\n%s", code, l.stdout)
			}
			logHas(t, l.stdout.String(), "cannot start node-"+c.name+": "+"the kernel refuses to run it", cause, c.fix)
		})
	}
}
