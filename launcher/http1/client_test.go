package http1_test

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/http1"
)

// Get against net/http's server: the request it sends is whole (path and
// query, Host, Basic authorization from the URL's user information, no
// keep-alive), and the answers come back as net/http framed them.
func TestGet_AgainstNetHTTP(t *testing.T) {
	seen := make(chan *http.Request, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		seen <- r
		switch r.URL.Path {
		case "/chunked":
			w.Write([]byte("first "))
			w.(http.Flusher).Flush() // makes the body chunked
			w.Write([]byte("second"))
		case "/moved":
			http.Redirect(w, r, "/elsewhere", http.StatusFound)
		case "/big":
			w.Write([]byte(strings.Repeat("x", 100<<10)))
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		default:
			w.Write([]byte("hello"))
		}
	}))
	defer srv.Close()
	base := strings.Replace(srv.URL, "http://", "http://user:p%40ss@", 1)
	for _, c := range []struct {
		path, status, body string
		max                int
	}{
		{"/health?x=1&y=2", "200 OK", "hello", 1 << 10},
		{"/chunked", "200 OK", "first second", 1 << 10},
		{"/chunked", "200 OK", "first se", 8},
		{"/moved", "302 Found", "", 0},
		{"/big", "200 OK", strings.Repeat("x", 1000), 1000},
		{"/empty", "204 No Content", "", 1 << 10},
	} {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		resp, err := http1.Get(ctx, base+c.path, c.max)
		cancel()
		if err != nil {
			t.Fatalf("GET %s: %v", c.path, err)
		}
		if resp.Status != c.status || string(resp.Body) != c.body {
			t.Errorf("GET %s = %q %q, want %q %q", c.path, resp.Status, resp.Body, c.status, c.body)
		}
		r := <-seen
		user, pass, ok := r.BasicAuth()
		if r.Method != "GET" || r.RequestURI != c.path || r.Host != srv.Listener.Addr().String() ||
			!ok || user != "user" || pass != "p@ss" || !r.Close {
			t.Errorf("GET %s arrived as %s %s Host %s auth %q %q %v close %v", c.path, r.Method, r.RequestURI, r.Host, user, pass, ok, r.Close)
		}
	}
}

// A server that accepts and never answers: Get ends with its context,
// and says so.
func TestGet_EndsWithItsContext(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	_, err = http1.Get(ctx, "http://"+ln.Addr().String()+"/", 1<<10)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Get of a silent server = %v, want the context's deadline", err)
	}
	ctx, cancel = context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { _, err := http1.Get(ctx, "http://"+ln.Addr().String()+"/", 1<<10); done <- err }()
	cancel()
	if err := <-done; !errors.Is(err, context.Canceled) {
		t.Errorf("Get cancelled = %v, want context.Canceled", err)
	}
}

func TestGet_RefusesWhatItDoesNotSpeak(t *testing.T) {
	for _, u := range []string{"https://127.0.0.1/", "ftp://x/", "http:///path", "::"} {
		if _, err := http1.Get(context.Background(), u, 1); err == nil {
			t.Errorf("Get(%q) succeeded", u)
		}
	}
}

