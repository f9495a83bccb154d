package store

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"testing"
)

func TestParseDecimal(t *testing.T) {
	for _, tc := range []struct {
		in    string
		m     int64
		scale int
		ok    bool
	}{
		{"0", 0, 0, true},
		{"7", 7, 0, true},
		{"200", 200, 0, true},
		{"-15", -15, 0, true},
		{"12.345", 12345, 3, true},
		{"0.005", 5, 3, true},
		{"-0.5", -5, 1, true},
		{"1.50", 150, 2, true},
		{"0.000", 0, 3, true},
		{"999999999999999", 999999999999999, 0, true},
		{"99999999.9999999", 999999999999999, 7, true},
		{"1000000000000000", 0, 0, false}, // 16 digits
		{"", 0, 0, false},
		{"-", 0, 0, false},
		{"-0", 0, 0, false},
		{"-0.00", 0, 0, false},
		{"01", 0, 0, false},
		{"00.5", 0, 0, false},
		{".5", 0, 0, false},
		{"1.", 0, 0, false},
		{"+1", 0, 0, false},
		{"1e3", 0, 0, false},
		{"1.2.3", 0, 0, false},
		{" 1", 0, 0, false},
		{"NaN", 0, 0, false},
		{"--1", 0, 0, false},
	} {
		m, scale, ok := parseDecimal(tc.in)
		if ok != tc.ok || ok && (m != tc.m || scale != tc.scale) {
			t.Errorf("parseDecimal(%q) = %d, %d, %v; want %d, %d, %v", tc.in, m, scale, ok, tc.m, tc.scale, tc.ok)
		}
		if ok {
			if got := string(formatDecimal(nil, m, scale)); got != tc.in {
				t.Errorf("formatDecimal(%d, %d) = %q, want %q", m, scale, got, tc.in)
			}
		}
	}
}

// randomDecimals returns n canonical decimals of one scale around a random
// magnitude, some negative.
func randomDecimals(rng *rand.Rand, n int) []string {
	scale := rng.IntN(5)
	span := int64(1) << rng.IntN(48)
	base := rng.Int64N(span) - span/2
	vals := make([]string, n)
	for i := range vals {
		m := base + rng.Int64N(span)
		m = max(-maxMantissa, min(maxMantissa, m))
		vals[i] = string(formatDecimal(nil, m, scale))
	}
	return vals
}

func TestDecimalColumnRoundTrip(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for iter := range 300 {
		vals := randomDecimals(rng, 1+rng.IntN(300))
		if iter%7 == 0 {
			for i := range vals {
				vals[i] = vals[0] // width 0
			}
		}
		enc, ok := appendDecimals([]byte("x"), vals, new([]int64))
		if !ok {
			t.Fatalf("values %q not encoded as decimals", vals[:min(5, len(vals))])
		}
		r := reader{src: string(enc[1:])}
		d := readDecimals(&r, len(vals))
		if r.err != nil || r.remaining() != 0 {
			t.Fatalf("decode: %v, %d bytes left", r.err, r.remaining())
		}
		floats := d.appendFloats(nil)
		if texts := d.appendTexts(nil); !slices.Equal(texts, vals) {
			t.Fatalf("texts %q, want %q", texts[:min(5, len(texts))], vals[:min(5, len(vals))])
		}
		for i, v := range vals {
			want, err := strconv.ParseFloat(v, 64)
			if err != nil || floats[i] != want || d.float(i) != want {
				t.Fatalf("value %d %q: float %v, want %v (%v)", i, v, floats[i], want, err)
			}
		}
	}
}

func TestDecimalColumnRejects(t *testing.T) {
	for _, vals := range [][]string{
		{"1.5", "2"},  // two scales
		{"1", "x"},    // not a number
		{"1", ""},     // empty
		{"1", "01"},   // not canonical
		{"1", "1e10"}, // exponent
		{"-0", "1"},   // negative zero
		{"1", "2", "3", "1234567890123456"},
	} {
		if enc, ok := appendDecimals(nil, vals, new([]int64)); ok || len(enc) != 0 {
			t.Errorf("%q encoded as decimals", vals)
		}
	}
}

// TestAppendValuesPicksDecimal checks the writer's choice: distinct
// decimals of one scale are stored as encDecimal, and decode to the same
// rows through readValues.
func TestAppendValuesPicksDecimal(t *testing.T) {
	vals := []string{"12.345", "0.001", "999.999", "-3.000", "12.345"}
	enc, kind := appendValues(nil, vals, &valueScratch{})
	if kind != encDecimal {
		t.Fatalf("encoding %d, want encDecimal", kind)
	}
	var c decodedCol
	var lens []int
	r := reader{src: string(enc)}
	readValues(&r, kind, len(vals), &c, &lens)
	if r.err != nil {
		t.Fatal(r.err)
	}
	var got []string
	for range vals {
		got = append(got, c.value())
	}
	if !slices.Equal(got, vals) {
		t.Fatalf("rows %q, want %q", got, vals)
	}
}

func FuzzDecimalColumn(f *testing.F) {
	f.Add([]byte{3, 2, 10, 0xff, 0x0f}, 2)
	f.Add([]byte{0, 0, 0}, 5)
	f.Add([]byte{15, 0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x0f, 51, 1, 2, 3, 4, 5, 6, 7, 8}, 1)
	f.Fuzz(func(t *testing.T, data []byte, k int) {
		if k < 0 || k > 1<<12 {
			return
		}
		r := reader{src: string(data)}
		d := readDecimals(&r, k)
		if r.err != nil {
			return
		}
		// Whatever decodes must format to a canonical decimal that reads
		// back as the same number.
		for i, s := range d.appendTexts(nil) {
			m, scale, ok := parseDecimal(s)
			if !ok || m != d.at(i) || scale != d.scale {
				t.Fatalf("value %d formats as %q, which reads back as %d, %d, %v", i, s, m, scale, ok)
			}
		}
	})
}
