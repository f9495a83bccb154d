package sink

import (
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"

	"github.com/sluice-log/sluice/internal/durable"
)

// watermarkFile is the store sink's durable record of what it has made
// durable, per topic and partition. It is rewritten atomically (temporary
// file, fsync, rename, fsync directory) twice per batch: once with the
// batch's offset ranges as Pending before the pipeline's Ingest, once with
// Done advanced and Pending cleared after Ingest returned.
type watermarkFile struct {
	Partitions map[string]*partitionMark `json:"partitions"`
}

// partitionMark is one partition's watermark.
type partitionMark struct {
	// Done is the greatest offset known to be durable in the store; -1 when
	// none is.
	Done int64 `json:"done"`
	// Pending, when set, is the range of a batch handed to Ingest whose
	// outcome is unknown: the process may have died before or after the
	// WAL made it durable. Open resolves it by searching the store.
	Pending *pendingRange `json:"pending,omitempty"`
	// Held are the offset ranges whose records the store holds, merged
	// (see Ranges). They are written with Done, by the same rename.
	Held Ranges `json:"held,omitempty"`
}

type pendingRange struct {
	First   int64    `json:"first"`
	Last    int64    `json:"last"`
	Tenants []string `json:"tenants"`
	// Continues says the consumer read the partition without a break
	// since its previous batch: the offsets between Done and First are
	// none that another consumer could hold.
	Continues bool `json:"continues,omitempty"`
}

func partitionKey(topic string, partition int32) string {
	return topic + "/" + strconv.Itoa(int(partition))
}

func readWatermarks(path string) (*watermarkFile, error) {
	wm := &watermarkFile{Partitions: map[string]*partitionMark{}}
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return wm, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read offset watermarks: %w", err)
	}
	if err := json.Unmarshal(b, wm); err != nil {
		return nil, fmt.Errorf("parse offset watermarks %s: %w", path, err)
	}
	if wm.Partitions == nil {
		wm.Partitions = map[string]*partitionMark{}
	}
	for _, pm := range wm.Partitions {
		if pm.Held == nil && pm.Done >= 0 {
			// Written before Held was: the file knew only the greatest
			// offset stored, and the partition was consumed from its
			// start by this indexer or by others first. Claiming every
			// offset up to Done may give a querier an overlap to divide
			// that is not one; it can miss no record this store holds.
			pm.Held = Ranges{{0, pm.Done}}
		}
	}
	return wm, nil
}

// writeWatermarks replaces path atomically and durably.
func writeWatermarks(path string, wm *watermarkFile) error {
	b, err := json.Marshal(wm)
	if err != nil {
		return fmt.Errorf("encode offset watermarks: %w", err)
	}
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_TRUNC|os.O_WRONLY, 0o644)
	if err != nil {
		return fmt.Errorf("write offset watermarks: %w", err)
	}
	if _, err := f.Write(b); err != nil {
		f.Close()
		return fmt.Errorf("write offset watermarks: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("fsync offset watermarks: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close offset watermarks: %w", err)
	}
	faultWatermarkSynced.Hit()
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("rename offset watermarks: %w", err)
	}
	if err := durable.SyncDir(filepath.Dir(path)); err != nil {
		return fmt.Errorf("offset watermarks: %w", err)
	}
	return nil
}
