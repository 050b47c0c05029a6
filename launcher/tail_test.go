package launcher_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher"
)

// node's uncaught error as fetch prints it, with a certificate among its
// properties that runs past the kept lines: the lines naming the error
// are kept apart, the tail has the last lines.
func TestTail_KeepsTheErrorPastItsLines(t *testing.T) {
	tail := launcher.NewTail(5)
	fmt.Fprint(tail, "node:internal/deps/undici/undici:14976\n      Error.captureStackTrace(err);\n            ^\n\nTypeError: fetch failed\n",
		"    at node:internal/deps/undici/undici:14976:13 {\n",
		"  [cause]: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:myhome.duckdns.org\n",
		"      at TLSSocket.onConnectSecure (node:_tls_wrap:1699:34) {\n",
		"    code: 'ERR_TLS_CERT_ALTNAME_INVALID',\n",
		"    reason: \"Host: localhost. is not in the cert's altnames: DNS:myhome.duckdns.org\",\n",
		"    host: 'localhost',\n", "    cert: {\n")
	for i := range 40 {
		fmt.Fprintf(tail, "      raw: %d,\n", i)
	}
	fmt.Fprint(tail, "  }\n}\n\nNode.js v20.20.2\n")
	want := []string{"TypeError: fetch failed",
		"  [cause]: Error [ERR_TLS_CERT_ALTNAME_INVALID]: Hostname/IP does not match certificate's altnames: Host: localhost. is not in the cert's altnames: DNS:myhome.duckdns.org",
		"    code: 'ERR_TLS_CERT_ALTNAME_INVALID',",
		"    reason: \"Host: localhost. is not in the cert's altnames: DNS:myhome.duckdns.org\","}
	if got := tail.Errors(); !slices.Equal(got, want) {
		t.Errorf("Errors() = %q, want %q", got, want)
	}
	if got := tail.Lines(); len(got) != 5 || got[4] != "Node.js v20.20.2" || strings.Contains(strings.Join(got, "\n"), "fetch failed") {
		t.Errorf("Lines() = %q, want the last 5", got)
	}
}

// Which lines name an error, and that only the last 16 are kept.
func TestTail_Errors(t *testing.T) {
	tail := launcher.NewTail(50)
	fmt.Fprint(tail, "Error: getaddrinfo EAI_AGAIN api.example.com\n", "AggregateError [ECONNREFUSED]: \n", "SqliteError: disk I/O error\n",
		"    at Object.<anonymous> (/app/dist/index.js:3:9)\n", "listening on 8099\n", "the Error: in prose\n", "    errno: -3008,\n")
	want := []string{"Error: getaddrinfo EAI_AGAIN api.example.com", "AggregateError [ECONNREFUSED]: ", "SqliteError: disk I/O error"}
	if got := tail.Errors(); !slices.Equal(got, want) {
		t.Errorf("Errors() = %q, want %q", got, want)
	}
	for i := range 20 {
		fmt.Fprintf(tail, "Error: number %d\n", i)
	}
	if got := tail.Errors(); len(got) != 16 || got[0] != "Error: number 4" || got[15] != "Error: number 19" {
		t.Errorf("Errors() = %q, want the last 16", got)
	}
}

// What node's inspector announces on stderr (the launcher's look at a node
// that stopped answering opens it) is no error of node's: it reaches the
// container, but not the tail that a failed exit is reported with. Node
// 18 and 20's words, and 24's (another help page).
func TestTail_LeavesOutTheInspectorsAnnouncements(t *testing.T) {
	tail := launcher.NewTail(50)
	fmt.Fprint(tail, "Error: SQLITE_BUSY: database is locked\n",
		"Debugger listening on ws://127.0.0.1:9229/3e4ae89e-56cb-4b7e-bd91-55cff9c5e99d\n",
		"For help, see: https://nodejs.org/en/docs/inspector\n",
		"Debugger attached.\n",
		"    at Database.prepare (/app/dist/db.js:12:20)\n",
		"Debugger ending on ws://127.0.0.1:9229/3e4ae89e-56cb-4b7e-bd91-55cff9c5e99d\n",
		"For help, see: https://nodejs.org/learn/getting-started/debugging\n",
		"Waiting for the debugger to disconnect...\n",
		"For help, see: the README\n")
	want := []string{"Error: SQLITE_BUSY: database is locked", "    at Database.prepare (/app/dist/db.js:12:20)", "For help, see: the README"}
	if got := tail.Lines(); !slices.Equal(got, want) {
		t.Errorf("Lines() = %q, want %q", got, want)
	}
	// The look that opened the inspector reads its address from them.
	if got := tail.Inspector(); len(got) != 6 || got[0] != "Debugger listening on ws://127.0.0.1:9229/3e4ae89e-56cb-4b7e-bd91-55cff9c5e99d" {
		t.Errorf("Inspector() = %q, want its six lines", got)
	}
}

// FuzzTail writes node's stderr, any bytes in any chunks, to a Tail: it
// never panics (it runs in the relay of node's stderr, where a panic would
// end the launcher, PID 1), and keeps the input's last lines, each cut at
// 1024 bytes, with the unfinished one last, and of those that name an
// error no more than 16.
func FuzzTail(f *testing.F) {
	f.Add([]byte("TypeError: fetch failed\n    at node:internal/deps/undici:1:1 {\n  [cause]: Error: connect ECONNREFUSED 172.30.32.1:8123\n    code: 'ECONNREFUSED',\n}\nNode.js v20.20.2\n"), uint8(7), uint8(3))
	f.Add([]byte("no newline at the end"), uint8(0), uint8(1))
	f.Add([]byte("\n\n\r\n\x00\xff\n"), uint8(1), uint8(1))
	f.Add([]byte(strings.Repeat("x", 3000)+"\n"+strings.Repeat("Error: y", 200)), uint8(200), uint8(2))
	f.Add([]byte("Debugger listening on ws://127.0.0.1:9229/x\nFor help, see: https://nodejs.org/en/docs/inspector\nDebugger attached.\nError: z\nDebugger attached."), uint8(5), uint8(2))
	f.Fuzz(func(t *testing.T, data []byte, chunk, keepN uint8) {
		keepLines := int(keepN%8) + 1
		tail := launcher.NewTail(keepLines)
		step := int(chunk) + 1
		for i := 0; i < len(data); i += step {
			if n, err := tail.Write(data[i:min(i+step, len(data))]); err != nil || n != min(step, len(data)-i) {
				t.Fatalf("Write = %d, %v", n, err)
			}
		}
		var want []string
		lines := strings.Split(string(data), "\n")
		for _, l := range lines[:len(lines)-1] {
			if l = l[:min(len(l), 1024)]; !launcher.InspectorSays(l) {
				want = append(want, l)
			}
		}
		want = want[max(0, len(want)-keepLines):]
		if last := lines[len(lines)-1]; last != "" {
			want = append(want, last[:min(len(last), 1024)])
		}
		if got := tail.Lines(); !slices.Equal(got, want) {
			t.Fatalf("Lines() = %q, want %q", got, want)
		}
		if errs := tail.Errors(); len(errs) > 16 {
			t.Fatalf("%d lines naming an error kept, want at most 16", len(errs))
		}
	})
}
