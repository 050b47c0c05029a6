//go:build e2e

package e2e

import (
	"bytes"
	"fmt"
	"image/png"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"
)

// ingressProxy stands in for the Supervisor's ingress proxy
// (supervisor/api/ingress.py): it serves the app under
// /api/hassio_ingress/<token>/, strips that prefix, and sends the headers
// Home Assistant sends (X-Ingress-Path, X-Forwarded-*). It records every
// request the browser made and how it was answered.
type ingressProxy struct {
	token string
	app   *url.URL

	mu   sync.Mutex
	seen []string // "status path"
}

func (p *ingressProxy) prefix() string { return "/api/hassio_ingress/" + p.token }

func (p *ingressProxy) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rec := &statusRecorder{ResponseWriter: w, status: 200}
	defer func() {
		p.mu.Lock()
		p.seen = append(p.seen, fmt.Sprintf("%d %s", rec.status, r.URL.Path))
		p.mu.Unlock()
	}()
	rest, ok := strings.CutPrefix(r.URL.Path, p.prefix())
	if !ok {
		http.NotFound(rec, r) // Home Assistant's own paths: not the app's
		return
	}
	if rest == "" {
		rest = "/"
	}
	// An app that cannot be reached is answered 502 Bad Gateway, as the
	// Supervisor answers it; the status is recorded, not logged.
	proxy := &httputil.ReverseProxy{ErrorLog: log.New(io.Discard, "", 0), Rewrite: func(pr *httputil.ProxyRequest) {
		pr.SetURL(p.app)
		pr.Out.URL.Path = rest
		pr.Out.URL.RawPath = ""
		pr.SetXForwarded()
		pr.Out.Header.Set("X-Ingress-Path", p.prefix())
	}}
	proxy.ServeHTTP(rec, r)
}

func (p *ingressProxy) requests() []string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]string(nil), p.seen...)
}

type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (s *statusRecorder) WriteHeader(code int) {
	s.status = code
	s.ResponseWriter.WriteHeader(code)
}

func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// chromium runs Debian's headless Chromium with the flags this closed
// network needs, and returns what it printed.
func chromium(t *testing.T, args ...string) string {
	t.Helper()
	bin, err := exec.LookPath("chromium")
	if err != nil {
		t.Fatal("chromium is not installed (apt-get install chromium)")
	}
	base := []string{"--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
		"--disable-background-networking", "--disable-component-update", "--disable-sync",
		"--user-data-dir=" + t.TempDir(), "--virtual-time-budget=10000"}
	out, err := exec.Command(bin, append(base, args...)...).Output()
	if err != nil {
		t.Fatalf("chromium %v: %v", args, err)
	}
	return string(out)
}

// The page opened through Home Assistant's ingress: the reference backend,
// supervised by the launcher, behind a proxy that mounts it where Home
// Assistant does, loaded in a real browser. The page renders its backend's
// health (its script's fetch went through the proxy), and no request fails
// or leaves the ingress path, whether the page was opened with the trailing
// slash or without.
func TestIngressPageInABrowser(t *testing.T) {
	repo, _ := filepath.Abs("..")
	backend := filepath.Join(repo, "rootfs", "app", "backend")
	frontend := filepath.Join(repo, "rootfs", "app", "frontend", "dist")
	for _, need := range []string{filepath.Join(repo, "bin", "launcher"), filepath.Join(backend, "dist", "index.js"), filepath.Join(frontend, "index.html")} {
		if _, err := os.Stat(need); err != nil {
			t.Fatalf("%s is missing: run make build backend frontend (make e2e does)", need)
		}
	}
	port := freePort(t)
	data := t.TempDir()
	launcher := exec.Command(filepath.Join(repo, "bin", "launcher"), "run")
	launcher.Env = append(os.Environ(),
		"LAUNCHER_APP_DIR="+backend, "LAUNCHER_ENTRY=dist/index.js", "LAUNCHER_HEALTH_ADDR=off",
		"LAUNCHER_OPTIONS_FILE="+filepath.Join(data, "options.json"),
		fmt.Sprintf("LAUNCHER_READY_URL=http://127.0.0.1:%d/api/health", port),
		fmt.Sprintf("PORT=%d", port), "HOST=127.0.0.1", "FRONTEND_DIR="+frontend,
		"DATABASE_PATH="+filepath.Join(data, "hasync.db"))
	var logs bytes.Buffer
	launcher.Stdout, launcher.Stderr = &logs, &logs
	if err := launcher.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = launcher.Process.Signal(os.Interrupt)
		_ = launcher.Wait()
		if t.Failed() {
			t.Logf("launcher:\n%s", logs.String())
		}
	})
	deadline := time.Now().Add(30 * time.Second)
	for {
		if res, err := http.Get(fmt.Sprintf("http://127.0.0.1:%d/api/health", port)); err == nil {
			res.Body.Close()
			if res.StatusCode == 200 {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the backend never answered")
		}
		time.Sleep(50 * time.Millisecond)
	}

	app, _ := url.Parse(fmt.Sprintf("http://127.0.0.1:%d", port))
	proxy := &ingressProxy{token: "Xk3_9fQ-2aT7bLm0", app: app}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: proxy}
	go srv.Serve(l)
	t.Cleanup(func() { srv.Close() })
	home := "http://" + l.Addr().String()

	for _, page := range []string{proxy.prefix() + "/", proxy.prefix()} {
		before := len(proxy.requests())
		dom := chromium(t, "--dump-dom", home+page)
		if !strings.Contains(dom, "ok, database connected") {
			t.Errorf("%s: the page did not render its backend's health through the proxy:\n%s", page, dom)
		}
		reqs := proxy.requests()[before:]
		var css, api bool
		for _, r := range reqs {
			status, p, _ := strings.Cut(r, " ")
			if p == "/favicon.ico" {
				continue // the browser's own guess, answered by Home Assistant
			}
			if status != "200" || !strings.HasPrefix(p, proxy.prefix()) {
				t.Errorf("%s: a request failed or left the ingress path: %s", page, r)
			}
			css = css || strings.HasSuffix(p, ".css")
			api = api || strings.HasSuffix(p, "/api/health")
		}
		if !css || !api {
			t.Errorf("%s: the browser did not load the stylesheet and the health through the proxy: %v", page, reqs)
		}
	}

	// A screenshot of the page as Home Assistant's panel shows it:
	// INGRESS_SCREENSHOT=docs/ingress.png make e2e refreshes the README's.
	shot := filepath.Join(t.TempDir(), "ingress.png")
	if p := os.Getenv("INGRESS_SCREENSHOT"); p != "" {
		shot, _ = filepath.Abs(filepath.Join(repo, p))
	}
	chromium(t, "--screenshot="+shot, "--window-size=900,420", "--hide-scrollbars", home+proxy.prefix()+"/")
	f, err := os.Open(shot)
	if err != nil {
		t.Fatalf("no screenshot: %v", err)
	}
	defer f.Close()
	if img, err := png.Decode(f); err != nil || img.Bounds().Dx() != 900 {
		t.Errorf("the screenshot is not a 900 px wide PNG: %v", err)
	}
}
