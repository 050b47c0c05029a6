package main

import (
	"context"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hasync/launcher/launcher/preflight"
)

// Hostile .node files in a package: empty, truncated, random bytes, an
// absurd section count. The check fails with a message naming the file,
// and nothing panics.
func TestBadInput_NodeFiles(t *testing.T) {
	fx := fixtures(t)
	good, err := os.ReadFile(filepath.Join(fx, "addons", "cxx.node"))
	must(t, err)
	rnd := make([]byte, 20000)
	rand.New(rand.NewSource(1)).Read(rnd)
	absurd := append([]byte(nil), good...)
	absurd[0x3c], absurd[0x3d] = 0xff, 0xff                                         // e_shnum 65535
	absurd[0x28], absurd[0x29], absurd[0x2a], absurd[0x2b] = 0xf0, 0xff, 0xff, 0x7f // e_shoff far away
	tooManyBytes := append([]byte(nil), good...)
	tooManyBytes[0x3a], tooManyBytes[0x3b] = 0xff, 0x7f // e_shentsize
	for name, data := range map[string][]byte{
		"empty":            {},
		"elf magic only":   []byte("\x7fELF"),
		"truncated header": good[:40],
		"truncated half":   good[:len(good)/2],
		"random":           rnd,
		"absurd sections":  absurd,
		"absurd entsize":   tooManyBytes,
		"a script":         []byte("#!/bin/sh\necho not a binary\n"),
	} {
		t.Run(name, func(t *testing.T) {
			app := newApp(t, ">=18", nil)
			bin := filepath.Join(t.TempDir(), "bad.node")
			must(t, os.WriteFile(bin, data, 0o644))
			nativePackage(t, app, "badmod", bin)
			p := &preflight.Preflight{AppDir: app, Entry: "index.js", Node: "node", NativeModules: []string{"badmod"}, Deep: true}
			r := p.Run(context.Background())
			var c preflight.Check
			for _, ch := range r.Checks {
				if ch.Name == "native:badmod" {
					c = ch
				}
			}
			if c.Status != preflight.StatusFail || !strings.Contains(c.Detail, "build/Release/bad.node") || c.Hint == "" {
				t.Errorf("want a failure naming the file, with a fix: %+v", c)
			}
		})
	}
}
