package http1

import (
	"bufio"
	"errors"
	"io"
	"strings"
)

// head is a message's first line and its header fields, names in lower
// case, in the order they came.
type head struct {
	first  string
	fields [][2]string
}

// get is the value of the first field named name (in lower case).
func (h *head) get(name string) string {
	for _, f := range h.fields {
		if f[0] == name {
			return f[1]
		}
	}
	return ""
}

var (
	errHeadTooLarge = errors.New("header fields too large")
	errMalformed    = errors.New("malformed header")
)

// readHead reads a first line and header fields up to the blank line that
// ends them, at most maxHeaderBytes in all. Obsolete line folding is
// refused, as RFC 9112 allows.
func readHead(r *bufio.Reader) (*head, error) {
	budget := maxHeaderBytes
	next := func() (string, error) {
		line, err := readLineWithin(r, budget)
		budget -= len(line) + 2
		return line, err
	}
	first, err := next()
	if err != nil {
		return nil, err
	}
	h := &head{first: first}
	for {
		line, err := next()
		if err != nil {
			return nil, unexpected(err)
		}
		if line == "" {
			return h, nil
		}
		name, value, ok := strings.Cut(line, ":")
		if !ok || name == "" || !token(name) {
			return nil, errMalformed
		}
		h.fields = append(h.fields, [2]string{strings.ToLower(name), strings.Trim(value, " \t")})
	}
}

// readLine reads a line ended by CRLF (or a bare LF), without its end, of
// at most maxHeaderBytes.
func readLine(r *bufio.Reader) (string, error) {
	return readLineWithin(r, maxHeaderBytes)
}

func readLineWithin(r *bufio.Reader, max int) (string, error) {
	var line []byte
	for {
		frag, err := r.ReadSlice('\n')
		if len(line)+len(frag) > max+2 {
			return "", errHeadTooLarge
		}
		line = append(line, frag...)
		if err == nil {
			break
		}
		if err != bufio.ErrBufferFull {
			if err == io.EOF && len(line) > 0 {
				err = io.ErrUnexpectedEOF
			}
			return "", err
		}
	}
	line = line[:len(line)-1]
	if n := len(line); n > 0 && line[n-1] == '\r' {
		line = line[:n-1]
	}
	if len(line) > max {
		return "", errHeadTooLarge
	}
	return string(line), nil
}

// token says whether s is an RFC 9110 token: a field name or a method.
func token(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= ' ' || c >= 0x7f || strings.IndexByte(`"(),/:;<=>?@[\]{}`, c) >= 0 {
			return false
		}
	}
	return s != ""
}

// clip shortens what an error quotes from a peer.
func clip(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
