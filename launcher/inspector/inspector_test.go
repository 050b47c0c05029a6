package inspector

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestListening(t *testing.T) {
	for _, tc := range []struct {
		name        string
		lines       []string
		url, failed string
	}{
		{"none yet", []string{"listening on 8099"}, "", ""},
		{"listening", []string{"listening on 8099", "Debugger listening on ws://127.0.0.1:9229/c2938d61-f55c-4934-b1d0-56b7bef45072", "For help, see: https://nodejs.org/en/docs/inspector"},
			"ws://127.0.0.1:9229/c2938d61-f55c-4934-b1d0-56b7bef45072", ""},
		{"IPv6", []string{"Debugger listening on ws://[::1]:9229/x"}, "ws://[::1]:9229/x", ""},
		{"the port taken", []string{"Starting inspector on 127.0.0.1:9229 failed: address already in use"}, "", "Starting inspector on 127.0.0.1:9229 failed: address already in use"},
		{"the last word counts", []string{"Starting inspector on 127.0.0.1:9229 failed: address already in use", "Debugger listening on ws://127.0.0.1:9230/y"}, "ws://127.0.0.1:9230/y", ""},
		{"not a WebSocket", []string{"Debugger listening on http://127.0.0.1:9229/"}, "", ""},
	} {
		url, failed := Listening(tc.lines)
		if url != tc.url || failed != tc.failed {
			t.Errorf("%s: %q, %q; want %q, %q", tc.name, url, failed, tc.url, tc.failed)
		}
	}
}

func TestFrameString(t *testing.T) {
	for _, tc := range []struct {
		f    Frame
		want string
	}{
		{Frame{"spin", "file:///app/dist/work.js", 3, 9}, "at spin (/app/dist/work.js:3:9)"},
		{Frame{"", "file:///app/my%20app/index.js", 1, 1}, "at /app/my app/index.js:1:1"},
		{Frame{"emit", "node:events", 524, 28}, "at emit (node:events:524:28)"},
		{Frame{"eval", "", 1, 5}, "at eval (<anonymous>:1:5)"},
	} {
		if got := tc.f.String(); got != tc.want {
			t.Errorf("%+v: %q, want %q", tc.f, got, tc.want)
		}
	}
}

// frame builds a server's frame: unmasked, n's length in the shortest
// form.
func frame(fin bool, op byte, payload []byte) []byte {
	b0 := op
	if fin {
		b0 |= 0x80
	}
	b := []byte{b0}
	switch n := len(payload); {
	case n < 126:
		b = append(b, byte(n))
	case n <= 0xFFFF:
		b = append(b, 126)
		b = binary.BigEndian.AppendUint16(b, uint16(n))
	default:
		b = append(b, 127)
		b = binary.BigEndian.AppendUint64(b, uint64(n))
	}
	return append(b, payload...)
}

// reading is a conn that reads in and whose writes land in out.
func reading(t testing.TB, in []byte) (*conn, *bytes.Buffer) {
	near, far := net.Pipe()
	out := &bytes.Buffer{}
	done := make(chan struct{})
	go func() { defer close(done); _, _ = io.Copy(out, far) }()
	t.Cleanup(func() { near.Close(); <-done })
	return &conn{c: near, r: bufio.NewReader(bytes.NewReader(in))}, out
}

func TestRead(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 70000)
	var in []byte
	in = append(in, frame(false, opText, []byte(`{"a":`))...)
	in = append(in, frame(true, opPing, []byte("hi"))...)
	in = append(in, frame(true, opContinuation, []byte(`1}`))...)
	in = append(in, frame(true, opText, bytes.Repeat([]byte("y"), 300))...)
	in = append(in, frame(true, opBinary, long)...)
	in = append(in, frame(true, opPong, nil)...)
	in = append(in, frame(true, opClose, []byte{0x03, 0xE8})...)
	ws, _ := reading(t, in)
	for _, want := range [][]byte{[]byte(`{"a":1}`), bytes.Repeat([]byte("y"), 300), long} {
		got, err := ws.read()
		if err != nil || !bytes.Equal(got, want) {
			t.Fatalf("read %d bytes (%v), want %d", len(got), err, len(want))
		}
	}
	if _, err := ws.read(); !errors.Is(err, errClosed) {
		t.Errorf("at a close frame: %v, want %v", err, errClosed)
	}
}

