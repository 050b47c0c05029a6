package addon_test

import (
	"fmt"
	"os"
	"regexp"
	"strings"
	"testing"
	"time"

	"gopkg.in/yaml.v3"
)

// The keys the add-on linter's schema allows (additionalProperties: false),
// and the defaults it declares: a key set to its default is a linter error.
var (
	linterKeys = strings.Fields(`advanced apparmor arch audio auth_api auto_uart backup backup_exclude backup_post
		backup_pre boot breaking_versions codenotary description devices devicetree discovery docker_api environment
		full_access gpio hassio_api hassio_role homeassistant homeassistant_api host_dbus host_ipc host_network host_pid
		host_uts image ingress ingress_entry ingress_port ingress_stream init journald kernel_modules legacy machine map
		name options panel_admin panel_icon panel_title ports ports_description privileged realtime schema services slug
		stage startup stdin timeout tmpfs uart udev ulimits url usb version video watchdog webui`)
	linterDefaults = map[string]any{
		"advanced": false, "apparmor": true, "audio": false, "auth_api": false, "auto_uart": false, "backup": "hot",
		"boot": "auto", "devicetree": false, "docker_api": false, "full_access": false, "gpio": false, "hassio_api": false,
		"hassio_role": "default", "homeassistant": false, "homeassistant_api": false, "host_dbus": false, "host_ipc": false,
		"host_network": false, "host_pid": false, "host_uts": false, "ingress": false, "ingress_port": 8099,
		"ingress_stream": false, "init": true, "journald": false, "kernel_modules": false, "legacy": false,
		"panel_admin": true, "panel_icon": "mdi:puzzle", "realtime": false, "stage": "stable", "startup": "application",
		"stdin": false, "timeout": 10, "tmpfs": false, "uart": false, "udev": false, "usb": false, "video": false,
	}
	// The Supervisor: supervisor/apps/validate.py and options.py.
	slugRE          = regexp.MustCompile(`^[-_.A-Za-z0-9]+$`)
	portRE          = regexp.MustCompile(`^\d+(?:/tcp|/udp)?$`)
	schemaElementRE = regexp.MustCompile(`^(?:bool|email|url|port|str(?:\(\d*,\d*\))?|password(?:\(\d*,\d*\))?|int(?:\([-\d]*,[-\d]*\))?|float(?:\([-.\d]*,[-.\d]*\))?|match\(.+\)|list\(([^)]+)\)|device(?:\(.*\))?)\??$`)
	supportedArch   = []string{"aarch64", "amd64"}
	deprecatedArch  = []string{"armhf", "armv7", "i386"}
)

func readConfig(t *testing.T) map[string]any {
	t.Helper()
	b, err := os.ReadFile("../config.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(b, &cfg); err != nil {
		t.Fatalf("config.yaml is not YAML: %v", err)
	}
	return cfg
}

func TestConfig_RequiredAndAllowedKeys(t *testing.T) {
	cfg := readConfig(t)
	for _, k := range []string{"name", "version", "slug", "description", "arch"} {
		if _, ok := cfg[k]; !ok {
			t.Errorf("required key %q missing", k)
		}
	}
	allowed := map[string]bool{}
	for _, k := range linterKeys {
		allowed[k] = true
	}
	for k := range cfg {
		if !allowed[k] {
			t.Errorf("key %q is not in the linter's schema", k)
		}
	}
	if v, ok := cfg["version"].(string); !ok || v == "" {
		t.Errorf("version must be a string: %#v", cfg["version"])
	}
	if s, _ := cfg["slug"].(string); !slugRE.MatchString(s) {
		t.Errorf("slug %q", s)
	}
	for _, a := range cfg["arch"].([]any) {
		switch {
		case contains(supportedArch, a.(string)):
		case contains(deprecatedArch, a.(string)):
			t.Errorf("arch %s is deprecated", a)
		default:
			t.Errorf("arch %s is not one the Supervisor knows", a)
		}
	}
}

func contains(list []string, v string) bool {
	for _, s := range list {
		if s == v {
			return true
		}
	}
	return false
}

func TestConfig_LinterRules(t *testing.T) {
	cfg := readConfig(t)
	for k, def := range linterDefaults {
		if v, ok := cfg[k]; ok && fmt.Sprint(v) == fmt.Sprint(def) {
			t.Errorf("'%s' should be removed, it uses a default value", k)
		}
	}
	if _, ok := cfg["watchdog"]; ok {
		t.Errorf("'watchdog' is obsolete: the Dockerfile's HEALTHCHECK replaces it")
	}
	if _, ok := cfg["webui"]; ok && cfg["ingress"] == true {
		t.Errorf("webui with ingress")
	}
	for _, k := range []string{"auto_uart", "codenotary"} {
		if _, ok := cfg[k]; ok {
			t.Errorf("%s is rejected by the linter", k)
		}
	}
}

