//go:build unix

package durable

import (
	"os"
	"syscall"
)

// linkCount returns the number of directory entries naming the file fi
// describes; ok is false where the platform does not say.
func linkCount(fi os.FileInfo) (n uint64, ok bool) {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok {
		return 0, false
	}
	return uint64(st.Nlink), true
}
