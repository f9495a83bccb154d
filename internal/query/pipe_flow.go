package query

import (
	"encoding/binary"
	"fmt"
	"math"
	"slices"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/store"
)

func init() { registerPipe("flow", parseFlowPipe) }

// FlowPipe is `flow start=<filter> end=<filter> key=<field> within=<d>`:
// the ad-hoc form of a flow check (alerts.flows). Every record matching
// start opens its key; the first record matching end with the same key
// closes it. It answers one row per key that did not complete in time,
// then one summary row with the latency distribution of those that did.
type FlowPipe struct {
	Start, End Node
	Key        string
	Within     time.Duration
}

// Flow statuses, the status column of the pipe's rows.
const (
	FlowMissing   = "missing"   // started, no end within the window, none until the range's end
	FlowLate      = "late"      // its end came, later than within
	FlowOpen      = "open"      // started, no end yet, its window not over at the range's end
	FlowEndOnly   = "end_only"  // an end whose start is not in the range
	FlowCompleted = "completed" // the summary row
)

func (f *FlowPipe) String() string {
	return fmt.Sprintf("flow start=(%s) end=(%s) key=%s within=%s", f.Start, f.End, fieldString(f.Key), durationString(f.Within))
}

// parseFlowPipe reads name=value arguments in any order. A filter
// argument runs until the next argument or the pipe's end, so that
// `start=event:order_created end=…` needs no parentheses.
func parseFlowPipe(p *parser) (Pipe, error) {
	f := &FlowPipe{}
	seen := map[string]bool{}
	for !p.atPipeEnd() {
		t := p.next()
		name, rest, ok := strings.Cut(t.text, "=")
		name = strings.ToLower(name)
		if t.kind != tokWord || !ok || !slices.Contains([]string{"start", "end", "key", "within"}, name) {
			return nil, p.unexpected(t, "start=, end=, key= or within=")
		}
		if seen[name] {
			return nil, p.errorf(t.pos, "flow: %s= given twice", name)
		}
		seen[name] = true
		valPos := t.pos + len(name) + 1
		switch name {
		case "key":
			if rest == "" {
				k, err := p.fieldName("a field name after key=")
				if err != nil {
					return nil, err
				}
				rest = k
			}
			f.Key = rest
		case "within":
			if rest == "" {
				return nil, p.errorf(valPos, "flow: within= needs a duration such as 10m")
			}
			d, ok := parseBucket(rest)
			if !ok {
				return nil, p.errorf(valPos, "flow: within=%s: want a duration such as 30s, 10m or 1h (units ms, s, m, h, d)", rest)
			}
			f.Within = d
		default:
			// The filter's text is the source from after '=' to the next
			// argument: parse it on its own.
			j := p.i
			for ; p.toks[j].kind != tokEOF && p.toks[j].kind != tokPipe; j++ {
				if isFlowArg(p.toks[j]) && parenDepth(p.toks[p.i:j]) == 0 {
					break
				}
			}
			end := p.toks[j].pos
			src := strings.TrimSpace(p.src[valPos:end])
			if j == p.i+1 && p.toks[p.i].kind == tokString {
				src = p.toks[p.i].text // start="event:order_created": the filter quoted whole
			}
			if src == "" {
				return nil, p.errorf(valPos, "flow: %s= needs a filter, like %s=event:order_created", name, name)
			}
			sub, err := ParseWith(src, ParseOptions{MaxRegexSize: p.maxRegex})
			if err != nil {
				return nil, p.errorf(valPos, "flow: %s=: %v", name, err)
			}
			if len(sub.Pipes) > 0 {
				return nil, p.errorf(valPos, "flow: %s= takes a filter, not pipes", name)
			}
			p.i = j
			if name == "start" {
				f.Start = sub.Filter
			} else {
				f.End = sub.Filter
			}
		}
	}
	for _, arg := range []string{"start", "end", "key", "within"} {
		if !seen[arg] {
			return nil, p.errorf(p.peek().pos, "flow needs %s=: flow start=<filter> end=<filter> key=<field> within=<duration>", arg)
		}
	}
	return f, nil
}

// isFlowArg reports whether t begins a flow argument (key=order_id).
func isFlowArg(t token) bool {
	if t.kind != tokWord {
		return false
	}
	name, _, ok := strings.Cut(t.text, "=")
	if !ok {
		return false
	}
	switch strings.ToLower(name) {
	case "start", "end", "key", "within":
		return true
	}
	return false
}

func parenDepth(toks []token) int {
	d := 0
	for _, t := range toks {
		switch t.kind {
		case tokLParen:
			d++
		case tokRParen:
			d--
		}
	}
	return d
}

func (*FlowPipe) consumesRecords() bool { return true }

// neededFields: the key, the filters' fields and the time.
func (f *FlowPipe) neededFields(fieldSet) fieldSet {
	return nodeFields(f.Start).union(nodeFields(f.End)).with(f.Key, record.TimeField)
}

func (f *FlowPipe) newProcessor(opts Options, next processor) processor {
	env := compileEnv{now: opts.Now, ctx: opts.ctx}
	until := opts.Now.UnixNano()
	if opts.To != 0 && opts.To < until {
		until = opts.To
	}
	return &flowProcessor{pipe: f, start: compile(f.Start, env), end: compile(f.End, env),
		until: until, maxKeys: opts.MaxGroups, next: next, keys: map[string]*flowKeyState{}}
}

type flowKeyState struct{ start, end int64 } // 0: not seen

