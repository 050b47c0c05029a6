// Command launcher is the container entrypoint of a Node.js Home Assistant
// add-on: it checks that the backend will load, then runs and supervises it.
// See package launcher.
package main

import (
	"context"
	"os"

	"github.com/hasync/launcher/launcher"
)

func main() {
	err := launcher.NewMain().Run(context.Background(), os.Args[1:])
	os.Exit(launcher.ExitCode(err))
}
