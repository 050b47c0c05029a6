package http1_test

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hasync/launcher/launcher/bug"
	"github.com/hasync/launcher/launcher/http1"
)

// start serves routes on a loopback port until the test ends.
func start(t *testing.T, s *http1.Server) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{})
	go func() { defer close(done); s.Serve(ln) }()
	t.Cleanup(func() { ln.Close(); <-done })
	return ln.Addr().String()
}

func hello() http1.Reply {
	return http1.Reply{Code: 200, ContentType: "text/plain", Body: []byte("hello\n")}
}

// net/http's client, with keep-alive as it comes, reads every answer.
func TestServer_AnswersNetHTTP(t *testing.T) {
	addr := start(t, &http1.Server{Routes: map[string]func() http1.Reply{"/hello": hello}, ReadTimeout: time.Second})
	for _, c := range []struct {
		method, path string
		code         int
		body         string
	}{
		{"GET", "/hello", 200, "hello\n"},
		{"GET", "/hello?verbose=1", 200, "hello\n"},
		{"HEAD", "/hello", 200, ""},
		{"POST", "/hello", 405, "405 method not allowed\n"},
		{"GET", "/hello/", 404, "404 not found\n"},
		{"GET", "/", 404, "404 not found\n"},
	} {
		for range 2 { // the second on a connection the client may try to reuse
			var body io.Reader
			if c.method == "POST" { // a body the server does not read
				body = strings.NewReader(strings.Repeat("b", 100<<10))
			}
			req, _ := http.NewRequest(c.method, "http://"+addr+c.path, body)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("%s %s: %v", c.method, c.path, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || string(got) != c.body || resp.Header.Get("Cache-Control") != "no-store" {
				t.Errorf("%s %s = %d %q %v, want %d %q", c.method, c.path, resp.StatusCode, got, resp.Header, c.code, c.body)
			}
			if c.code == 405 && resp.Header.Get("Allow") != "GET, HEAD" {
				t.Errorf("405 with Allow %q", resp.Header.Get("Allow"))
			}
			if c.method == "HEAD" && resp.ContentLength != 6 {
				t.Errorf("HEAD's Content-Length %d, want the GET's 6", resp.ContentLength)
			}
		}
	}
}

// Requests the server will not read get a status that says why.
func TestServer_RefusesMalformedRequests(t *testing.T) {
	addr := start(t, &http1.Server{Routes: map[string]func() http1.Reply{"/hello": hello}, ReadTimeout: time.Second})
	for _, c := range []struct {
		name, req string
		code      int
	}{
		{"fine", "GET /hello HTTP/1.0\r\n\r\n", 200},
		{"absolute form", "GET http://example/hello HTTP/1.1\r\nHost: x\r\n\r\n", 200},
		{"no version", "GET /hello\r\n\r\n", 400},
		{"HTTP/2 preface", "PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", 505},
		{"not a path", "GET hello HTTP/1.1\r\n\r\n", 400},
		{"header without colon", "GET /hello HTTP/1.1\r\nHost x\r\n\r\n", 400},
		{"space in a field name", "GET /hello HTTP/1.1\r\nHo st: x\r\n\r\n", 400},
		{"folded line", "GET /hello HTTP/1.1\r\nX: a\r\n b\r\n\r\n", 400},
		{"huge header", "GET /hello HTTP/1.1\r\nX: " + strings.Repeat("y", 10<<10) + "\r\n\r\n", 431},
		{"huge target", "GET /" + strings.Repeat("y", 4<<10) + " HTTP/1.1\r\n\r\n", 414},
	} {
		c2, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		c2.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(c2, c.req)
		resp, err := http.ReadResponse(bufio.NewReader(c2), nil)
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
		} else if resp.StatusCode != c.code {
			t.Errorf("%s: %d, want %d", c.name, resp.StatusCode, c.code)
		}
		c2.Close()
	}
}

// A client that connects and says nothing is let go after ReadTimeout.
func TestServer_ClosesASilentConnection(t *testing.T) {
	addr := start(t, &http1.Server{Routes: map[string]func() http1.Reply{"/hello": hello}, ReadTimeout: 50 * time.Millisecond})
	c, err := net.Dial("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("a silent connection read %d bytes, %v; want it closed", n, err)
	}
}

// At the cap, a new connection closes the oldest one still waiting for
// its request, and is answered; the others are left alone.
func TestServer_CapClosesTheOldestWaiting(t *testing.T) {
	addr := start(t, &http1.Server{Routes: map[string]func() http1.Reply{"/hello": hello}, ReadTimeout: time.Minute, MaxConns: 2})
	var idle []net.Conn
	for range 2 {
		c, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		defer c.Close()
		c.SetDeadline(time.Now().Add(5 * time.Second))
		idle = append(idle, c)
	}
	resp, err := http.Get("http://" + addr + "/hello")
	if err != nil {
		t.Fatalf("a request at the cap: %v", err)
	}
	resp.Body.Close()
	if _, err := idle[0].Read(make([]byte, 1)); err != io.EOF {
		t.Errorf("the oldest idle connection: %v, want it closed to make room", err)
	}
	io.WriteString(idle[1], "GET /hello HTTP/1.1\r\n\r\n")
	if resp, err := http.ReadResponse(bufio.NewReader(idle[1]), nil); err != nil || resp.StatusCode != 200 {
		t.Errorf("the younger idle connection was not answered: %v", err)
	}
}

