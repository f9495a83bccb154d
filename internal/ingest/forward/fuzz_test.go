package forward

import (
	"errors"
	"testing"

	"github.com/sluice-log/sluice/internal/record"
)

// FuzzDecode feeds arbitrary bytes through the framing scanner and the
// decoder: neither may panic, the scanner's length must be what the
// decoder consumes, and every record must satisfy the record contract.
func FuzzDecode(f *testing.F) {
	f.Add([]byte(mp{}.arr(4).str("app").eventTime(sec, 1).mapN(2).kv("log", "x").str("n").mapN(1).kv("a", "b").chunk("c")))
	f.Add(cat(mp{}.arr(3).str("app").arr(1), entry(sec, "one"), mp{}.mapN(1).str("size").fixint(1)))
	f.Add([]byte(mp{}.arr(2).str("app").bin(cat(entry(sec, "a"), entry(sec, "b")))))
	f.Add([]byte(mp{}.arr(3).str("app").bin(gz(f, entry(sec, "z"))).mapN(1).kv("compressed", "gzip")))
	f.Add([]byte(mp{}.arr(3).str("app").u32(sec).mapN(1).str("t").arr(2).f64(0x7ff8000000000001).raw(0xd7, 0, 0, 0, 0, 1, 0, 0, 0, 1)))
	f.Add([]byte(mp{}.arr(2).str("app").arr32(1 << 31)))
	f.Add(cat(mp{}.arr(2).str("app").arr(2), mp{}.arr(2).raw(0xcf, 0, 0, 0, 3, 0, 0, 0, 0).mapN(1).kv("log", "x"), entry(sec, "y")))
	f.Add(cat(mp{}.arr(2).str("app").arr(1), mp{}.arr(2).arr(2).str("t").mapN(0).mapN(1).kv("log", "x")))
	f.Fuzz(func(t *testing.T, in []byte) {
		var s scanner
		s.reset(1 << 16)
		n, serr := s.scan(in)
		d := newDecoder(1<<16, 64, nil)
		recs, _, err := d.decode(in, nil)
		if serr == nil && n == len(in) && err != nil && !isBadInput(err) {
			t.Fatalf("unexpected error class: %v", err)
		}
		if err == nil && (serr != nil || n != len(in)) {
			t.Fatalf("decoder accepted %d bytes the scanner framed as %d (%v)", len(in), n, serr)
		}
		for _, r := range recs {
			names := map[string]bool{}
			for _, f := range append(append([]record.Field(nil), r.Stream...), r.Fields...) {
				if names[f.Name] || f.Name == "" || f.Name == "_msg" || f.Name == "_time" || f.Name == "_stream" {
					t.Fatalf("bad or repeated field name %q in %s", f.Name, dump(recs))
				}
				names[f.Name] = true
			}
		}
	})
}

func isBadInput(err error) bool {
	return errors.Is(err, errMalformed) || errors.Is(err, errCompression) || errors.Is(err, errTooLarge) ||
		errors.Is(err, errTooDeep) || errors.Is(err, errBadByte) || errors.Is(err, errShort)
}
