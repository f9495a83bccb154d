package durable

import "os"

// Statter is what Unlinked needs of an open file (an *os.File).
type Statter interface {
	Stat() (os.FileInfo, error)
}

// Unlinked reports whether the open file f has no name left in any
// directory: it, or a directory above it, was removed (rm -rf) while the
// file was open. Writes to such a file succeed and even fsync, but the
// bytes are gone once it is closed, so nothing written to it may be
// reported durable. It costs one fstat. A failed fstat is returned as
// such; where the platform does not report link counts, Unlinked is false.
func Unlinked(f Statter) (bool, error) {
	fi, err := f.Stat()
	if err != nil {
		return false, err
	}
	n, ok := linkCount(fi)
	return ok && n == 0, nil
}