func TestReadResponse(t *testing.T) {
	for _, c := range []struct {
		name, in string
		max      int
		code     int
		body     string
		err      string
	}{
		{"sized", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 10, 200, "hello", ""},
		{"sized, cut at max", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", 2, 200, "he", ""},
		{"to the end", "HTTP/1.0 503 Service Unavailable\r\n\r\ndown", 10, 503, "down", ""},
		{"chunked with extension and trailer", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n2\r\nde\r\n0\r\nT: 1\r\n\r\n", 10, 200, "abcde", ""},
		{"interim answers skipped", "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", 10, 200, "ok", ""},
		{"no reason phrase", "HTTP/1.1 204\r\n\r\n", 10, 204, "", ""},
		{"bare line feeds", "HTTP/1.1 200 OK\nContent-Length: 2\n\nok", 10, 200, "ok", ""},
		{"short body", "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhel", 10, 0, "", "unexpected EOF"},
		{"not HTTP", "SSH-2.0-OpenSSH\r\n\r\n", 10, 0, "", "malformed status line"},
		{"bad code", "HTTP/1.1 2x0 OK\r\n\r\n", 10, 0, "", "malformed status line"},
		{"bad length", "HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", 10, 0, "", "Content-Length"},
		{"bad chunk", "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", 10, 0, "", "chunk size"},
		{"gzip", "HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", 10, 0, "", "transfer encoding"},
		{"header too large", "HTTP/1.1 200 OK\r\nX: " + strings.Repeat("y", 9000) + "\r\n\r\n", 10, 0, "", "too large"},
		{"no header end", "HTTP/1.1 200 OK\r\nX: y", 10, 0, "", "unexpected EOF"},
		{"empty", "", 10, 0, "", "EOF"},
	} {
		resp, err := http1.ReadResponse(bufio.NewReader(strings.NewReader(c.in)), c.max)
		switch {
		case c.err != "" && (err == nil || !strings.Contains(err.Error(), c.err)):
			t.Errorf("%s: err %v, want one saying %q", c.name, err, c.err)
		case c.err == "" && err != nil:
			t.Errorf("%s: %v", c.name, err)
		case c.err == "" && (resp.StatusCode != c.code || string(resp.Body) != c.body):
			t.Errorf("%s: %d %q, want %d %q", c.name, resp.StatusCode, resp.Body, c.code, c.body)
		}
	}
}

// FuzzReadResponse: any bytes from a peer end in an answer or an error,
// never a panic or a body over the bound.
func FuzzReadResponse(f *testing.F) {
	f.Add("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
	f.Add("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3;x=y\r\nabc\r\n0\r\n\r\n")
	f.Add("HTTP/1.1 100 Continue\r\n\r\nHTTP/1.0 404 Not Found\r\n\r\nnope")
	f.Fuzz(func(t *testing.T, in string) {
		resp, err := http1.ReadResponse(bufio.NewReaderSize(strings.NewReader(in), 4096), 16)
		if err == nil && len(resp.Body) > 16 {
			t.Fatalf("a body of %d bytes, over the bound of 16", len(resp.Body))
		}
	})
}

// Upgrade against net/http's server taking the connection over (Hijack),
// as a WebSocket server does: the request asks for websocket with the
// key, the 101's fields are read, and what the server writes after its
// answer is the caller's to read. A server that answers otherwise is
// refused, with its status.
func TestUpgrade_AgainstNetHTTP(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/ws" || r.Header.Get("Upgrade") != "websocket" || r.Header.Get("Connection") != "Upgrade" ||
			r.Header.Get("Sec-WebSocket-Version") != "13" || r.Header.Get("Sec-WebSocket-Key") != "a2V5" {
			http.Error(w, "not a WebSocket", http.StatusBadRequest)
			return
		}
		c, rw, _ := w.(http.Hijacker).Hijack()
		defer c.Close()
		rw.WriteString("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: yes\r\n\r\nafter")
		rw.Flush()
	}))
	defer srv.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, r, resp, err := http1.Upgrade(ctx, strings.Replace(srv.URL, "http://", "ws://", 1)+"/ws", "a2V5")
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if resp.StatusCode != 101 || resp.Field("sec-websocket-accept") != "yes" || resp.Field("Sec-WebSocket-Accept") != "yes" {
		t.Errorf("answer %d, Sec-WebSocket-Accept %q", resp.StatusCode, resp.Field("Sec-WebSocket-Accept"))
	}
	if b := make([]byte, 5); func() bool { _, err := io.ReadFull(r, b); return err != nil || string(b) != "after" }() {
		t.Errorf("what the server sent after its answer was not left to read")
	}
	if _, _, resp, err := http1.Upgrade(ctx, srv.URL+"/other", "a2V5"); err == nil || resp == nil || !strings.Contains(err.Error(), "answered 400 Bad Request, not 101") {
		t.Errorf("a 400: %v", err)
	}
}
