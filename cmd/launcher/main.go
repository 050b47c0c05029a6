// Command launcher is the container entrypoint of a Node.js Home Assistant
// add-on: it checks that the backend will load, then runs and supervises it,
// serving its health and metrics. See packages launcher and health.
package main

import (
	"context"
	"os"

	"github.com/hasync/launcher/health"
	"github.com/hasync/launcher/launcher"
)

func main() {
	m := launcher.NewMain()
	health.Wire(m)
	err := m.Run(context.Background(), os.Args[1:])
	os.Exit(launcher.ExitCode(err))
}
