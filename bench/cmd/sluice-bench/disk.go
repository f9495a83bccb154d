package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"path/filepath"
	"time"
)

// dirSize sums the sizes of the regular files under dir. Files that vanish
// while it walks (a merge replacing parts) are skipped, not errors.
func dirSize(dir string) (int64, error) {
	var total int64
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path != dir {
				return nil
			}
			return err
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil {
			return err
		}
		total += info.Size()
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("size of data dir %s: %w", dir, err)
	}
	return total, nil
}

// settledSize waits until the size of dir has not changed for stable (the
// store merges for a while after the last write) and returns that size and
// how long after the call it last changed.
func settledSize(ctx context.Context, dir string, stable, poll, timeout time.Duration) (int64, time.Duration, error) {
	start := time.Now()
	last, err := dirSize(dir)
	if err != nil {
		return 0, 0, err
	}
	since := start
	for time.Since(since) < stable {
		if time.Since(start) > timeout {
			return 0, time.Since(start), fmt.Errorf("data dir %s still changing after %s", dir, timeout)
		}
		select {
		case <-ctx.Done():
			return 0, time.Since(start), ctx.Err()
		case <-time.After(poll):
		}
		size, err := dirSize(dir)
		if err != nil {
			return 0, time.Since(start), err
		}
		if size != last {
			last, since = size, time.Now()
		}
	}
	return last, since.Sub(start), nil
}
