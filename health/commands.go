package health

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/hasync/launcher/launcher"
	"github.com/hasync/launcher/launcher/config"
	"github.com/hasync/launcher/launcher/http1"
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

// get GETs url from the running launcher, within 3 s.
func get(ctx context.Context, url string) (*http1.Response, error) {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	return http1.Get(ctx, url, 4<<20)
}

// Healthcheck is `launcher healthcheck`, for the Dockerfile's HEALTHCHECK:
// quiet; nil when /healthz answers 200 and, with started, once node has
// been ready since the launcher started. Docker counts a container as
// starting until its first healthy check, and the Supervisor shows an
// add-on as started only then: --started makes that the moment the app
// first answers, not the moment node was spawned.
func Healthcheck(ctx context.Context, environ []string, started bool) error {
	a, err := addr(environ)
	if err != nil {
		return err
	}
	resp, err := get(ctx, "http://"+a+"/healthz")
	if err != nil {
		return err
	}
	if resp.StatusCode != 200 {
		return fmt.Errorf("healthz answered %s", resp.Status)
	}
	if !started {
		return nil
	}
	var body struct {
		Started bool `json:"started"`
	}
	if err := json.Unmarshal(resp.Body, &body); err != nil {
		return fmt.Errorf("healthz answered no health: %w", err)
	}
	if !body.Started {
		return errors.New("node has not been ready yet")
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
	if asJSON {
		_, err = stdout.Write(resp.Body)
		return err
	}
	var snap launcher.Snapshot
	if err := json.Unmarshal(resp.Body, &snap); err != nil {
		fmt.Fprintf(stderr, "launcher status: %s did not answer a status: %v\n", a, err)
		return err
	}
	WriteStatus(stdout, &snap, os.Getenv("NO_COLOR") == "")
	return nil
}