// An HTTP/1.1 connection is kept for the next request, also pipelined;
// "Connection: close", HTTP/1.0 and a request with a body end it, the
// answer saying so.
func TestServer_KeepsConnectionsAsHTTP11Says(t *testing.T) {
	addr := start(t, &http1.Server{Routes: map[string]func() http1.Reply{"/hello": hello}, ReadTimeout: time.Second, IdleTimeout: time.Second})
	for _, c := range []struct {
		name, reqs string
		answers    int
		closed     bool
	}{
		{"two in a row", "GET /hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\nHost: x\r\n\r\n", 2, false},
		{"close asked", "GET /hello HTTP/1.1\r\nConnection: keep-alive, Close\r\n\r\n", 1, true},
		{"HTTP/1.0", "GET /hello HTTP/1.0\r\n\r\n", 1, true},
		{"a body", "POST /hello HTTP/1.1\r\nContent-Length: 4\r\n\r\nbodyGET /hello HTTP/1.1\r\n\r\n", 1, true},
		{"refused", "GET hello HTTP/1.1\r\n\r\nGET /hello HTTP/1.1\r\n\r\n", 1, true},
	} {
		conn, err := net.Dial("tcp", addr)
		if err != nil {
			t.Fatal(err)
		}
		conn.SetDeadline(time.Now().Add(5 * time.Second))
		io.WriteString(conn, c.reqs)
		br := bufio.NewReader(conn)
		for i := range c.answers {
			resp, err := http.ReadResponse(br, nil)
			if err != nil {
				t.Fatalf("%s: answer %d: %v", c.name, i+1, err)
			}
			io.Copy(io.Discard, resp.Body)
			if last := i == c.answers-1; resp.Close != (last && c.closed) {
				t.Errorf("%s: answer %d says close %v", c.name, i+1, resp.Close)
			}
		}
		if c.closed {
			if _, err := br.ReadByte(); err != io.EOF {
				t.Errorf("%s: the connection is still open (%v)", c.name, err)
			}
		} else {
			io.WriteString(conn, "GET /hello HTTP/1.1\r\n\r\n")
			if resp, err := http.ReadResponse(br, nil); err != nil || resp.StatusCode != 200 {
				t.Errorf("%s: a third request on the kept connection: %v", c.name, err)
			}
		}
		conn.Close()
	}
}

// FuzzReadRequest: any bytes from a client end in a method and path with
// 200, or a status; a path always begins with "/".
func FuzzReadRequest(f *testing.F) {
	f.Add("GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:8098\r\nUser-Agent: curl/8\r\nAccept: */*\r\n\r\n")
	f.Add("HEAD http://x/metrics?a=b HTTP/1.0\r\n\r\n")
	f.Add("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n")
	f.Fuzz(func(t *testing.T, in string) {
		req, code := http1.ReadRequest(bufio.NewReaderSize(strings.NewReader(in), 4096))
		if code == 200 && (!strings.HasPrefix(req.Path, "/") || strings.Contains(req.Path, "?") || req.Method == "") {
			t.Fatalf("%q gave %+v", in, req)
		}
		if code != 200 && req != (http1.Request{}) {
			t.Fatalf("%q gave %d with %+v", in, code, req)
		}
	})
}

// A route that panics (a bug) gets 500 and its connection closed; the
// server serves on, the next request and the next connection, and Failed
// is told which path and what panic. Without Failed, the panic is the
// process's, as before.
func TestServer_ARouteThatPanics(t *testing.T) {
	type failure struct {
		path string
		p    *bug.Panic
	}
	failed := make(chan failure, 2)
	addr := start(t, &http1.Server{
		Routes: map[string]func() http1.Reply{
			"/hello": hello,
			"/boom":  func() http1.Reply { var m map[string]int; m["x"]++; return hello() },
		},
		ReadTimeout: time.Second,
		Failed:      func(path string, p *bug.Panic) { failed <- failure{path, p} },
	})
	for range 2 {
		for _, c := range []struct {
			path string
			code int
			body string
		}{{"/boom", 500, "500 internal server error\n"}, {"/hello", 200, "hello\n"}} {
			resp, err := http.Get("http://" + addr + c.path)
			if err != nil {
				t.Fatalf("GET %s: %v", c.path, err)
			}
			got, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != c.code || string(got) != c.body {
				t.Errorf("GET %s = %d %q, want %d %q", c.path, resp.StatusCode, got, c.code, c.body)
			}
			if c.code == 500 && !resp.Close {
				t.Errorf("GET %s: the connection is kept after a panic", c.path)
			}
		}
	}
	for range 2 {
		f := <-failed
		if f.path != "/boom" || f.p == nil || !strings.Contains(f.p.Error(), "assignment to entry in nil map") {
			t.Errorf("Failed told %q %v", f.path, f.p)
		}
	}
}
