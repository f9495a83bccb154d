//go:build !unix

package durable

import "os"

func linkCount(os.FileInfo) (uint64, bool) { return 0, false }
