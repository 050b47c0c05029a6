package config_test

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/config"
)

func TestOptionsEnv(t *testing.T) {
	opts, err := config.ParseOptions([]byte(`{
		"admin_username": "admin",
		"admin_password": "s3cr3t with spaces",
		"port": 8099,
		"ratio": 1.50,
		"debug": false,
		"nothing": null,
		"db-path": "/data/hasync.db",
		"hosts": ["a", "b"],
		"nested": {"k": [1, 2], "x": "y"},
		"ALREADY": "from options"
	}`))
	if err != nil {
		t.Fatal(err)
	}
	vars, names := opts.Env(map[string]string{"ALREADY": "from the environment"})
	want := []string{
		"ADMIN_PASSWORD=s3cr3t with spaces",
		"ADMIN_USERNAME=admin",
		"DB_PATH=/data/hasync.db",
		"DEBUG=false",
		`HOSTS=["a","b"]`,
		`NESTED={"k":[1,2],"x":"y"}`,
		"NOTHING=",
		"PORT=8099",
		"RATIO=1.50",
	}
	if !reflect.DeepEqual(vars, want) {
		t.Errorf("vars:\n got %q\nwant %q", vars, want)
	}
	if strings.Join(names, ",") != "ADMIN_PASSWORD,ADMIN_USERNAME,DB_PATH,DEBUG,HOSTS,NESTED,NOTHING,PORT,RATIO" {
		t.Errorf("names = %v", names)
	}
}

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"admin_username": "ADMIN_USERNAME",
		"db-path":        "DB_PATH",
		"a.b c":          "A_B_C",
		"x9":             "X9",
		"ümlaut":         "_MLAUT",
	} {
		if got := config.EnvName(in); got != want {
			t.Errorf("EnvName(%q) = %q, want %q", in, got, want)
		}
	}
}

// Every malformed file gets a message that says what is wrong and where.
func TestParseOptions_Bad(t *testing.T) {
	for _, c := range []struct {
		name, data, says string
	}{
		{"empty", "", "empty"},
		{"blank", " \n\t", "empty"},
		{"array", `[1,2]`, "top level is a JSON array"},
		{"string", `"x"`, "top level is a JSON string"},
		{"null", `null`, "null"},
		{"truncated", "{\n\"a\": 1,\n\"b\":", "ends early, at line 3"},
		{"syntax", "{\n\"a\": 1,\n\"b\" 2}", "line 3, column 5"},
		{"trailing", `{"a":1} {"b":2}`, "after the JSON object"},
		{"not utf-8", "{\"a\": \"\xff\xfe\"}", "not UTF-8 text at line 1, column 8"},
		{"deep", strings.Repeat(`{"a":`, 20000) + "1" + strings.Repeat("}", 20000), "invalid JSON"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.ParseOptions([]byte(c.data))
			if err == nil || !strings.Contains(err.Error(), c.says) {
				t.Errorf("want an error saying %q, got %v", c.says, err)
			}
		})
	}
}

func TestReadOptions(t *testing.T) {
	dir := t.TempDir()
	if opts, err := config.ReadOptions(filepath.Join(dir, "missing.json")); err != nil || opts.Path != "" {
		t.Errorf("a missing file is fine: %+v, %v", opts, err)
	}
	big := filepath.Join(dir, "big.json")
	if err := os.WriteFile(big, []byte(`{"a":"`+strings.Repeat("x", 10<<20)+`"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := config.ReadOptions(big); err == nil || !strings.Contains(err.Error(), big) || !strings.Contains(err.Error(), "larger than") {
		t.Errorf("10 MB file: %v", err)
	}
	if _, err := config.ReadOptions(dir); err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("a folder: %v", err)
	}
}
