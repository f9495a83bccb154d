package store

import (
	"math"
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

// TestPackedTimesRoundTrip encodes times as encPackedDelta and decodes
// them back: sorted and unsorted rows, one row, equal times, whole
// seconds, extreme deltas, and the widths that do not fit.
func TestPackedTimesRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	base := int64(1_767_225_600_000_000_000)
	sparse := []int64{base}
	for range 1000 {
		sparse = append(sparse, sparse[len(sparse)-1]+rng.Int64N(200)*1e9)
	}
	nanos := []int64{base}
	for range 777 {
		nanos = append(nanos, nanos[len(nanos)-1]+rng.Int64N(3e9))
	}
	unsorted := slices.Clone(nanos[:100])
	rng.Shuffle(len(unsorted), func(i, j int) { unsorted[i], unsorted[j] = unsorted[j], unsorted[i] })
	tests := []struct {
		name  string
		times []int64
		ok    bool
	}{
		{"one", []int64{base}, true},
		{"equal", []int64{base, base, base}, true},
		{"seconds", sparse, true},
		{"nanoseconds", nanos, true},
		{"unsorted", unsorted, true},
		{"negative", []int64{-5e9, -3e9, 7e9}, true},
		{"widest", []int64{0, 0, 1<<maxPackedWidth - 1}, true},
		{"too wide", []int64{0, 0, 1 << maxPackedWidth}, false},
		{"extremes", []int64{0, math.MinInt64 / 2, math.MaxInt64 / 2}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exp, unit := timeUnit(tt.times)
			var scratch []uint64
			col, ok := appendPackedDelta(nil, tt.times, exp, unit, &scratch)
			if ok != tt.ok {
				t.Fatalf("ok %v, want %v", ok, tt.ok)
			}
			if !ok {
				return
			}
			d := decodedBlock{rows: len(tt.times), timesSrc: string(col), dirs: []colDir{{enc: encPackedDelta}}}
			if err := d.parseTimes(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(d.times, tt.times) {
				t.Errorf("times %v, want %v", d.times[:min(5, len(d.times))], tt.times[:min(5, len(tt.times))])
			}
		})
	}
}

// TestPackedTimesRejects checks that damaged encPackedDelta columns fail
// to decode.
func TestPackedTimesRejects(t *testing.T) {
	var scratch []uint64
	good, _ := appendPackedDelta(nil, []int64{1e9, 2e9, 5e9, 6e9}, 9, 1e9, &scratch)
	tests := []struct {
		name string
		col  []byte
		rows int
	}{
		{"cut short", good[:len(good)-1], 4},
		{"trailing byte", append(slices.Clone(good), 0), 4},
		{"more rows", good, 40},
		{"unit", append([]byte{10}, good[1:]...), 4},
		{"width", []byte{9, 2, 0, maxPackedWidth + 1, 0, 0, 0, 0, 0, 0, 0, 0}, 2},
		{"out of range", []byte{9, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01}, 1},
		{"sum out of range", []byte{0, 0, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01, 0, 0}, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := decodedBlock{rows: tt.rows, timesSrc: string(tt.col), dirs: []colDir{{enc: encPackedDelta}}}
			if err := d.parseTimes(); err == nil {
				t.Errorf("decoded %v, want an error", d.times)
			}
		})
	}
}

// TestPackedDictRoundTrip packs dictionary columns of 2 to 255 values
// and reads them back as encDict, and rejects codes beyond the
// dictionary.
func TestPackedDictRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, d := range []int{1, 2, 3, 4, 7, 16, 17, 100, 255} {
		for _, k := range []int{1, 7, 9, 64, 1000} {
			vals := make([]string, k)
			for i := range vals {
				vals[i] = "v" + strconv.Itoa(rng.IntN(d))
			}
			var sc valueScratch
			raw, enc := appendValues(nil, vals, &sc)
			if enc != encDict {
				continue
			}
			col := packDictCodes(nil, raw, k, sc.dictLen)
			var c decodedCol
			r := reader{src: string(col)}
			readValues(&r, encPackedDict, k, &c, new([]int))
			if r.err != nil || r.remaining() != 0 {
				t.Fatalf("d %d k %d: %v, %d bytes left", d, k, r.err, r.remaining())
			}
			got := make([]string, k)
			for i := range got {
				got[i] = c.value()
			}
			if !slices.Equal(got, vals) {
				t.Fatalf("d %d k %d: values differ", d, k)
			}
		}
	}
	// Three values in 2 bits: code 3 is beyond the dictionary.
	col := []byte{3, 1, 'a', 1, 'b', 1, 'c', 0b11_10_01_00}
	var c decodedCol
	r := reader{src: string(col)}
	readValues(&r, encPackedDict, 4, &c, new([]int))
	if r.err == nil {
		t.Errorf("code 3 of a dictionary of 3 accepted")
	}
}
