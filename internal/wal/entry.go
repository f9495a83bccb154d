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

// castagnoli is read-only after initialisation; CRC-32C has hardware
// support on common CPUs.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// appendEntry appends the entry for r with sequence number seq to dst.
func appendEntry(dst []byte, seq uint64, r *record.Record) []byte {
	start := len(dst)
	dst = append(dst, make([]byte, headerSize)...)
	dst = binary.AppendUvarint(dst, seq)
	dst = record.AppendBinary(dst, r)
	payload := dst[start+headerSize:]
	binary.LittleEndian.PutUint32(dst[start:], uint32(len(payload)))
	binary.LittleEndian.PutUint32(dst[start+4:], crc32.Checksum(payload, castagnoli))
	return dst
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
}

func newEntryReader(r io.Reader, size int64) *entryReader {
	return &entryReader{r: bufio.NewReaderSize(r, 64<<10), remaining: size}
}

// next returns the seq and the encoded record of the next entry; the bytes
// are valid until the following call. At a clean end it returns io.EOF. For
// a damaged entry it returns an error wrapping ErrCorrupt and leaves off at
// the start of that entry; any other error is an I/O error.
func (er *entryReader) next() (uint64, []byte, error) {
	if er.remaining == 0 {
		return 0, nil, io.EOF
	}
	if er.remaining < headerSize {
		return 0, nil, fmt.Errorf("%w: %d bytes left, too short for an entry header", ErrCorrupt, er.remaining)
	}
	if _, err := io.ReadFull(er.r, er.hdr[:]); err != nil {
		return 0, nil, fmt.Errorf("read entry header: %w", err)
	}
	n := int64(binary.LittleEndian.Uint32(er.hdr[:4]))
	sum := binary.LittleEndian.Uint32(er.hdr[4:])
	switch {
	case n == 0 || n > MaxEntrySize:
		return 0, nil, fmt.Errorf("%w: invalid length %d", ErrCorrupt, n)
	case n > er.remaining-headerSize:
		return 0, nil, fmt.Errorf("%w: length %d runs past the end (%d bytes left)", ErrCorrupt, n, er.remaining-headerSize)
	}
	if int64(cap(er.buf)) < n {
		er.buf = make([]byte, n)
	}
	payload := er.buf[:n]
	if _, err := io.ReadFull(er.r, payload); err != nil {
		return 0, nil, fmt.Errorf("read entry payload: %w", err)
	}
	if crc32.Checksum(payload, castagnoli) != sum {
		return 0, nil, fmt.Errorf("%w: checksum mismatch", ErrCorrupt)
	}
	seq, k := binary.Uvarint(payload)
	if k <= 0 {
		return 0, nil, fmt.Errorf("%w: bad sequence number", ErrCorrupt)
	}
	er.off += headerSize + n
	er.remaining -= headerSize + n
	return seq, payload[k:], nil
}
