package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher"
)

// Wire hands the health server, the sampler and the healthcheck and status
// subcommands to the program: what cmd/launcher runs.
func Wire(m *launcher.Main) {
	m.Health = New
	m.Sampler = NewSampler()
	if m.Commands == nil {
		m.Commands = map[string]launcher.Command{}
	}
	m.Commands["healthcheck"] = healthcheck
	m.Commands["status"] = status
}

// addr is LAUNCHER_HEALTH_ADDR as the running launcher uses it. These
// subcommands read only that variable: a broken options file must not
// make a container look unhealthy.
func addr(m *launcher.Main) (string, error) {
	a := launcher.DefaultConfig().HealthAddr
	for _, kv := range m.Environ {
		if v, ok := strings.CutPrefix(kv, "LAUNCHER_HEALTH_ADDR="); ok {
			a = v
		}
	}
	if a == "" || strings.EqualFold(a, "off") {
		return "", errors.New("the health server is off (LAUNCHER_HEALTH_ADDR)")
	}
	// A wildcard listen address is reached on loopback.
	a = strings.Replace(a, "0.0.0.0:", "127.0.0.1:", 1)
	if strings.HasPrefix(a, ":") {
		a = "127.0.0.1" + a
	}
	return a, nil
}

func get(ctx context.Context, url string) (*http.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		cancel()
		return nil, err
	}
	resp, err := (&http.Client{Transport: &http.Transport{Proxy: nil}}).Do(req)
	if err != nil {
		cancel()
		return nil, err
	}
	resp.Body = struct {
		io.Reader
		io.Closer
	}{resp.Body, closerFunc(func() error { cancel(); return nil })}
	return resp, nil
}

type closerFunc func() error

func (f closerFunc) Close() error { return f() }

// healthcheck is `launcher healthcheck`, for the Dockerfile's HEALTHCHECK:
// quiet, exit 0 when /healthz answers 200, else 1.
func healthcheck(ctx context.Context, m *launcher.Main, args []string) error {
	if len(args) > 0 {
		return usage(m, fmt.Sprintf("unknown argument %q for healthcheck", args[0]))
	}
	a, err := addr(m)
	if err != nil {
		return &launcher.ExitError{Code: 1, Err: err}
	}
	resp, err := get(ctx, "http://"+a+"/healthz")
	if err != nil {
		return &launcher.ExitError{Code: 1, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return &launcher.ExitError{Code: 1, Err: fmt.Errorf("healthz answered %s", resp.Status)}
	}
	return nil
}

func usage(m *launcher.Main, msg string) error {
	err := &launcher.UsageError{Msg: msg}
	fmt.Fprintln(m.Stderr, "launcher: "+err.Error())
	return err
}

// status is `launcher status [--json]`: the running launcher's state for a
// person, or /status as it is.
func status(ctx context.Context, m *launcher.Main, args []string) error {
	asJSON := false
	for _, a := range args {
		if a != "--json" {
			return usage(m, fmt.Sprintf("unknown flag %q for status", a))
		}
		asJSON = true
	}
	a, err := addr(m)
	if err != nil {
		fmt.Fprintln(m.Stderr, "launcher status: "+err.Error())
		return &launcher.ExitError{Code: 1, Err: err}
	}
	resp, err := get(ctx, "http://"+a+"/status")
	if err != nil {
		fmt.Fprintf(m.Stderr, "launcher status: no launcher answers at %s: %v\n", a, err)
		return &launcher.ExitError{Code: 1, Err: err}
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return &launcher.ExitError{Code: 1, Err: err}
	}
	if asJSON {
		_, _ = m.Stdout.Write(body)
		return nil
	}
	var snap launcher.Snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		fmt.Fprintf(m.Stderr, "launcher status: %s did not answer a status: %v\n", a, err)
		return &launcher.ExitError{Code: 1, Err: err}
	}
	WriteStatus(m.Stdout, &snap, os.Getenv("NO_COLOR") == "")
	return nil
}