// The launcher is PID 1, and the stop fits in the Supervisor's timeout.
func TestConfig_InitAndTimeout(t *testing.T) {
	cfg := readConfig(t)
	if cfg["init"] != false {
		t.Errorf("init must be false: the launcher is PID 1 (got %v)", cfg["init"])
	}
	timeout := 10
	if v, ok := cfg["timeout"]; ok {
		timeout = v.(int)
		if timeout < 10 || timeout > 300 {
			t.Errorf("timeout %d outside the Supervisor's 10..300", timeout)
		}
	}
	stop := 8 * time.Second // LAUNCHER_STOP_TIMEOUT's default
	if b, err := os.ReadFile("../Dockerfile"); err == nil {
		if m := regexp.MustCompile(`LAUNCHER_STOP_TIMEOUT=(\S+)`).FindSubmatch(b); m != nil {
			if d, err := time.ParseDuration(string(m[1])); err == nil {
				stop = d
			}
		}
	}
	if time.Duration(timeout)*time.Second < stop+2*time.Second {
		t.Errorf("timeout %ds must be at least LAUNCHER_STOP_TIMEOUT (%s) + 2 s", timeout, stop)
	}
}

func TestConfig_PortsAndOptions(t *testing.T) {
	cfg := readConfig(t)
	ports, _ := cfg["ports"].(map[string]any)
	if _, ok := ports["8099/tcp"]; !ok {
		t.Errorf("ports lacks 8099/tcp: %v", ports)
	}
	for k, v := range ports {
		if !portRE.MatchString(k) {
			t.Errorf("port %q", k)
		}
		if _, isInt := v.(int); v != nil && !isInt {
			t.Errorf("port %s maps to %#v, want a host port or null", k, v)
		}
	}
	desc, _ := cfg["ports_description"].(map[string]any)
	for k := range ports {
		if desc[k] == nil {
			t.Errorf("port %s has no description", k)
		}
	}
	options, _ := cfg["options"].(map[string]any)
	schema, _ := cfg["schema"].(map[string]any)
	want := map[string]string{
		"log_level":      "list(trace|debug|info|notice|warning|error|fatal)?",
		"admin_username": "str",
		"admin_password": "password",
		"database_path":  "str",
	}
	for k, w := range want {
		if schema[k] != w {
			t.Errorf("schema %s = %v, want %s", k, schema[k], w)
		}
	}
	for k, el := range schema {
		m := schemaElementRE.FindStringSubmatch(el.(string))
		if m == nil {
			t.Errorf("schema %s: %q is not a Supervisor schema element", k, el)
			continue
		}
		v, set := options[k]
		if !set {
			if !strings.HasSuffix(el.(string), "?") {
				t.Errorf("option %s is required by the schema but has no default", k)
			}
			continue
		}
		if m[1] != "" && !contains(strings.Split(m[1], "|"), fmt.Sprint(v)) {
			t.Errorf("option %s = %v is not in %s", k, v, el)
		}
	}
	for k := range options {
		if _, ok := schema[k]; !ok {
			t.Errorf("option %s has no schema: the Supervisor drops it", k)
		}
	}
}

// Ingress: on, to the port the backend listens on, and no host port by
// default (the page is reached through Home Assistant's login).
func TestConfig_Ingress(t *testing.T) {
	cfg := readConfig(t)
	if cfg["ingress"] != true {
		t.Fatalf("ingress is %v, want true: the add-on opens from the sidebar", cfg["ingress"])
	}
	port := 8099 // the linter's and the Supervisor's default
	if v, ok := cfg["ingress_port"].(int); ok {
		port = v
	}
	src, err := os.ReadFile("../rootfs/app/backend/src/config.ts")
	if err != nil {
		t.Fatal(err)
	}
	if m := regexp.MustCompile(`env\.PORT \?\? (\d+)`).FindSubmatch(src); m == nil || string(m[1]) != fmt.Sprint(port) {
		t.Errorf("ingress_port %d is not the backend's default port (%s)", port, m)
	}
	if icon, _ := cfg["panel_icon"].(string); !strings.HasPrefix(icon, "mdi:") {
		t.Errorf("panel_icon %q, want an mdi: icon", icon)
	}
	ports, _ := cfg["ports"].(map[string]any)
	if v, ok := ports[fmt.Sprintf("%d/tcp", port)]; !ok || v != nil {
		t.Errorf("ports %d/tcp = %v, want null: no host port unless the user maps one", port, v)
	}
}

// Backups: the backend keeps its SQLite database in /data in WAL mode, and
// a hot backup is a tar of /data taken while the backend writes: the
// database file and its write-ahead log copied at different moments (a
// checkpoint between them, or a write during either) restore as a database
// that lost its last transactions or is corrupt. A cold backup stops the
// add-on first (the backend closes the database, which folds the log into
// the file), copies /data, and starts it again. A hot backup would need
// backup_pre and backup_post commands that hold the backend's writes.
func TestConfig_BackupKeepsTheDatabaseWhole(t *testing.T) {
	cfg := readConfig(t)
	src, err := os.ReadFile("../rootfs/app/backend/src/db.ts")
	if err != nil {
		t.Fatal(err)
	}
	if !regexp.MustCompile(`journal_mode\s*=\s*WAL`).Match(src) {
		t.Skip("the backend no longer uses SQLite's WAL: see whether a hot backup is safe now")
	}
	_, pre := cfg["backup_pre"]
	_, post := cfg["backup_post"]
	if cfg["backup"] != "cold" && !(pre && post) {
		t.Errorf("backup is %v: a hot backup copies the SQLite database and its WAL while the backend writes; want backup: cold", cfg["backup"])
	}
}
