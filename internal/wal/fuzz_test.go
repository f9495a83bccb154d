package wal

import (
	"bytes"
	"encoding/binary"
	"hash/crc32"
	"os"
	"path/filepath"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// verified is a record entry's payload and the shared entry before it.
type verified struct {
	payload []byte
	sh      *record.Shared
}

// verifiedPayloads parses data independently of entryReader and returns the
// payloads of the leading record entries whose CRC verifies (control
// entries, which have the top bit of their length set, are skipped, but a
// shared entry is kept for the records after it).
func verifiedPayloads(data []byte) []verified {
	var out []verified
	var sh *record.Shared
	for len(data) >= 8 {
		n := binary.LittleEndian.Uint32(data)
		control := n&(1<<31) != 0
		n &^= 1 << 31
		sum := binary.LittleEndian.Uint32(data[4:])
		if n == 0 || uint64(n) > uint64(len(data)-8) {
			break
		}
		p := data[8 : 8+n]
		if crc32.Checksum(p, crc32.MakeTable(crc32.Castagnoli)) != sum {
			break
		}
		switch {
		case !control:
			out = append(out, verified{p, sh})
		case p[0] == ctlShared:
			sh = new(record.Shared)
			if record.DecodeShared(p[1:], sh) != nil {
				return out
			}
		case p[0] == ctlCommit || p[0] == ctlGap:
			sh = nil
		}
		data = data[8+n:]
	}
	return out
}

func FuzzSegmentReader(f *testing.F) {
	valid := appendControl(nil, headerPayload(formatVersion, false))
	valid = append(valid, batchBytes(1, testBatch(1, 3))...)
	valid = appendControl(valid, rangePayload(ctlCommit, 1, 3, nil, nil))
	f.Add(valid)
	f.Add(valid[:len(valid)-3])
	f.Add(append(bytes.Clone(valid), 0, 0, 0, 0, 0, 0, 0, 0, 1))
	f.Add(appendEntry(nil, 5, new(testRecord(5))))
	f.Add([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 0})
	f.Add([]byte{})
	// One directory for all inputs: a fresh one per input makes each run
	// slow enough to stall the fuzzer's minimisation. Inputs run one at a
	// time within a process.
	dir := f.TempDir()
	f.Fuzz(func(t *testing.T, data []byte) {
		if err := os.RemoveAll(dir); err != nil {
			t.Fatal(err)
		}
		if err := os.Mkdir(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, segmentName(1)), data, 0o644); err != nil {
			t.Fatal(err)
		}
		l, err := Open(dir, Options{}, nil)
		if err != nil {
			return
		}
		defer l.Close()
		verified := verifiedPayloads(data)
		if l.LastSeq() > uint64(len(verified)) {
			t.Fatalf("LastSeq %d but only %d entries verify", l.LastSeq(), len(verified))
		}
		var i int
		err = l.Replay(0, func(seq uint64, r *record.Record) error {
			if i >= len(verified) {
				t.Fatalf("record %d replayed, but only %d entries verify", i, len(verified))
			}
			want := binary.AppendUvarint(nil, seq)
			if sh := verified[i].sh; sh != nil {
				want = record.AppendBinaryShared(want, r, sh)
			} else {
				want = record.AppendBinary(want, r)
			}
			if !bytes.Equal(want, verified[i].payload) {
				t.Fatalf("record %d (seq %d) does not re-encode to its verified payload", i, seq)
			}
			i++
			return nil
		})
		if err == nil && uint64(i) != l.LastSeq() {
			t.Fatalf("replayed %d records, LastSeq %d", i, l.LastSeq())
		}
	})
}
