package store

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func TestSpanIndex(t *testing.T) {
	h := int64(time.Hour)
	day := int64(20454) * 24 * h // 2026-01-01
	tests := []struct {
		name  string
		times []int64
		want  []int32
	}{
		{"one span", []int64{day, day + 1, day + h - 1}, nil},
		{"two spans", []int64{day, day + h - 1, day + h}, []int32{2}},
		{"a span without records", []int64{day, day + 3*h}, []int32{1, 1, 1}},
		{"unsorted", []int64{day + h, day}, nil},
		{"too many spans", []int64{day, day + (maxSpanRows+1)*h}, nil},
		{"before 1970", []int64{-h - 1, -h, 0}, []int32{1, 2}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			lo, hi := slices.Min(tc.times), slices.Max(tc.times)
			if got := spanIndex(tc.times, lo, hi); !slices.Equal(got, tc.want) {
				t.Fatalf("spanIndex = %v, want %v", got, tc.want)
			}
		})
	}
}

// TestRowWindow checks the rows the time index places in a range against
// the rows' times, for ranges on and off span boundaries.
func TestRowWindow(t *testing.T) {
	h := int64(time.Hour)
	day := int64(20454) * 24 * h
	// Rows at 00:10, 00:50, 02:30, 02:40, 05:00 and 05:59.
	times := []int64{day + h/6, day + 5*h/6, day + 5*h/2, day + 5*h/2 + h/6, day + 5*h, day + 6*h - 1}
	m := blockMeta{minTime: times[0], maxTime: times[len(times)-1], count: len(times)}
	m.spanRows = spanIndex(times, m.minTime, m.maxTime)
	for from := day - h; from <= day+7*h; from += h / 2 {
		for to := from + h/2; to <= day+8*h; to += h / 2 {
			w := m.rowWindow(from, to)
			lo, hi, exact := w.lo, w.hi, w.exact
			if !w.ok {
				t.Fatal("no window")
			}
			for row, tm := range times {
				in := tm >= from && tm < to
				if in && (row < lo || row >= hi) {
					t.Fatalf("[%d, %d): row %d in range, window [%d, %d)", from-day, to-day, row, lo, hi)
				}
				if exact && !in && row >= lo && row < hi {
					t.Fatalf("[%d, %d): row %d out of range, exact window [%d, %d)", from-day, to-day, row, lo, hi)
				}
			}
			if aligned := (from-day)%h == 0 && (to-day)%h == 0; aligned && !exact {
				t.Fatalf("[%d, %d): whole hours, window not exact", from-day, to-day)
			}
		}
	}
}

// TestTimeIndexSearch searches an hour of a sparse stream whose one block
// spans the day: a count of every record is answered from the time index
// without reading the block, a field's count without its timestamps, an
// hour without records skips the block, and every answer is the brute
// force's.
func TestTimeIndexSearch(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	defer s.Close()
	h := int64(time.Hour)
	day := int64(20454) * 24 * h
	var all []record.Record
	for i := range 200 {
		tm := day + int64(i)*(6*time.Minute.Nanoseconds())
		if i%40 == 0 {
			continue // a gap: 04:00 to 04:06 and so on hold nothing
		}
		if tm >= day+7*h && tm < day+8*h {
			continue // 07:00 to 08:00 holds nothing
		}
		all = append(all, record.Record{Time: tm, Stream: []record.Field{{Name: "app", Value: "a"}}, Message: "m",
			Fields: []record.Field{{Name: "level", Value: testLevels[i%len(testLevels)]}}})
	}
	s.Append(all, 1)
	if err := s.Flush(context.Background()); err != nil {
		t.Fatal(err)
	}
	level := &testFilter{kind: "word", field: "level", word: "error"}
	for _, tc := range []struct {
		name     string
		from, to int64
		filter   Filter
		want     SearchStats // the counters checked
	}{
		{"hour, all", day + 10*h, day + 11*h, nil, SearchStats{BlocksCounted: 1}},
		{"hour, level", day + 10*h, day + 11*h, level, SearchStats{BlocksRead: 1}},
		{"half hour, level", day + 10*h + h/2, day + 11*h, level, SearchStats{BlocksRead: 1}},
		{"empty hour", day + 7*h, day + 8*h, level, SearchStats{BlocksSkippedTime: 1}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var st SearchStats
			got := 0
			req := SearchRequest{From: tc.from, To: tc.to, Filter: tc.filter, Stats: &st, Fields: []string{"level"},
				CountFields: []string{}, Count: func(_ *record.Record, n int, _ []int64) error { got += n; return nil }}
			if err := s.Search(context.Background(), req, func(*record.Record) error { got++; return nil }); err != nil {
				t.Fatal(err)
			}
			if want := len(bruteForce(all, SearchRequest{From: tc.from, To: tc.to, Filter: tc.filter})); got != want {
				t.Fatalf("counted %d, want %d", got, want)
			}
			if st.BlocksCounted != tc.want.BlocksCounted || st.BlocksRead != tc.want.BlocksRead || st.BlocksSkippedTime != tc.want.BlocksSkippedTime {
				t.Fatalf("stats %+v, want %+v", st, tc.want)
			}
		})
	}
}

func TestTimeUnit(t *testing.T) {
	for _, tc := range []struct {
		times []int64
		exp   int
	}{
		{[]int64{1767225600e9, 1767225601e9}, 9},
		{[]int64{1767225600e9, 1767225600e9 + 5e8}, 8},
		{[]int64{1767225600123e6, 1767225600e9}, 6},
		{[]int64{1767225600e9, 1767225600e9 + 1}, 0},
		{[]int64{-1e9, -3e9, 0}, 9},
		{[]int64{-10}, 1},
		{[]int64{0}, 9},
	} {
		exp, unit := timeUnit(tc.times)
		if exp != tc.exp {
			t.Errorf("timeUnit(%v) = %d, want %d", tc.times, exp, tc.exp)
		}
		for _, tm := range tc.times {
			if tm%unit != 0 {
				t.Errorf("timeUnit(%v): unit %d does not divide %d", tc.times, unit, tm)
			}
		}
	}
}

// TestTimesRoundTrip encodes and decodes blocks' timestamps in each unit,
// before 1970 too.
func TestTimesRoundTrip(t *testing.T) {
	dec := testDecoder(t)
	for _, tc := range []struct {
		base, step int64
		enc        byte
	}{
		{1767225600e9, 1e9, encDeltaScaled},
		{1767225600e9, 3e6, encDeltaScaled},
		{1767225600e9 + 1, 7, encDelta},
		{-86400e9, 1e9, encDeltaScaled},
		{-86400e9 + 10, -30, encDeltaScaled},
		{-7, -1, encDelta},
	} {
		var b blockBuilder
		var want []int64
		for i := range 300 {
			r := record.Record{Time: tc.base + int64(i*i%300)*tc.step, Message: "m"}
			if i == 0 {
				b.reset(&r, "k")
			}
			b.add(&r, nil)
			want = append(want, r.Time)
		}
		var m blockMeta
		enc, _, err := newCodecs(1)
		if err != nil {
			t.Fatal(err)
		}
		stored := b.encode(nil, &m, &blockEncoder{enc: enc})
		enc.Close()
		var d decodedBlock
		if err := decodeBlock(stored, m.fields, dec, &d, nil); err != nil {
			t.Fatal(err)
		}
		if d.dirs[0].enc != tc.enc || !slices.Equal(d.times, want) {
			t.Fatalf("base %d step %d: encoding %d (want %d), times equal %v", tc.base, tc.step, d.dirs[0].enc, tc.enc, slices.Equal(d.times, want))
		}
	}
}
