package http1

import (
	"bufio"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net"
	"net/url"
	"strconv"
	"strings"
)

// Response is an answer to Get: its status and as much of its body as
// was asked for.
type Response struct {
	StatusCode int
	Status     string // "200 OK", as the server wrote it
	Body       []byte
	head       *head
}

// Field is the value of the answer's first header field named name (any
// case); "" when it has none.
func (r *Response) Field(name string) string {
	if r.head == nil {
		return ""
	}
	return r.head.get(strings.ToLower(name))
}

// maxHeaderBytes bounds the status line and the headers of an answer,
// and of a request.
const maxHeaderBytes = 8 << 10

// Get sends GET rawURL on a new connection and reads the answer: its
// status, and at most maxBody bytes of its body (the rest is left unread
// and the connection closed). ctx bounds it all. rawURL must be http://;
// its user information, if any, goes as Basic authorization.
func Get(ctx context.Context, rawURL string, maxBody int) (*Response, error) {
	c, _, resp, err := request(ctx, rawURL, "Accept: */*\r\nConnection: close\r\n", maxBody)
	if c != nil {
		c.Close()
	}
	return resp, err
}

// Upgrade sends GET rawURL (ws:// is taken as http://) asking the server
// to switch to a WebSocket (RFC 6455's opening handshake, with key, which
// the caller checks against the answer's Sec-WebSocket-Accept), and
// returns the connection once it answered 101 Switching Protocols, with
// the reader that holds what the server sent after its answer. ctx bounds
// the connection's whole life: its end closes it.
func Upgrade(ctx context.Context, rawURL, key string) (net.Conn, *bufio.Reader, *Response, error) {
	if rest, ok := strings.CutPrefix(rawURL, "ws://"); ok {
		rawURL = "http://" + rest
	}
	c, r, resp, err := request(ctx, rawURL, "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: "+key+"\r\n", 0)
	if err == nil && resp.StatusCode != 101 {
		err = fmt.Errorf("answered %s, not 101 Switching Protocols", resp.Status)
	}
	if err != nil {
		if c != nil {
			c.Close()
		}
		return nil, nil, resp, err
	}
	return c, r, resp, nil
}

// request sends GET rawURL with the header fields fields (each ended by
// CRLF) on a new connection, and reads the answer (at most maxBody bytes
// of its body). The connection is nil on an error that left none; ctx's
// end closes it, and closing it ends that watch.
func request(ctx context.Context, rawURL, fields string, maxBody int) (net.Conn, *bufio.Reader, *Response, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, nil, nil, errors.New("not a URL")
	}
	if u.Scheme != "http" || u.Host == "" {
		return nil, nil, nil, errors.New("not an http:// URL")
	}
	addr := u.Host
	if u.Port() == "" {
		addr = net.JoinHostPort(u.Hostname(), "80")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, nil, nil, err
	}
	// ctx's end, deadline or cancel, ends a read or write in progress.
	c := &watchedConn{Conn: conn, stop: context.AfterFunc(ctx, func() { _ = conn.Close() })}

	req := "GET " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\n"
	if u.User != nil {
		pass, _ := u.User.Password()
		req += "Authorization: Basic " + base64.StdEncoding.EncodeToString([]byte(u.User.Username()+":"+pass)) + "\r\n"
	}
	req += "User-Agent: launcher\r\n" + fields + "\r\n"
	if _, err := io.WriteString(c, req); err != nil {
		return c, nil, nil, ctxErr(ctx, err)
	}
	r := bufio.NewReaderSize(c, 4096)
	resp, err := ReadResponse(r, maxBody)
	return c, r, resp, ctxErr(ctx, err)
}

// ctxErr says that ctx ended, when it did, rather than what that did to
// the connection.
func ctxErr(ctx context.Context, err error) error {
	if err != nil && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}

// ReadResponse reads an answer to a GET from r: the status line, the
// headers, and at most maxBody bytes of the body (sized, chunked, or up to
// the connection's end). Interim 1xx answers are skipped.
func ReadResponse(r *bufio.Reader, maxBody int) (*Response, error) {
	for {
		h, err := readHead(r)
		if err != nil {
			return nil, err
		}
		version, status, _ := strings.Cut(h.first, " ")
		if !strings.HasPrefix(version, "HTTP/1.") || len(status) < 3 {
			return nil, fmt.Errorf("malformed status line %q", clip(h.first))
		}
		code, err := strconv.Atoi(status[:3])
		if err != nil || code < 100 || code > 999 || (len(status) > 3 && status[3] != ' ') {
			return nil, fmt.Errorf("malformed status line %q", clip(h.first))
		}
		if code < 200 && code != 101 {
			continue
		}
		resp := &Response{StatusCode: code, Status: status, head: h}
		if code == 204 || code == 304 || code == 101 {
			return resp, nil
		}
		if resp.Body, err = readBody(r, h, maxBody); err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// readBody reads at most max bytes of a body framed as h says.
func readBody(r *bufio.Reader, h *head, max int) ([]byte, error) {
	if te := h.get("transfer-encoding"); te != "" {
		if !strings.EqualFold(te, "chunked") {
			return nil, fmt.Errorf("unsupported transfer encoding %q", clip(te))
		}
		return readChunked(r, max)
	}
	if cl := h.get("content-length"); cl != "" {
		n, err := strconv.ParseInt(cl, 10, 64)
		if err != nil || n < 0 {
			return nil, fmt.Errorf("malformed Content-Length %q", clip(cl))
		}
		body := make([]byte, min(n, int64(max)))
		_, err = io.ReadFull(r, body)
		return body, unexpected(err)
	}
	// Neither: the body ends with the connection.
	return io.ReadAll(io.LimitReader(r, int64(max)))
}

// readChunked decodes a chunked body, stopping at max bytes.
func readChunked(r *bufio.Reader, max int) ([]byte, error) {
	var body []byte
	for {
		line, err := readLine(r)
		if err != nil {
			return nil, unexpected(err)
		}
		size, _, _ := strings.Cut(line, ";")
		n, err := strconv.ParseUint(strings.TrimSpace(size), 16, 63)
		if err != nil {
			return nil, fmt.Errorf("malformed chunk size %q", clip(line))
		}
		if n == 0 {
			return body, nil // trailers, if any, are left unread
		}
		take := min(n, uint64(max-len(body)))
		chunk := make([]byte, take)
		if _, err := io.ReadFull(r, chunk); err != nil {
			return nil, unexpected(err)
		}
		body = append(body, chunk...)
		if len(body) >= max {
			return body, nil
		}
		if _, err := r.Discard(int(n - take)); err != nil {
			return nil, unexpected(err)
		}
		if line, err := readLine(r); err != nil || line != "" {
			return nil, errors.New("malformed chunk end")
		}
	}
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}

// watchedConn is a connection that ctx's end closes (request); closing it
// first ends the watch, so that a long-lived ctx does not hold one for
// every connection closed before it ended.
type watchedConn struct {
	net.Conn
	stop func() bool
}

func (c *watchedConn) Close() error {
	c.stop()
	return c.Conn.Close()
}
