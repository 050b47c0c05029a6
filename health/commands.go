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
	"github.com/hasync/launcher/launcher/config"
)

// addr is LAUNCHER_HEALTH_ADDR as the running launcher uses it. These
// subcommands read only that variable: a broken options file must not
// make a container look unhealthy.
func addr(environ []string) (string, error) {
	a := config.DefaultConfig().HealthAddr
	for _, kv := range environ {
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

// Healthcheck is `launcher healthcheck`, for the Dockerfile's HEALTHCHECK:
// quiet; nil when /healthz answers 200.
func Healthcheck(ctx context.Context, environ []string) error {
	a, err := addr(environ)
	if err != nil {
		return err
	}
	resp, err := get(ctx, "http://"+a+"/healthz")
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	return nil
}

// Status is `launcher status [--json]`: the running launcher's state for a
// person, or /status as it is. It says on stderr why it cannot.
func Status(ctx context.Context, environ []string, asJSON bool, stdout, stderr io.Writer) error {
	a, err := addr(environ)
	if err != nil {
		fmt.Fprintln(stderr, "launcher status: "+err.Error())
		return err
	}
	resp, err := get(ctx, "http://"+a+"/status")
	if err != nil {
		fmt.Fprintf(stderr, "launcher status: no launcher answers at %s: %v\n", a, err)
		return err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 4<<20))
	if err != nil {
		return err
	}
	if asJSON {
		_, err = stdout.Write(body)
		return err
	}
	var snap launcher.Snapshot
	if err := json.Unmarshal(body, &snap); err != nil {
		fmt.Fprintf(stderr, "launcher status: %s did not answer a status: %v\n", a, err)
		return err
	}
	WriteStatus(stdout, &snap, os.Getenv("NO_COLOR") == "")
	return nil
}
