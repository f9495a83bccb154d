package store

import (
	"encoding/binary"
	"math/rand"
	"slices"
	"testing"
)

// encodeTestTimes is a time column's deltas (unit 1 ns) of n times a
// second or so apart, as a sparse stream's block holds them.
func encodeTestTimes(n int) ([]byte, []int64) {
	rng := rand.New(rand.NewSource(1))
	var raw []byte
	var times []int64
	t, prev := int64(1_767_225_600_000_000_000), int64(0)
	for range n {
		t += rng.Int63n(2e9)
		times = append(times, t)
		raw = binary.AppendVarint(raw, t-prev)
		prev = t
	}
	return raw, times
}

// TestDecodeTimes checks decodeTimes against the times encoded, and its
// refusals of damaged columns.
func TestDecodeTimes(t *testing.T) {
	raw, times := encodeTestTimes(1000)
	tests := []struct {
		name string
		src  []byte
		n    int
		unit int64
		want []int64
		err  bool
	}{
		{"whole", raw, len(times), 1, times, false},
		{"scaled", binary.AppendVarint(binary.AppendVarint(nil, 5), -2), 2, 1000, []int64{5000, 3000}, false},
		{"cut short", raw[:len(raw)-1], len(times), 1, nil, true},
		{"overflow", []byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f}, 1, 1, nil, true},
		{"too long", []byte{0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x01}, 1, 1, nil, true},
		{"out of range", binary.AppendVarint(nil, 1<<61), 1, 1000, nil, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var d decodedBlock
			r := reader{src: string(tt.src)}
			d.decodeTimes(&r, tt.n, tt.unit)
			if (r.err != nil) != tt.err {
				t.Fatalf("err %v, want error %v", r.err, tt.err)
			}
			if !tt.err && (!slices.Equal(d.times, tt.want) || r.remaining() != 0) {
				t.Errorf("times %v (%d bytes left), want %v", d.times[:min(5, len(d.times))], r.remaining(), tt.want[:min(5, len(tt.want))])
			}
		})
	}
}

func BenchmarkDecodeTimes(b *testing.B) {
	raw, times := encodeTestTimes(8192)
	src := string(raw)
	var d decodedBlock
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		r := reader{src: src}
		d.decodeTimes(&r, len(times), 1)
	}
}
