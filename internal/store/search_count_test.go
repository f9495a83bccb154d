package store

import (
	"context"
	"math/rand/v2"
	"testing"
)

// TestCountCovered checks the histogram shortcuts of countCovered against
// the row-by-row count countByCode makes when times matter: every
// combination of selection (none, per row, per code of another column or
// of the group column) and group column (none, dense, with absent rows,
// constant).
func TestCountCovered(t *testing.T) {
	for _, tt := range countCases() {
		t.Run(tt.name, func(t *testing.T) {
			var cc codeCount
			if tt.group != nil {
				cc = codeCount{group: "g", cur: *tt.group}
			}
			var got codeCounts
			countCovered(&got, new(quadCounts), countCaseRows, tt.sel, cc, tt.same)
			want := slowCounts(countCaseRows, tt.sel, cc)
			if got != want {
				t.Errorf("counts differ:\n got %v\nwant %v", nonZero(&got), nonZero(&want))
			}
		})
	}
}

// countCaseRows is the rows of countCases' blocks.
const countCaseRows = 10

// countCase is a block's selection and group column for countCovered.
type countCase struct {
	name  string
	sel   *codeSelection
	group *codeCursor
	same  bool
}

// countCases is every combination of selection (none, per row, per code
// of another column or of the group column) and group column (none,
// dense, with absent rows, constant) over a block of countCaseRows rows.
func countCases() []countCase {
	// Rows 1, 4 and 8 lack the sparse columns' field.
	sparse := string([]byte{0b11101101, 0b00000010})
	dense := codeCursor{codes: "\x00\x01\x02\x00\x01\x02\x00\x01\x02\x00"}
	sparseCodes := codeCursor{codes: "\x02\x00\x02\x01\x00\x01\x02", bitmap: sparse}
	constant, denseConstant := codeCursor{bitmap: sparse}, codeCursor{}
	other := codeCursor{codes: "\x01\x01\x00\x00\x01\x01\x00\x00\x01\x01"}
	byCode := func(cur codeCursor, match ...int) *codeSelection {
		s := &codeSelection{cur: cur}
		for _, m := range match {
			s.match[m] = true
		}
		return s
	}
	byRow := &codeSelection{byRow: true, rows: []bool{true, false, true, true, false, false, true, true, false, true}}
	return []countCase{
		{name: "all rows", sel: nil},
		{name: "by row", sel: byRow},
		{name: "by code", sel: byCode(sparseCodes, 2, absentCode)},
		{name: "by dense code", sel: byCode(dense, 2)},
		{name: "by constant", sel: byCode(constant, 0)},
		{name: "by dense constant", sel: byCode(denseConstant, 0)},
		{name: "group dense", group: &dense},
		{name: "group sparse", group: &sparseCodes},
		{name: "group constant", group: &constant},
		{name: "group dense constant", group: &denseConstant},
		{name: "group by same column", sel: byCode(sparseCodes, 0, absentCode), group: &sparseCodes, same: true},
		{name: "group by same dense column", sel: byCode(dense, 0, 2), group: &dense, same: true},
		{name: "group by row", sel: byRow, group: &dense},
		{name: "group by row sparse", sel: byRow, group: &sparseCodes},
		{name: "group dense by dense", sel: byCode(other, 1), group: &dense},
		{name: "group sparse by dense", sel: byCode(other, 0), group: &sparseCodes},
		{name: "group dense by sparse", sel: byCode(sparseCodes, 1, absentCode), group: &dense},
	}
}

