// Command baseline is the floor of the launcher's own start: a static Go
// binary that imports the launcher's dependencies (their package init
// runs) and exits. bench/entrypoints times `launcher version` against it.
// It keeps net/http, as the target was set: the launcher has since left it
// out for HTTP of its own (launcher/http1), which is part of what the
// comparison measures.
package main

import (
	_ "net/http"

	_ "github.com/caarlos0/env/v11"
	_ "github.com/rs/zerolog"
	_ "github.com/shirou/gopsutil/v3/process"
)

func main() {}
