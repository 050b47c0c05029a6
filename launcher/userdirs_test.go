package launcher_test

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
)

// A folder that cannot be made does not stop the others from being
// given, and its failure names it; a missing folder is made and given;
// giving again gives nothing; a link to a folder outside is not followed. (cmd/launcher's
// TestRun_GivesUserDirsToNodesUser gives a real add-on folder.)
func TestGiveUserDirs(t *testing.T) {
	if os.Getuid() != 0 {
		t.Skip("only root gives files away")
	}
	base := t.TempDir()
	file := filepath.Join(base, "file")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	made := filepath.Join(base, "data", "app")
	nobody := &config.Credential{UID: 65534, GID: 65534, Name: "nobody"}
	n, err := launcher.GiveUserDirs([]string{filepath.Join(file, "x"), made}, nobody, "")
	if n != 1 || err == nil || !strings.Contains(err.Error(), file) {
		t.Errorf("gave %d, %v; want 1 and the folder that cannot be made named", n, err)
	}
	var st unix.Stat_t
	if err := unix.Stat(made, &st); err != nil || st.Uid != 65534 || st.Gid != 65534 {
		t.Errorf("%s: %+v, %v", made, st, err)
	}
	if n, err := launcher.GiveUserDirs([]string{made}, nobody, ""); n != 0 || err != nil {
		t.Errorf("again: gave %d, %v", n, err)
	}
	// A link to a folder outside is given, not followed.
	outside := filepath.Join(base, "outside")
	if err := os.MkdirAll(filepath.Join(outside, "inner"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(outside, filepath.Join(made, "out")); err != nil {
		t.Fatal(err)
	}
	if n, err := launcher.GiveUserDirs([]string{made}, nobody, ""); n != 1 || err != nil {
		t.Errorf("with a link out: gave %d, %v; want the link alone", n, err)
	}
	for _, p := range []string{outside, filepath.Join(outside, "inner")} {
		if err := unix.Stat(p, &st); err != nil || st.Uid != 0 {
			t.Errorf("%s, behind a link, was given: %+v, %v", p, st, err)
		}
	}
}

// What LAUNCHER_USER_DIRS costs each start once given: a walk of the
// folder, an lstat per file, nothing changed. 10,000 files, in this
// machine's page cache.
func BenchmarkGiveUserDirs(b *testing.B) {
	if os.Getuid() != 0 {
		b.Skip("only root gives files away")
	}
	dir := b.TempDir()
	for i := range 100 {
		sub := filepath.Join(dir, fmt.Sprint(i))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for j := range 99 {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprint(j)), nil, 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	nobody := &config.Credential{UID: 65534, GID: 65534}
	if n, err := launcher.GiveUserDirs([]string{dir}, nobody, ""); n != 10001 || err != nil {
		b.Fatalf("gave %d, %v", n, err)
	}
	b.ResetTimer()
	for range b.N {
		if n, err := launcher.GiveUserDirs([]string{dir}, nobody, ""); n != 0 || err != nil {
			b.Fatalf("gave %d, %v", n, err)
		}
	}
}
