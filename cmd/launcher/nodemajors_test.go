package main

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher"
)

// The launcher as PID 1 under each Node major the image can be built with:
// 18 (end of life, a build argument), 20 (this machine's), 22 (Alpine
// 3.21's and 3.22's, a build argument), 24 (the image's default) and 26
// (node:lts-alpine's since October 2026, the next Alpine's likely). Under
// each, node starts behind the gate and reports its own facts, the
// preflight passes the app's real modules built for it, the app loads both
// (bcrypt hashes, better-sqlite3 stores and reads), the launcher sees it
// ready, and SIGTERM ends it with 0.
func TestRun_UnderEachNodeMajor(t *testing.T) {
	const index = `const bcrypt = require('bcrypt');
const db = new (require('better-sqlite3'))(':memory:');
db.exec('CREATE TABLE users (hash TEXT)');
db.prepare('INSERT INTO users VALUES (?)').run(bcrypt.hashSync('secret', 4));
const { hash } = db.prepare('SELECT hash FROM users').get();
require('http').createServer((req, res) => res.end('ok')).listen(Number(process.env.PORT), '127.0.0.1', () => {
  console.log('LOADED ' + process.version + ' ' + bcrypt.compareSync('secret', hash));
});
process.on('SIGTERM', () => { db.close(); process.exit(0); });
`
	for _, c := range []struct {
		major, abi int
	}{
		{18, 108}, {20, 115}, {22, 127}, {24, 137}, {26, 147},
	} {
		t.Run(fmt.Sprint("node", c.major), func(t *testing.T) {
			node := "/usr/bin/node" // this machine's Node 20; the others from make fixtures
			if c.major != 20 {
				node = npmNode(t, c.major)
			}
			app := newApp(t, ">=18", appPackages(t, fmt.Sprint("app", c.major)))
			must(t, os.WriteFile(filepath.Join(app, "index.js"), []byte(index), 0o644))
			b := &nodeBackend{health: freePort(t), app: freePort(t)}
			b.launched = launch(t, launchOpts{namespace: true, env: []string{
				"LAUNCHER_APP_DIR=" + app, "LAUNCHER_NODE=" + node,
				fmt.Sprintf("LAUNCHER_HEALTH_ADDR=127.0.0.1:%d", b.health),
				fmt.Sprintf("LAUNCHER_READY_URL=http://127.0.0.1:%d/", b.app),
				fmt.Sprintf("PORT=%d", b.app),
			}})
			l := b.launched
			l.waitFor("node ready in")
			out := l.stdout.String()
			for _, want := range []string{"node started behind the gate", fmt.Sprintf("LOADED v%d.", c.major), " true\n"} {
				if !strings.Contains(out, want) {
					t.Errorf("log lacks %q:\n%s", want, out)
				}
			}
			if strings.Contains(out, "--version") {
				t.Errorf("node --version ran: node's own report should have replaced it:\n%s", out)
			}
			_, body := b.get("/status")
			var snap launcher.Snapshot
			if err := json.Unmarshal(body, &snap); err != nil || snap.Node == nil ||
				snap.Node.ABI != c.abi || !strings.HasPrefix(snap.Node.Version, fmt.Sprintf("v%d.", c.major)) || snap.State != "ready" {
				t.Errorf("/status (%v): %s", err, body)
			}
			l.signal(syscall.SIGTERM)
			if code := l.wait(15 * time.Second); code != 0 {
				t.Fatalf("SIGTERM: exit %d, want 0\n%s", code, l.stdout)
			}
			if !strings.Contains(l.stdout.String(), "node exited with code 0") {
				t.Errorf("node did not end by its own handler:\n%s", l.stdout)
			}
		})
	}
}
