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
