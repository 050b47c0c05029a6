package launcher

import (
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"syscall"

	"github.com/hasync/launcher/launcher/preflight"
	"github.com/hasync/launcher/launcher/regular"
	"github.com/rs/zerolog"
)

// maxRecordBytes caps the record read back: a few hundred bytes per file
// the preflight read; a reference backend's is about 60 KB.
const maxRecordBytes = 32 << 20

// recordFile keeps the preflight's record (preflight.Record) between
// starts, in LAUNCHER_PREFLIGHT_RECORD: by default in the add-on's /data,
// which outlives the container, so every start after the first of an image
// recalls the report instead of checking again, while nothing the checks
// read has changed. It is read once per launcher, and written after each
// preflight that checked and passed. A record that cannot be read or
// written only costs the full preflight: it is never a failure.
//
// The file is the launcher's own (mode 0600, replaced by a rename, never
// written through a symlink); node, under LAUNCHER_USER, cannot forge one.
type recordFile struct {
	path string // empty: no record
	log  zerolog.Logger

	mu   sync.Mutex
	read bool
	last *preflight.Record
}

// load returns the record kept by an earlier start or preflight, or nil.
func (f *recordFile) load() *preflight.Record {
	if f.path == "" {
		return nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.read {
		return f.last
	}
	f.read = true
	rec, err := readRecord(f.path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		f.log.Debug().Str("record", f.path).Msg("no preflight record yet: the preflight checks everything")
	case err != nil:
		f.log.Warn().Err(err).Str("record", f.path).Msg("preflight record unreadable: the preflight checks everything and writes it again")
	}
	f.last = rec
	return rec
}

func readRecord(path string) (*preflight.Record, error) {
	// A regular file only, as for the options file: a FIFO opened for
	// reading would wait for a writer, and node with it, at the gate.
	b, err := regular.ReadFile(path, maxRecordBytes)
	if err != nil {
		return nil, err
	}
	return preflight.ParseRecord(b)
}

// keep writes rec for the next start; nil keeps nothing.
func (f *recordFile) keep(rec *preflight.Record) {
	if f.path == "" || rec == nil {
		return
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.last, f.read = rec, true
	err := writeRecord(f.path, rec)
	switch {
	case errors.Is(err, fs.ErrNotExist): // no /data: a docker run without the add-on's volume
		f.log.Debug().Err(err).Str("record", f.path).Msg("preflight record not kept: its folder does not exist")
	case errors.Is(err, syscall.EROFS) || errors.Is(err, syscall.ENOSPC) || errors.Is(err, syscall.EDQUOT):
		// The disk is what to mend, and the log says how it stands.
		f.log.Warn().Err(err).Str("record", f.path).Msg("preflight record not kept: the disk under it takes no writes; every start checks everything until it does")
	case err != nil:
		f.log.Warn().Err(err).Str("record", f.path).Msg("preflight record not kept: every start checks everything (set LAUNCHER_PREFLIGHT_RECORD to a writable path, or empty for none)")
	default:
		f.log.Debug().Str("record", f.path).Int("reads", len(rec.Reads)).Msg("preflight record kept")
	}
}

// writeRecord replaces path with rec, through a new file renamed over it.
func writeRecord(path string, rec *preflight.Record) error {
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // after the rename, nothing is there
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
