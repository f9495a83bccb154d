package store

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"hash"
	"os"
	"path/filepath"

	"github.com/klauspost/compress/zstd"
	"github.com/sluice-log/sluice/internal/record"
)

// partWriter writes one part file from records that arrive grouped by
// stream key (and, within a stream, preferably by time). The file is
// written under a .tmp name and becomes the part only in commit.
type partWriter struct {
	dir       string // the partition directory
	partition string
	name      string
	tmp       string
	f         *os.File
	bw        *bufio.Writer
	h         hash.Hash
	off       int64
	enc       *zstd.Encoder
	benc      blockEncoder
	maxRecs   int
	metas     []blockMeta
	records   int64
	cur       blockBuilder
	block     []byte // the stored bytes of the block being sealed
}

func newPartWriter(dir, partition, name string, enc *zstd.Encoder, maxRecs int) (*partWriter, error) {
	if err := mkdirDurable(dir); err != nil {
		return nil, err
	}
	tmp := filepath.Join(dir, name+partExt+tmpExt)
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o644)
	if err != nil {
		return nil, fmt.Errorf("create part %s: %w", tmp, err)
	}
	w := &partWriter{dir: dir, partition: partition, name: name, tmp: tmp, f: f, h: sha256.New(), enc: enc, maxRecs: maxRecs,
		benc: blockEncoder{enc: enc}}
	w.bw = bufio.NewWriterSize(f, 1<<20)
	if err := w.write([]byte(partMagic)); err != nil {
		w.abort()
		return nil, err
	}
	return w, nil
}

func (w *partWriter) write(b []byte) error {
	if _, err := w.bw.Write(b); err != nil {
		return fmt.Errorf("write part %s: %w", w.tmp, err)
	}
	w.h.Write(b)
	w.off += int64(len(b))
	return nil
}

// add appends r; key is streamKey(r.Tenant, r.Stream).
func (w *partWriter) add(r *record.Record, key string) error {
	if w.cur.len() > 0 && (w.cur.key != key || w.cur.len() >= w.maxRecs || w.cur.rawBytes >= maxBlockRawBytes) {
		if err := w.sealBlock(); err != nil {
			return err
		}
	}
	if w.cur.len() == 0 {
		w.cur.reset(r, key)
	}
	w.cur.add(r)
	w.records++
	return nil
}

func (w *partWriter) sealBlock() error {
	var m blockMeta
	w.block = w.cur.encode(w.block[:0], &m, &w.benc)
	m.offset = w.off
	w.metas = append(w.metas, m)
	w.cur.times = w.cur.times[:0]
	return w.write(w.block)
}

// commit writes the index and footer, makes the file durable and renames it
// to its final name. The part is not live until the manifest says so.
func (w *partWriter) commit(ctx context.Context) (partRef, []blockMeta, error) {
	if w.cur.len() > 0 {
		if err := w.sealBlock(); err != nil {
			w.abort()
			return partRef{}, nil, err
		}
	}
	if err := ctx.Err(); err != nil {
		w.abort()
		return partRef{}, nil, err
	}
	idx := w.enc.EncodeAll(appendIndex(nil, w.metas), nil)
	idxOff := w.off
	if err := w.write(idx); err != nil {
		w.abort()
		return partRef{}, nil, err
	}
	foot := binary.LittleEndian.AppendUint64(nil, uint64(idxOff))
	foot = binary.LittleEndian.AppendUint64(foot, uint64(len(idx)))
	foot = w.h.Sum(foot) // the hash of everything before the footer
	foot = append(foot, partEndMagic...)
	if err := w.write(foot); err != nil {
		w.abort()
		return partRef{}, nil, err
	}
	err := w.bw.Flush()
	if err == nil {
		err = w.f.Sync()
	}
	if cerr := w.f.Close(); err == nil {
		err = cerr
	}
	final := filepath.Join(w.dir, w.name+partExt)
	if err == nil {
		err = os.Rename(w.tmp, final)
	}
	if err == nil {
		err = syncDir(w.dir)
	}
	if err != nil {
		_ = os.Remove(w.tmp)
		_ = os.Remove(final)
		return partRef{}, nil, fmt.Errorf("commit part %s: %w", final, err)
	}
	ref := partRef{Partition: w.partition, Name: w.name, Records: w.records, Size: w.off, SHA256: fmt.Sprintf("%x", w.h.Sum(nil))}
	return ref, w.metas, nil
}

func (w *partWriter) abort() {
	_ = w.f.Close()
	_ = os.Remove(w.tmp)
}

// mkdirDurable creates dir if needed and makes its entry in the parent
// durable, so that a part synced inside it survives a crash.
func mkdirDurable(dir string) error {
	if _, err := os.Stat(dir); err == nil {
		return nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create dir %s: %w", dir, err)
	}
	return syncDir(filepath.Dir(dir))
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("open dir %s for sync: %w", dir, err)
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync dir %s: %w", dir, err)
	}
	return nil
}