// TestCountCoveredLarge is TestCountCovered over blocks large enough for
// the four-way histogram, with and without absent rows.
func TestCountCoveredLarge(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, rows := range []int{quadMin, quadMin + 3, 5000} {
		for _, sparse := range []bool{false, true} {
			bitmap := ""
			present := rows
			if sparse {
				bm := make([]byte, (rows+7)/8)
				for i := range bm {
					bm[i] = byte(rng.IntN(256))
				}
				if rows%8 != 0 {
					bm[len(bm)-1] &= 1<<(rows%8) - 1
				}
				bitmap, present = string(bm), popcount(string(bm))
			}
			codes, other := make([]byte, present), make([]byte, present)
			for i := range codes {
				codes[i], other[i] = byte(min(rng.IntN(8), 2)), byte(rng.IntN(200))
			}
			cur := codeCursor{codes: string(codes), bitmap: bitmap}
			sel := &codeSelection{cur: cur}
			sel.match[2], sel.match[absentCode] = true, true
			for _, tt := range []struct {
				name string
				sel  *codeSelection
				cc   codeCount
				same bool
			}{
				{name: "select", sel: sel},
				{name: "group", cc: codeCount{group: "g", cur: codeCursor{codes: string(other), bitmap: bitmap}}},
				{name: "same column", sel: sel, cc: codeCount{group: "g", cur: cur}, same: true},
			} {
				var got codeCounts
				countCovered(&got, new(quadCounts), rows, tt.sel, tt.cc, tt.same)
				if want := slowCounts(rows, tt.sel, tt.cc); got != want {
					t.Errorf("%d rows, sparse %v, %s: got %v, want %v", rows, sparse, tt.name, nonZero(&got), nonZero(&want))
				}
			}
		}
	}
}

// slowCounts is countByCode's row loop.
func slowCounts(rows int, sel *codeSelection, cc codeCount) codeCounts {
	return slowRangeCounts(rows, 0, rows, sel, cc)
}

func nonZero(c *codeCounts) map[int]int {
	m := map[int]int{}
	for code, n := range c {
		if n != 0 {
			m[code] = n
		}
	}
	return m
}

// BenchmarkCountCovered measures counting a block inside the search
// range by the codes of a dictionary column (mostly one value, as a
// level is), selected by its own codes (`level:=error | stats count()`)
// or grouping the codes of another column (`… | stats count() by
// code`): countCovered's passes over the codes, against the row-by-row
// cursors they replace.
func BenchmarkCountCovered(b *testing.B) {
	const rows = 8192
	codes, level := make([]byte, rows), make([]byte, rows)
	for i := range codes {
		codes[i], level[i] = byte(i*7%13), byte(min(i%16, 3))
	}
	sel := &codeSelection{cur: codeCursor{codes: string(level)}}
	sel.match[1] = true
	cases := []struct {
		name string
		cc   codeCount
	}{
		{"select", codeCount{}},
		{"group", codeCount{group: "g", cur: codeCursor{codes: string(codes)}}},
	}
	for _, c := range cases {
		b.Run(c.name+"/covered", func(b *testing.B) {
			var counts codeCounts
			var q quadCounts
			b.SetBytes(rows)
			for b.Loop() {
				clear(counts[:])
				countCovered(&counts, &q, rows, sel, c.cc, false)
			}
		})
		b.Run(c.name+"/rows", func(b *testing.B) {
			b.SetBytes(rows)
			for b.Loop() {
				slowCounts(rows, sel, c.cc)
			}
		})
	}
}

// TestScratchCodesReset: the code paths' scratch goes back to the pool
// with a search's scratch, and no times a count left in it (one that
// failed midway leaves some) reach the next search.
func TestScratchCodesReset(t *testing.T) {
	s := openTest(t, t.TempDir(), Options{})
	for _, left := range [][]int{nil, {0}, {3, absentCode}} {
		ss := s.newSearcher(context.Background(), &SearchRequest{}, nil)
		sc := ss.sc
		for _, code := range left {
			sc.codes.times[code] = append(sc.codes.times[code], 1, 2, 3)
		}
		ss.done()
		for code, times := range sc.codes.times {
			if len(times) != 0 {
				t.Fatalf("left %v: code %d keeps %d times", left, code, len(times))
			}
		}
	}
}
