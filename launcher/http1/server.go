package http1

import (
	"bufio"
	"errors"
	"net"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hasync/launcher/launcher/bug"
)

// Reply is a route's answer.
type Reply struct {
	Code        int
	ContentType string
	Body        []byte
}

// Server answers GET and HEAD of its routes: 404 for another path, 405
// for another method, 400, 414, 431 or 505 for a request it will not
// read, and nothing (the connection closed) for one that is not whole in
// time. An HTTP/1.1 connection stays open for the next request, as a
// scraper or a watchdog polling every few seconds expects, unless the
// client says "Connection: close" or sent a body; HTTP/1.0 and every
// refusal close it. Every answer says "Cache-Control: no-store".
type Server struct {
	// Routes maps a path to what answers it, called for each request.
	Routes map[string]func() Reply
	// ReadTimeout bounds the reading of a connection's first request;
	// IdleTimeout the wait for, and the reading of, each next one;
	// WriteTimeout the writing of an answer.
	ReadTimeout, IdleTimeout, WriteTimeout time.Duration
	// MaxConns caps the connections held open (0: no cap): when a new one
	// arrives at the cap, the oldest one still waiting for its request is
	// closed, so fresh requests are always served; only when every
	// connection is being answered does Serve wait for one to end, the
	// kernel's backlog holding the clients that come meanwhile.
	MaxConns int
	// Failed, when set, is told of a route that panicked (a bug): the
	// request got 500, its connection was closed, and the server serves
	// on, as net/http's does. Without it, the panic ends the process.
	Failed func(path string, p *bug.Panic)

	mu      sync.Mutex
	open    int
	waiting []net.Conn // oldest first: connected, next request not read yet
	freed   chan struct{}
}

// Serve accepts connections on ln and answers them until ln is closed.
// Other errors of Accept (descriptors running out) are waited out.
func (s *Server) Serve(ln net.Listener) error {
	s.mu.Lock()
	if s.freed == nil {
		s.freed = make(chan struct{}, 1)
	}
	s.mu.Unlock()
	backoff := 5 * time.Millisecond
	for {
		c, err := ln.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return err
			}
			// EMFILE and the like: net/http waits likewise, from 5 ms up
			// to 1 s, rather than spin or give up.
			time.Sleep(backoff)
			backoff = min(2*backoff, time.Second)
			continue
		}
		backoff = 5 * time.Millisecond
		s.admit(c)
		go s.serveConn(c)
	}
}

// admit gives c a connection slot; at the cap it closes the oldest
// connection still waiting for its request to make room, or waits for an
// answer to end when none is waiting.
func (s *Server) admit(c net.Conn) {
	for {
		s.mu.Lock()
		if s.MaxConns <= 0 || s.open < s.MaxConns {
			s.open++
			s.waiting = append(s.waiting, c)
			s.mu.Unlock()
			return
		}
		var victim net.Conn
		if len(s.waiting) > 0 {
			victim, s.waiting = s.waiting[0], s.waiting[1:]
		}
		s.mu.Unlock()
		if victim != nil {
			victim.Close() // its serveConn ends and frees the slot
		}
		<-s.freed
	}
}

func (s *Server) release() {
	s.mu.Lock()
	s.open--
	s.mu.Unlock()
	select {
	case s.freed <- struct{}{}:
	default:
	}
}

// answered takes c off the waiting list: it is being answered, and no
// longer the one to close at the cap. It says false when c was closed to
// make room already.
func (s *Server) answered(c net.Conn) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	for i, x := range s.waiting {
		if x == c {
			s.waiting = append(s.waiting[:i], s.waiting[i+1:]...)
			return true
		}
	}
	return false
}

func (s *Server) serveConn(c net.Conn) {
	defer s.release()
	defer c.Close()
	br := bufio.NewReaderSize(c, 4096)
	timeout := s.ReadTimeout
	for {
		if timeout > 0 {
			_ = c.SetReadDeadline(time.Now().Add(timeout))
		}
		req, code := ReadRequest(br)
		if !s.answered(c) || code == 0 {
			return // closed at the cap, or no request came whole
		}
		var reply Reply
		var allow bool
		if code != 200 {
			reply = Reply{Code: code}
		} else if route, ok := s.Routes[req.Path]; !ok {
			reply = Reply{Code: 404}
		} else if req.Method != "GET" && req.Method != "HEAD" {
			reply, allow = Reply{Code: 405}, true
		} else {
			reply = s.answer(req.Path, route)
		}
		keep := code == 200 && req.KeepAlive && reply.Code != 500
		if s.WriteTimeout > 0 {
			_ = c.SetWriteDeadline(time.Now().Add(s.WriteTimeout))
		}
		if _, err := c.Write(encode(reply, req.Method == "HEAD", allow, keep)); err != nil {
			return
		}
		if !keep {
			lingerClose(c, br)
			return
		}
		s.mu.Lock()
		s.waiting = append(s.waiting, c)
		s.mu.Unlock()
		timeout = s.IdleTimeout
	}
}

