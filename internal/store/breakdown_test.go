package store

import (
	"bytes"
	"cmp"
	"context"
	"flag"
	"fmt"
	"math"
	"math/bits"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/bench/altgen"
	"github.com/sluice-log/sluice/bench/gen"
	"github.com/sluice-log/sluice/internal/ingest/jsonline"
	"github.com/sluice-log/sluice/internal/record"
)

// Parameters of TestPartBytesBreakdown, which runs only when -breakdown.records is set, e.g.
//
//	go test ./internal/store -run PartBytesBreakdown -v -args -breakdown.records 2000000 -breakdown.days 10
var (
	bdRecords = flag.Int("breakdown.records", 0, "TestPartBytesBreakdown: records of each data set (0: skip the test)")
	bdDays    = flag.Int("breakdown.days", 10, "TestPartBytesBreakdown: days bench/gen's records spread over")
	bdFlushes = flag.Int("breakdown.flushes", 20, "TestPartBytesBreakdown: flushes the records are written in before the final merges")
)

// TestPartBytesBreakdown writes bench/gen's records (over breakdown.days
// days, as sluice-bench -days does) and bench/altgen's (one day) into a
// store, flushed breakdown.flushes times and merged until settled, and
// logs where the settled parts' bytes are: per column (timestamps,
// message, each field), block headers, index chunks (their blooms
// apart) and the rest (meta-indexes, footers). It measures, it checks
// nothing: the figures guide the format's choices.
func TestPartBytesBreakdown(t *testing.T) {
	if *bdRecords == 0 {
		t.Skip("set -breakdown.records to run")
	}
	end := time.Date(2026, 1, 11, 0, 0, 0, 0, time.UTC)
	t.Run("gen", func(t *testing.T) {
		g, err := gen.New(gen.Config{Seed: 1, Records: *bdRecords, End: end, Days: *bdDays})
		if err != nil {
			t.Fatal(err)
		}
		p := jsonline.NewParser(jsonline.DefaultConfig().Record)
		now := time.Now()
		next := func(n int) []record.Record {
			data, got := g.AppendBatch(nil, n)
			recs := make([]record.Record, 0, got)
			for line := range bytes.Lines(data) {
				r, err := p.ParseLine(bytes.TrimSuffix(line, []byte("\n")), now, "")
				if err != nil {
					t.Fatal(err)
				}
				recs = append(recs, r)
			}
			return recs
		}
		logBreakdown(t, settleStore(t, next))
	})
	t.Run("altgen", func(t *testing.T) {
		recs := altgen.Records(1, *bdRecords, end)
		next := func(n int) []record.Record {
			n = min(n, len(recs))
			out := recs[:n]
			recs = recs[n:]
			return out
		}
		logBreakdown(t, settleStore(t, next))
	})
}

// settleStore appends the records next gives, breakdown.flushes batches
// of them, flushing after each, and merges until one part per partition
// is left.
func settleStore(t *testing.T, next func(n int) []record.Record) *Store {
	s := openTest(t, t.TempDir(), Options{IdleMergeAfter: time.Nanosecond})
	t.Cleanup(func() { s.Close() })
	ctx := context.Background()
	step := (*bdRecords + *bdFlushes - 1) / *bdFlushes
	for seq := uint64(1); ; seq++ {
		recs := next(step)
		if len(recs) == 0 {
			break
		}
		s.Append(recs, seq)
		if err := s.Flush(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Merge(ctx); err != nil {
		t.Fatal(err)
	}
	return s
}

// byteShare is the bytes of one part of the breakdown.
type byteShare struct {
	stored, raw int64
	encs        map[byte]int // column encodings: blocks using each
}

func logBreakdown(t *testing.T, s *Store) {
	shares := map[string]*byteShare{}
	add := func(name string, stored, raw int64) *byteShare {
		b := shares[name]
		if b == nil {
			b = &byteShare{encs: map[byte]int{}}
			shares[name] = b
		}
		b.stored += stored
		b.raw += raw
		return b
	}
	var total, records, blocks int64
	var bloomTokens float64
	var d decodedBlock
	var buf []byte
	for _, ps := range s.parts {
		for _, p := range ps {
			total += p.size
			records += p.records
			mi, err := p.metaIndex()
			if err != nil {
				t.Fatal(err)
			}
			rest := p.size
			for ci := range mi.chunks {
				cm := &mi.chunks[ci]
				c, err := p.chunkOnce(mi, ci)
				if err != nil {
					t.Fatal(err)
				}
				var bloomBytes int64
				for bi := range c.metas {
					m := &c.metas[bi]
					blocks++
					bloomBytes += int64(len(m.bloom))
					bloomTokens += estimateTokens(m.bloom)
					if buf, err = p.readBlockRaw(c, bi, buf, &d); err != nil {
						t.Fatal(err)
					}
					add("block headers", int64(m.headerLen), int64(m.headerLen))
					rest -= m.length
					for i, dir := range d.dirs {
						name := "col " + record.TimeField
						switch {
						case i == 1:
							name = "col " + record.MessageField
						case i > 1:
							name = "col " + m.fields[i-2]
						}
						add(name, int64(dir.stored), int64(dir.raw)).encs[dir.enc]++
					}
				}
				// Blooms are random bits, which zstd does not shrink:
				// their raw bytes are about what they store.
				add("index: blooms", bloomBytes, bloomBytes)
				add("index: rest", cm.length-bloomBytes, int64(cm.rawLen)-bloomBytes)
				rest -= cm.length
			}
			add("meta-index, footer, magic", rest, rest)
		}
	}
	names := make([]string, 0, len(shares))
	for n := range shares {
		names = append(names, n)
	}
	slices.SortFunc(names, func(a, b string) int { return cmp.Compare(shares[b].stored, shares[a].stored) })
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d records, %d parts' %d bytes, %.2f bytes/record, %d blocks (%.0f records a block)\n",
		records, len(s.parts), total, float64(total)/float64(records), blocks, float64(records)/float64(blocks))
	fmt.Fprintf(&sb, "%-32s %12s %7s %9s %12s  %s\n", "section", "stored", "share", "B/record", "raw", "encodings (blocks)")
	for _, n := range names {
		b := shares[n]
		encs := make([]string, 0, len(b.encs))
		for e, k := range b.encs {
			encs = append(encs, fmt.Sprintf("%d:%d", e, k))
		}
		slices.Sort(encs)
		fmt.Fprintf(&sb, "%-32s %12d %6.1f%% %9.3f %12d  %s\n", n, b.stored, 100*float64(b.stored)/float64(total),
			float64(b.stored)/float64(records), b.raw, strings.Join(encs, " "))
	}
	if bloomTokens > 0 {
		fmt.Fprintf(&sb, "blooms: %.1f bits per distinct token (estimated from their fill)\n", 8*float64(shares["index: blooms"].stored)/bloomTokens)
	}
	t.Log("\n" + sb.String())
}

// estimateTokens is about how many distinct hashes b holds, from the
// share of its bits set.
func estimateTokens(b bloom) float64 {
	ones := 0
	for i := 0; i < len(b); i++ {
		ones += bits.OnesCount8(b[i])
	}
	n := float64(len(b) * 8)
	if ones == len(b)*8 {
		return n / bloomHashes
	}
	return -n / bloomHashes * math.Log(1-float64(ones)/n)
}