// The ping in a fragmented message is answered with a pong of its
// payload, masked.
func TestRead_AnswersAPing(t *testing.T) {
	near, far := net.Pipe()
	defer near.Close()
	in := append(frame(true, opPing, []byte("hi")), frame(true, opText, []byte("m"))...)
	ws := &conn{c: near, r: bufio.NewReader(bytes.NewReader(in))}
	got := make(chan []byte, 1)
	go func() {
		b := make([]byte, 8)
		n, _ := io.ReadFull(far, b)
		got <- b[:n]
	}()
	if m, err := ws.read(); err != nil || string(m) != "m" {
		t.Fatalf("read %q, %v", m, err)
	}
	b := <-got
	if b[0] != 0x80|opPong || b[1] != 0x80|2 {
		t.Fatalf("answer's head % x, want a final masked pong of 2 bytes", b[:2])
	}
	if p := []byte{b[6] ^ b[2], b[7] ^ b[3]}; string(p) != "hi" {
		t.Errorf("pong's payload %q, want the ping's", p)
	}
}

func TestRead_Refuses(t *testing.T) {
	masked := frame(true, opText, []byte("m"))
	masked[1] |= 0x80
	for _, tc := range []struct {
		name string
		in   []byte
		want string
	}{
		{"masked", masked, "masked frame"},
		{"reserved bits", append([]byte{0xC1}, frame(true, opText, nil)[1:]...), "reserved bits"},
		{"a long ping", frame(true, opPing, bytes.Repeat([]byte("p"), 126)), "control frame"},
		{"a fragmented close", frame(false, opClose, nil), "control frame"},
		{"an unknown opcode", frame(true, 0x3, nil), "unknown opcode"},
		{"a continuation first", frame(true, opContinuation, nil), "continuation"},
		{"a message in a message", append(frame(false, opText, nil), frame(true, opText, nil)...), "began before"},
		{"too large", []byte{0x81, 127, 0, 0, 0, 0, 0x7F, 0, 0, 0}, "over 4 MB"},
		{"cut short", frame(true, opText, []byte("hello"))[:4], io.ErrUnexpectedEOF.Error()},
	} {
		ws, _ := reading(t, tc.in)
		if _, err := ws.read(); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.name, err, tc.want)
		}
	}
}

func FuzzRead(f *testing.F) {
	f.Add(frame(true, opText, []byte(`{"method":"Debugger.paused","params":{"callFrames":[]}}`)))
	f.Add(append(frame(false, opText, []byte("a")), frame(true, opContinuation, []byte("b"))...))
	f.Add(frame(true, opText, bytes.Repeat([]byte("z"), 200)))
	f.Fuzz(func(t *testing.T, in []byte) {
		ws, _ := reading(t, in)
		for range 8 {
			m, err := ws.read()
			if err != nil {
				return
			}
			if len(m) > maxMessage {
				t.Fatalf("a message of %d bytes, over %d", len(m), maxMessage)
			}
		}
	})
}

// Pause against real node: a script held in a loop, its inspector opened
// at start on a port of its own choosing.
func TestPause_RealNode(t *testing.T) {
	node, err := exec.LookPath("node")
	if err != nil {
		t.Skip("node is not installed")
	}
	dir := t.TempDir()
	script := filepath.Join(dir, "busy loop.js")
	// The line that tells the test is written synchronously, in spin.
	src := "'use strict';\nconst fs = require('fs');\nfunction spin() {\n  fs.writeSync(2, 'spinning\\n');\n  for (;;) {}\n}\nfunction later() { spin(); }\nlater();\n"
	if err := os.WriteFile(script, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	at := func(t *testing.T, script string) string {
		cmd := exec.Command(node, "--inspect=127.0.0.1:0", script)
		stderr, _ := cmd.StderrPipe()
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
		sc := bufio.NewScanner(stderr)
		var lines []string
		for sc.Scan() {
			lines = append(lines, sc.Text())
			if url, _ := Listening(lines); url != "" && sc.Text() == "spinning" {
				go func() { _, _ = io.Copy(io.Discard, stderr) }()
				return url
			}
		}
		t.Fatalf("node said no inspector address: %q", lines)
		return ""
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	frames, err := Pause(ctx, at(t, script))
	if err != nil {
		t.Fatal(err)
	}
	// A node slow to reach its loop after the write the test saw (the race
	// detector, a busy machine) is paused still in writeSync, under node's
	// own frames: spin is then at line 4.
	i := 0
	for i < len(frames) && strings.HasPrefix(frames[i].URL, "node:") {
		i++
	}
	if len(frames) < i+2 || (frames[i].String() != "at spin ("+script+":5:3)" && frames[i].String() != "at spin ("+script+":4:6)") ||
		!strings.HasPrefix(frames[i+1].String(), "at later ("+script+":7:") {
		t.Errorf("paused in %q, want spin at line 5 (or in its write, line 4), then later", frames)
	}
}
