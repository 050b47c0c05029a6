package inspector

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"strings"
)

// Frame is one call frame of a paused script, as V8's stack traces show
// it: Line and Column count from 1.
type Frame struct {
	Function string // "" for an anonymous function or a module's top level
	URL      string // "file:///app/dist/index.js", "node:internal/timers"
	Line     int
	Column   int
}

// String is the frame as a line of node's Error.stack, a file's URL as its
// path: "at spin (/app/dist/work.js:3:9)", "at /app/dist/index.js:1:1".
func (f Frame) String() string {
	where := f.URL
	if path, ok := strings.CutPrefix(where, "file://"); ok {
		if p, err := url.PathUnescape(path); err == nil {
			where = p
		}
	}
	if where == "" {
		where = "<anonymous>"
	}
	where += ":" + strconv.Itoa(f.Line) + ":" + strconv.Itoa(f.Column)
	if f.Function == "" {
		return "at " + where
	}
	return "at " + f.Function + " (" + where + ")"
}

// message is what node sends: an answer to a command (ID), or an event
// (Method).
type message struct {
	ID     int             `json:"id"`
	Method string          `json:"method"`
	Params json.RawMessage `json:"params"`
	Error  *struct {
		Message string `json:"message"`
	} `json:"error"`
}

// scriptParsed is Debugger.scriptParsed's: which script has which URL.
type scriptParsed struct {
	ScriptID string `json:"scriptId"`
	URL      string `json:"url"`
}

// paused is Debugger.paused's: the frames, innermost first.
type paused struct {
	CallFrames []struct {
		FunctionName string `json:"functionName"`
		URL          string `json:"url"`
		Location     struct {
			ScriptID     string `json:"scriptId"`
			LineNumber   int    `json:"lineNumber"`
			ColumnNumber int    `json:"columnNumber"`
		} `json:"location"`
	} `json:"callFrames"`
}

// Pause connects to node's inspector at wsURL (what node prints after
// "Debugger listening on"), pauses its JavaScript and returns the frames
// it paused in, innermost first. V8 pauses a running script at its next
// interrupt check, which a loop makes at every iteration; a main thread
// that runs no JavaScript pauses only when some runs, so ctx should bound
// the wait. Closing the connection resumes the script.
func Pause(ctx context.Context, wsURL string) ([]Frame, error) {
	ws, err := dial(ctx, wsURL)
	if err != nil {
		return nil, fmt.Errorf("connect to node's inspector: %w", err)
	}
	defer ws.Close()
	for id, method := range []string{"Debugger.enable", "Debugger.pause"} {
		if err := ws.writeText([]byte(`{"id":` + strconv.Itoa(id+1) + `,"method":"` + method + `"}`)); err != nil {
			return nil, ctxErr(ctx, err)
		}
	}
	// Enabling the debugger reports every script loaded so far: the
	// frames name theirs by id alone where the url field is empty.
	urls := map[string]string{}
	for {
		b, err := ws.read()
		if err != nil {
			return nil, ctxErr(ctx, fmt.Errorf("read node's inspector: %w", err))
		}
		var m message
		if err := json.Unmarshal(b, &m); err != nil {
			return nil, fmt.Errorf("node's inspector sent what is not JSON: %w", err)
		}
		switch {
		case m.Error != nil:
			return nil, fmt.Errorf("node's inspector refused command %d: %s", m.ID, m.Error.Message)
		case m.Method == "Debugger.scriptParsed":
			var sp scriptParsed
			if json.Unmarshal(m.Params, &sp) == nil {
				urls[sp.ScriptID] = sp.URL
			}
		case m.Method == "Debugger.paused":
			var p paused
			if err := json.Unmarshal(m.Params, &p); err != nil {
				return nil, fmt.Errorf("node's inspector: Debugger.paused: %w", err)
			}
			frames := make([]Frame, 0, len(p.CallFrames))
			for _, cf := range p.CallFrames {
				u := cf.URL
				if u == "" {
					u = urls[cf.Location.ScriptID]
				}
				frames = append(frames, Frame{Function: cf.FunctionName, URL: u, Line: cf.Location.LineNumber + 1, Column: cf.Location.ColumnNumber + 1})
			}
			return frames, nil
		}
	}
}

// ctxErr says that ctx ended, when it did, rather than what that did to
// the connection.
func ctxErr(ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return fmt.Errorf("node's inspector: %w", ctx.Err())
	}
	return err
}

// Listening reads node's stderr lines for where its inspector listens:
// the address of the last "Debugger listening on ws://…" line. failed is
// node's word when its inspector could not start after that ("Starting
// inspector on 127.0.0.1:9229 failed: address already in use"); both are
// "" while node has said neither.
func Listening(lines []string) (wsURL, failed string) {
	for i := len(lines) - 1; i >= 0; i-- {
		l := strings.TrimSpace(lines[i])
		if rest, ok := strings.CutPrefix(l, "Debugger listening on "); ok {
			if u, _, _ := strings.Cut(rest, " "); strings.HasPrefix(u, "ws://") {
				return u, ""
			}
		}
		if strings.HasPrefix(l, "Starting inspector on ") && strings.Contains(l, " failed: ") {
			return "", l
		}
	}
	return "", ""
}
