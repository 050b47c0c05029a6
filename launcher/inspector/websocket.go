package inspector

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"

	"github.com/hasync/launcher/launcher/http1"
)

// maxMessage bounds one message from node. The largest the launcher reads
// is Debugger.paused, whose call frames carry their scopes' object ids: a
// few KB for ten frames.
const maxMessage = 4 << 20

// conn is a WebSocket's client end: text messages out, whole messages in.
type conn struct {
	c net.Conn
	r *bufio.Reader
}

// acceptGUID is RFC 6455's, which the server hashes with the client's key.
const acceptGUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"

// dial opens a WebSocket to url (ws://host:port/path). ctx bounds the
// connection's whole life.
func dial(ctx context.Context, url string) (*conn, error) {
	var nonce [16]byte
	binary.LittleEndian.PutUint64(nonce[:8], rand.Uint64())
	binary.LittleEndian.PutUint64(nonce[8:], rand.Uint64())
	key := base64.StdEncoding.EncodeToString(nonce[:])
	c, r, resp, err := http1.Upgrade(ctx, url, key)
	if err != nil {
		return nil, err
	}
	sum := sha1Sum([]byte(key + acceptGUID))
	if got := resp.Field("Sec-WebSocket-Accept"); got != base64.StdEncoding.EncodeToString(sum[:]) {
		c.Close()
		return nil, fmt.Errorf("not a WebSocket: Sec-WebSocket-Accept %q does not answer the key", got)
	}
	return &conn{c: c, r: r}, nil
}

func (ws *conn) Close() error { return ws.c.Close() }

// Opcodes (RFC 6455, 5.2).
const (
	opContinuation = 0x0
	opText         = 0x1
	opBinary       = 0x2
	opClose        = 0x8
	opPing         = 0x9
	opPong         = 0xA
)

// writeText sends p as one text message.
func (ws *conn) writeText(p []byte) error { return ws.write(opText, p) }

// write sends one final frame, masked as a client's must be.
func (ws *conn) write(op byte, p []byte) error {
	b := make([]byte, 0, 14+len(p))
	b = append(b, 0x80|op)
	switch n := len(p); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	case n <= 0xFFFF:
		b = append(b, 0x80|126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 0x80|127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	mask := rand.Uint32()
	b = binary.BigEndian.AppendUint32(b, mask)
	key := b[len(b)-4:]
	for i, c := range p {
		b = append(b, c^key[i%4])
	}
	_, err := ws.c.Write(b)
	return err
}

var errClosed = errors.New("node closed the WebSocket")

// read returns the next whole message, text or binary. It answers pings,
// skips pongs, and ends with errClosed at a close frame.
func (ws *conn) read() ([]byte, error) {
	var msg []byte
	inMessage := false
	for {
		fin, op, payload, err := readFrame(ws.r, maxMessage-len(msg))
		if err != nil {
			return nil, err
		}
		switch op {
		case opPing:
			if err := ws.write(opPong, payload); err != nil {
				return nil, err
			}
			continue
		case opPong:
			continue
		case opClose:
			return nil, errClosed
		case opText, opBinary:
			if inMessage {
				return nil, errors.New("a new message began before the last one ended")
			}
			inMessage = true
		case opContinuation:
			if !inMessage {
				return nil, errors.New("a continuation frame with no message begun")
			}
		default:
			return nil, fmt.Errorf("unknown opcode %#x", op)
		}
		msg = append(msg, payload...)
		if fin {
			return msg, nil
		}
	}
}

// readFrame reads one frame from a server: unmasked, no extension bits, a
// control frame whole and at most 125 bytes, a data frame's payload at
// most room bytes.
func readFrame(r *bufio.Reader, room int) (fin bool, op byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(r, h[:]); err != nil {
		return false, 0, nil, err
	}
	fin, op = h[0]&0x80 != 0, h[0]&0x0F
	if h[0]&0x70 != 0 {
		return false, 0, nil, errors.New("a frame with reserved bits set (no extension was agreed)")
	}
	if h[1]&0x80 != 0 {
		return false, 0, nil, errors.New("a masked frame from the server")
	}
	n := uint64(h[1] & 0x7F)
	switch n {
	case 126:
		var b [2]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return false, 0, nil, unexpected(err)
		}
		n = uint64(binary.BigEndian.Uint16(b[:]))
	case 127:
		var b [8]byte
		if _, err = io.ReadFull(r, b[:]); err != nil {
			return false, 0, nil, unexpected(err)
		}
		n = binary.BigEndian.Uint64(b[:])
	}
	if op >= opClose && (n > 125 || !fin) {
		return false, 0, nil, errors.New("a control frame fragmented or over 125 bytes")
	}
	if op < opClose && n > uint64(max(room, 0)) {
		return false, 0, nil, fmt.Errorf("a message over %d MB", maxMessage>>20)
	}
	payload = make([]byte, n)
	if _, err = io.ReadFull(r, payload); err != nil {
		return false, 0, nil, unexpected(err)
	}
	return fin, op, payload, nil
}

func unexpected(err error) error {
	if err == io.EOF {
		return io.ErrUnexpectedEOF
	}
	return err
}