// answer is route's reply to a request for path, or 500 when it panicked
// and Failed is set to be told.
func (s *Server) answer(path string, route func() Reply) (reply Reply) {
	if s.Failed == nil {
		return route()
	}
	if p := bug.Catch(func() { reply = route() }); p != nil {
		s.Failed(path, p)
		return Reply{Code: 500}
	}
	return reply
}

// lingerClose ends a connection whose client may still be sending (a
// body, or requests after a refused one): closing a socket with unread
// input resets it, and a reset can destroy the answer before the client
// reads it, or fail the client's write of its body first (net/http's
// client then reports "broken pipe", not the answer). So it says the end
// first, then reads what the client still sends until it closes, briefly:
// up to lingerBytes, as much of a body as net/http's server reads to keep
// its connection (a 100 KB POST outran the 64 KB it read before).
func lingerClose(c net.Conn, br *bufio.Reader) {
	tcp, ok := c.(interface{ CloseWrite() error })
	if !ok {
		return
	}
	_ = tcp.CloseWrite()
	_ = c.SetReadDeadline(time.Now().Add(500 * time.Millisecond))
	var sink [4096]byte
	for n := 0; n < lingerBytes; {
		k, err := br.Read(sink[:])
		if err != nil {
			return
		}
		n += k
	}
}

// lingerBytes bounds what lingerClose reads of a client's leftovers.
const lingerBytes = 256 << 10

// Request is what the server reads of a request.
type Request struct {
	Method, Path string // Path: the target without its query
	// KeepAlive: the client may send another request on the connection
	// (HTTP/1.1 without "Connection: close", and no body to skip).
	KeepAlive bool
}

// ReadRequest reads a request's head from r, with 200, or the status a
// request that cannot be answered gets (400, 414, 431, 505), or 0 when
// the connection ended or timed out before a whole head.
func ReadRequest(r *bufio.Reader) (Request, int) {
	h, err := readHead(r)
	switch {
	case errors.Is(err, errHeadTooLarge):
		return Request{}, 431
	case errors.Is(err, errMalformed):
		return Request{}, 400
	case err != nil:
		return Request{}, 0
	}
	parts := strings.Split(h.first, " ")
	if len(parts) != 3 || !token(parts[0]) {
		return Request{}, 400
	}
	method, target, version := parts[0], parts[1], parts[2]
	if version != "HTTP/1.1" && version != "HTTP/1.0" {
		if strings.HasPrefix(version, "HTTP/") {
			return Request{}, 505
		}
		return Request{}, 400
	}
	if len(target) > 2048 {
		return Request{}, 414
	}
	// The absolute form (a proxy's) names the same path.
	if rest, ok := strings.CutPrefix(target, "http://"); ok {
		target = "/"
		if i := strings.IndexByte(rest, '/'); i >= 0 {
			target = rest[i:]
		}
	}
	if !strings.HasPrefix(target, "/") {
		return Request{}, 400
	}
	path, _, _ := strings.Cut(target, "?")
	// A body is never read, so a connection that carries one ends with it.
	body := h.get("transfer-encoding") != "" || (h.get("content-length") != "" && h.get("content-length") != "0")
	keep := version == "HTTP/1.1" && !body && !hasToken(h.get("connection"), "close")
	return Request{Method: method, Path: path, KeepAlive: keep}, 200
}

// hasToken says whether the comma-separated list v holds t, in any case.
func hasToken(v, t string) bool {
	for _, x := range strings.Split(v, ",") {
		if strings.EqualFold(strings.TrimSpace(x), t) {
			return true
		}
	}
	return false
}

// statusText names the codes the server answers.
var statusText = map[int]string{
	200: "OK", 400: "Bad Request", 404: "Not Found", 405: "Method Not Allowed",
	414: "URI Too Long", 431: "Request Header Fields Too Large", 500: "Internal Server Error", 503: "Service Unavailable",
	505: "HTTP Version Not Supported",
}

// encode writes reply as an HTTP/1.1 answer; a HEAD's has no body. When
// the connection is not kept, the answer says so.
func encode(reply Reply, head, allow, keep bool) []byte {
	text := statusText[reply.Code]
	if text == "" {
		text = "Status"
	}
	body := reply.Body
	if reply.Code != 200 && body == nil {
		body = []byte(strconv.Itoa(reply.Code) + " " + strings.ToLower(text) + "\n")
		reply.ContentType = "text/plain; charset=utf-8"
	}
	b := make([]byte, 0, 160+len(body))
	b = append(b, "HTTP/1.1 "...)
	b = strconv.AppendInt(b, int64(reply.Code), 10)
	b = append(b, ' ')
	b = append(b, text...)
	b = append(b, "\r\n"...)
	if reply.ContentType != "" {
		b = append(b, "Content-Type: "...)
		b = append(b, reply.ContentType...)
		b = append(b, "\r\n"...)
	}
	if allow {
		b = append(b, "Allow: GET, HEAD\r\n"...)
	}
	b = append(b, "Content-Length: "...)
	b = strconv.AppendInt(b, int64(len(body)), 10)
	b = append(b, "\r\nCache-Control: no-store\r\n"...)
	if !keep {
		b = append(b, "Connection: close\r\n"...)
	}
	b = append(b, "\r\n"...)
	if !head {
		b = append(b, body...)
	}
	return b
}
