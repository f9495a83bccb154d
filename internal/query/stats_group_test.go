package query

import (
	"slices"
	"testing"
	"time"
	"unsafe"

	"github.com/sluice-log/sluice/internal/record"
)

// TestStatsGroupKeysCopied checks that a group keeps its key when the
// record it was made from aliases a buffer that is then overwritten, as
// the store's block buffers are: the key is copied once, when the group
// is made.
func TestStatsGroupKeysCopied(t *testing.T) {
	tests := []struct {
		name string
		by   []GroupKey
		want []string
	}{
		{"one field", []GroupKey{{Field: "trace"}}, []string{`{"trace":"aaaa","n":2}`, `{"trace":"bbbb","n":1}`}},
		{"with a label", []GroupKey{{Field: "trace"}, {Field: "service"}},
			[]string{`{"trace":"aaaa","service":"api","n":2}`, `{"trace":"bbbb","service":"api","n":1}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out []string
			emit := appendJSONRows(&out)
			pipe := &StatsPipe{Funcs: []StatsCall{{Func: statsCount{}, Name: "n"}}, By: tt.by}
			sp := pipe.newProcessor(Options{}.withDefaults(), emit).(*statsProcessor)
			buf := []byte("aaaa")
			r := &record.Record{Stream: []record.Field{{Name: "service", Value: "api"}},
				Fields: []record.Field{{Name: "trace", Value: unsafe.String(&buf[0], len(buf))}}}
			for i, n := range []int{1, 1} {
				if err := sp.pushCount(r, n, nil); err != nil {
					t.Fatalf("push %d: %v", i, err)
				}
			}
			copy(buf, "bbbb")
			if err := sp.pushCount(r, 1, nil); err != nil {
				t.Fatal(err)
			}
			copy(buf, "zzzz")
			if err := sp.flush(); err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(out, tt.want) {
				t.Errorf("got %v, want %v", out, tt.want)
			}
		})
	}
}

// TestUseCounterDropsRangeFilter checks that a count drops a _time filter
// that the search's range enforces anyway, and keeps any other.
func TestUseCounterDropsRangeFilter(t *testing.T) {
	now := time.Unix(1000, 0)
	tests := []struct {
		query  string
		opts   Options
		filter bool // kept
	}{
		{query: "_time:[1970-01-01T00:00:01Z TO 1970-01-01T00:00:02Z} | stats count() by trace"},
		{query: "_time:[1970-01-01T00:00:01Z TO 1970-01-01T00:00:02Z] | stats count()"},
		// The options narrow the range further: the filter is still implied.
		{query: "_time:[1970-01-01T00:00:01Z TO 1970-01-01T00:00:02Z} | stats count()", opts: Options{From: 1.5e9, To: 1.8e9}},
		{query: "_time:>1970-01-01T00:00:01Z | stats count()", filter: true},
		{query: "_time:[1970-01-01T00:00:01Z TO 1970-01-01T00:00:02Z} AND level:error | stats count()", filter: true},
		{query: "_time:[1970-01-01T00:00:01Z TO 1970-01-01T00:00:02Z} | stats max(latency)", filter: true},
	}
	for _, tt := range tests {
		t.Run(tt.query, func(t *testing.T) {
			q, err := Parse(tt.query)
			if err != nil {
				t.Fatal(err)
			}
			opts := tt.opts
			opts.Now = now
			opts = opts.withDefaults()
			req := opts.request(q)
			useCounter(q.Pipes[0].newProcessor(opts, emitProcessor(func(Row) error { return nil })), &req)
			if got := req.Filter != nil; got != tt.filter {
				t.Errorf("filter kept: %v, want %v (request %+v)", got, tt.filter, req)
			}
		})
	}
}

// TestSurelyNotNumber checks that surelyNotNumber never rejects what
// parseNumber accepts.
func TestSurelyNotNumber(t *testing.T) {
	tests := []struct {
		s    string
		sure bool
	}{
		{"", true}, {"-", true}, {"4bf92f3577b34da6a3ce929d0e0e4736", true}, {"web-1", true}, {"a b", true},
		{"12", false}, {"-1.5", false}, {"1e3", false}, {"1e", false}, {"0x1p-2", false}, {"0X1F", false},
		{"0_0", false}, {"inf", false}, {"-Infinity", false}, {"NaN", false}, {"nope", false}, {"+.5", false},
	}
	for _, tt := range tests {
		if got := surelyNotNumber(tt.s); got != tt.sure {
			t.Errorf("surelyNotNumber(%q) = %v, want %v", tt.s, got, tt.sure)
		}
		if _, ok := parseNumber(tt.s); ok && tt.sure {
			t.Errorf("parseNumber accepts %q, which the table calls surely no number", tt.s)
		}
	}
}

// FuzzSurelyNotNumber checks surelyNotNumber against parseNumber.
func FuzzSurelyNotNumber(f *testing.F) {
	for _, s := range []string{"", "12", "-1.5e3", "0x1p-2", "inf", "4bf92f35", "web-1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if _, ok := parseNumber(s); ok && surelyNotNumber(s) {
			t.Errorf("parseNumber accepts %q, which surelyNotNumber rejects", s)
		}
	})
}

// appendJSONRows is a processor that appends each row it is given to *out,
// as JSON.
func appendJSONRows(out *[]string) emitProcessor {
	return func(r Row) error {
		*out = append(*out, string(r.AppendJSON(nil)))
		return nil
	}
}
