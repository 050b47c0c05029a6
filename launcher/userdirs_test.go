package launcher_test

import (
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
// giving again gives nothing. (cmd/launcher's
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
}
