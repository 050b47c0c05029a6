// Package bytesize writes a number of bytes for a person, in the binary
// units Docker's --memory and the configuration take: 160MiB, 1.2GiB. It
// is a leaf, so that packages which must not know the configuration (the
// preflight, the disk) say sizes as it does. Parsing sizes is the
// configuration's (config.ByteSize).
package bytesize

import (
	"fmt"
	"strconv"
)

// Format writes n bytes: whole units where they are whole, else one
// decimal, MiB under a GiB; under a MiB, KiB when whole, else bytes.
func Format(n int64) string {
	switch {
	case n >= 1<<30 && n%(1<<30) == 0:
		return fmt.Sprintf("%dGiB", n>>30)
	case n >= 1<<30:
		return fmt.Sprintf("%.1fGiB", float64(n)/(1<<30))
	case n >= 1<<20 && n%(1<<20) == 0:
		return fmt.Sprintf("%dMiB", n>>20)
	case n >= 1<<20:
		return fmt.Sprintf("%.1fMiB", float64(n)/(1<<20))
	case n >= 1<<10 && n%(1<<10) == 0:
		return fmt.Sprintf("%dKiB", n>>10)
	}
	return strconv.FormatInt(n, 10) + "B"
}
