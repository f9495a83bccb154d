package wal

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
)

const segmentSuffix = ".wal"

// segment is one segment file: the seq it starts at (its name), its size,
// the size of its header entry (0 in a segment of the first format) and
// its format version (0 for the first format).
type segment struct {
	first   uint64
	size    int64
	hdr     int64
	version byte
}

// empty reports whether the segment holds no record.
func (s segment) empty() bool { return s.size <= s.hdr }

func segmentName(first uint64) string {
	return fmt.Sprintf("%020d%s", first, segmentSuffix)
}

// parseSegmentName returns the first seq of a segment file name; ok is
// false for files that are not segments.
func parseSegmentName(name string) (uint64, bool) {
	digits, found := strings.CutSuffix(name, segmentSuffix)
	if !found || len(digits) != 20 {
		return 0, false
	}
	first, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || first == 0 {
		return 0, false
	}
	return first, true
}

// listSegments returns the first seqs of the segments in dir, ascending.
func listSegments(dir string) ([]uint64, error) {
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("wal: list segments in %s: %w", dir, err)
	}
	var firsts []uint64
	for _, e := range ents {
		if first, ok := parseSegmentName(e.Name()); ok && e.Type().IsRegular() {
			firsts = append(firsts, first)
		}
	}
	slices.Sort(firsts)
	return firsts, nil
}

func (l *Log) segmentPath(first uint64) string {
	return filepath.Join(l.dir, segmentName(first))
}
