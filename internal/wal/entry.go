package wal

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"hash/crc32"
	"io"

	"github.com/sluice-log/sluice/internal/record"
)

const headerSize = 8

// controlFlag marks a control entry (a segment header, a batch commit or a
// gap) in the length field. Lengths never reach it (MaxEntrySize is 64 MiB),
// so a reader of the first format sees a control entry as damage rather
// than as a record.
const controlFlag = 1 << 31

// castagnoli is read-only after initialisation; CRC-32C has hardware
// support on common CPUs.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendEntryShared appends the entry for r with sequence number seq,
// encoded relative to sh (format 3), to dst.
func appendEntryShared(dst []byte, seq uint64, r *record.Record, sh *record.Shared) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = binary.AppendUvarint(dst, seq)
	dst = record.AppendBinaryShared(dst, r, sh)
	return sealEntry(dst, start, 0)
}

// appendSharedEntry appends the shared entry for sh to dst: a control
// entry, so that a reader of format 2 takes it for damage, not a record.
func appendSharedEntry(dst []byte, sh *record.Shared) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = append(dst, ctlShared)
	dst = record.AppendShared(dst, sh)
	return sealEntry(dst, start, controlFlag)
}

// sealEntry fills in the header of the entry at dst[start:], whose payload
// runs to the end of dst: its length, with flag, and its checksum.
func sealEntry(dst []byte, start int, flag uint32) []byte {
	payload := dst[start+headerSize:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload))|flag)
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst
}

// appendControl appends a control entry with payload to dst.
func appendControl(dst, payload []byte) []byte {
	dst = binary.LittleEndian.AppendUint32(dst, uint32(len(payload))|controlFlag)
	dst = binary.LittleEndian.AppendUint32(dst, crc32.Checksum(payload, castagnoli))
	return append(dst, payload...)
}

// entry is one entry as read: a record (seq and its encoded body) or a
// control entry (body is its payload).
type entry struct {
	control bool
	seq     uint64
	body    []byte
}

// entryReader reads the entries of one segment. It never allocates more
// than the smaller of MaxEntrySize and the bytes left in the segment, so a
// hostile length field cannot exhaust memory.
type entryReader struct {
	r         *bufio.Reader
	remaining int64 // bytes of the segment not yet consumed
	off       int64 // offset of the next entry
	hdr       [headerSize]byte
	buf       []byte
	// onBatch, if set, sees the bytes of every record entry and shared
	// entry read (header and payload), for the digest a signed commit
	// covers.
	onBatch func(hdr, payload []byte)
}

func newEntryReader(r io.Reader, size int64) *entryReader {
	return &entryReader{r: bufio.NewReaderSize(r, 64<<10), remaining: size}
}

// next returns the next entry; its bytes are valid until the following
// call. At a clean end it returns io.EOF. For a damaged entry it returns an
// error wrapping ErrCorrupt and leaves off at the start of that entry; any
// other error is an I/O error.
func (er *entryReader) next() (entry, error) {
	if er.remaining == 0 {
		return entry{}, io.EOF
	}
	if er.remaining < headerSize {
		return entry{}, fmt.Errorf("%w: %d bytes left, too short for an entry header", ErrCorrupt, er.remaining)
	}
	if _, err := io.ReadFull(er.r, er.hdr[:]); err != nil {
		return entry{}, fmt.Errorf("read entry header: %w", err)
	}
	n := int64(binary.LittleEndian.Uint32(er.hdr[:4]))
	control := n&controlFlag != 0
	n &^= controlFlag
	sum := binary.LittleEndian.Uint32(er.hdr[4:])
	switch {
	case n == 0 || n > MaxEntrySize:
		return entry{}, fmt.Errorf("%w: invalid length %d", ErrCorrupt, n)
	case n > er.remaining-headerSize:
		return entry{}, fmt.Errorf("%w: length %d runs past the end (%d bytes left)", ErrCorrupt, n, er.remaining-headerSize)
	}
	if int64(cap(er.buf)) < n {
		er.buf = make([]byte, n)
	}
	payload := er.buf[:n]
	if _, err := io.ReadFull(er.r, payload); err != nil {
		return entry{}, fmt.Errorf("read entry payload: %w", err)
	}
	if crc32.Checksum(payload, castagnoli) != sum {
		return entry{}, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	e := entry{control: control, body: payload}
	if !control {
		seq, k := binary.Uvarint(payload)
		if k <= 0 {
			return entry{}, fmt.Errorf("%w: bad sequence number", ErrCorrupt)
		}
		e.seq, e.body = seq, payload[k:]
	}
	if er.onBatch != nil && (!control || payload[0] == ctlShared) {
		er.onBatch(er.hdr[:], payload)
	}
	er.off += headerSize + n
	er.remaining -= headerSize + n
	return e, nil
}