type flowProcessor struct {
	pipe       *FlowPipe
	start, end store.Filter
	until      int64 // the range's end: keys whose window ends after it are open
	maxKeys    int
	next       processor
	keys       map[string]*flowKeyState
}

func (fp *flowProcessor) push(r Row) error {
	rec := r.Record
	if rec == nil {
		return nil
	}
	isStart, isEnd := fp.start.Match(rec), fp.end.Match(rec)
	if !isStart && !isEnd {
		return nil
	}
	k, ok := rec.Get(fp.pipe.Key)
	if !ok || k == "" {
		return nil
	}
	var start, end int64
	if isStart {
		start = rec.Time
	} else {
		end = rec.Time
	}
	return fp.note(k, start, end)
}

// note takes a start and an end of key k (0: none). The earliest start
// and the earliest end count: records come in no particular order, and
// indexers' answers merge in any order (mergePartial).
func (fp *flowProcessor) note(k string, start, end int64) error {
	st := fp.keys[k]
	if st == nil {
		if len(fp.keys) >= fp.maxKeys {
			return fmt.Errorf("query: flow: more than %d keys (the MaxGroups limit); narrow the query with a filter or a shorter time range", fp.maxKeys)
		}
		st = &flowKeyState{}
		fp.keys[strings.Clone(k)] = st
	}
	if start != 0 && (st.start == 0 || start < st.start) {
		st.start = start
	}
	if end != 0 && (st.end == 0 || end < st.end) {
		st.end = end
	}
	return nil
}

// appendPartial encodes an indexer's share of a distributed flow (see
// partial.go): every key with its earliest start and end (0: none).
func (fp *flowProcessor) appendPartial(dst []byte) []byte {
	dst = append(append(dst, partialMagic...), partialFlow)
	dst = binary.AppendUvarint(dst, uint64(len(fp.keys)))
	for k, st := range fp.keys {
		dst = appendString(dst, k)
		dst = binary.AppendVarint(dst, st.start)
		dst = binary.AppendVarint(dst, st.end)
	}
	return dst
}

// mergePartial merges an indexer's appendPartial into the querier's keys.
func (fp *flowProcessor) mergePartial(b []byte) error {
	r, err := openPartial(b, partialFlow)
	if err != nil {
		return err
	}
	for range r.count(3) {
		k := r.bytes()
		start, end := r.varint(), r.varint()
		if r.err != nil {
			return r.err
		}
		if err := fp.note(string(k), start, end); err != nil {
			return err
		}
	}
	return r.end()
}

func (fp *flowProcessor) flush() error {
	within := int64(fp.pipe.Within)
	var lat []float64
	counts := map[string]int{}
	type problem struct {
		key, status string
		st          *flowKeyState
	}
	var problems []problem
	for k, st := range fp.keys {
		var status string
		switch {
		case st.start == 0:
			status = FlowEndOnly
		case st.end != 0 && st.end >= st.start && st.end-st.start <= within:
			lat = append(lat, float64(st.end-st.start)/1e9)
			counts[FlowCompleted]++
			continue
		case st.end != 0 && st.end >= st.start:
			status = FlowLate
		case st.start+within < fp.until:
			status = FlowMissing
		default:
			status = FlowOpen
		}
		counts[status]++
		problems = append(problems, problem{k, status, st})
	}
	slices.SortFunc(problems, func(a, b problem) int {
		if a.st.start != b.st.start {
			if a.st.start < b.st.start {
				return -1
			}
			return 1
		}
		return strings.Compare(a.key, b.key)
	})
	for _, pr := range problems {
		vals := []Value{{Name: fp.pipe.Key, Str: pr.key}, {Name: "status", Str: pr.status}}
		if pr.st.start != 0 {
			vals = append(vals, Value{Name: "start", Str: formatTime(pr.st.start)})
		}
		if pr.st.end != 0 {
			vals = append(vals, Value{Name: "end", Str: formatTime(pr.st.end)})
			if pr.st.start != 0 {
				vals = append(vals, Value{Name: "latency_s", Num: float64(pr.st.end-pr.st.start) / 1e9, IsNum: true})
			}
		}
		if err := fp.next.push(Row{Values: vals}); err != nil {
			if err == errStop {
				return fp.next.flush()
			}
			return err
		}
	}
	slices.Sort(lat)
	q := func(p float64) Value {
		if len(lat) == 0 {
			return Value{Num: math.NaN(), IsNum: true}
		}
		return Value{Num: lat[int(math.Ceil(p*float64(len(lat))))-1+boolInt(p == 0)], IsNum: true}
	}
	sum := []Value{{Name: "status", Str: FlowCompleted}}
	for _, c := range []struct {
		name string
		v    Value
	}{
		{"completed", Value{Num: float64(counts[FlowCompleted]), IsNum: true}},
		{"missing", Value{Num: float64(counts[FlowMissing]), IsNum: true}},
		{"late", Value{Num: float64(counts[FlowLate]), IsNum: true}},
		{"open", Value{Num: float64(counts[FlowOpen]), IsNum: true}},
		{"end_only", Value{Num: float64(counts[FlowEndOnly]), IsNum: true}},
		{"latency_p50_s", q(0.5)}, {"latency_p90_s", q(0.9)}, {"latency_p99_s", q(0.99)}, {"latency_max_s", q(1)},
	} {
		c.v.Name = c.name
		sum = append(sum, c.v)
	}
	if err := fp.next.push(Row{Values: sum}); err != nil && err != errStop {
		return err
	}
	return fp.next.flush()
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

func formatTime(ns int64) string { return time.Unix(0, ns).UTC().Format(time.RFC3339Nano) }
