package query

import (
	"cmp"
	"encoding/binary"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/record"
)

func init() { registerPipe("stats", parseStats) }

// StatsPipe is `stats f(args) [as name], … [by key, …]`: one row per
// group, with the group keys first and then the functions' results.
type StatsPipe struct {
	Funcs []StatsCall
	By    []GroupKey
}

// StatsCall is one function of a stats pipe and its column name.
type StatsCall struct {
	Func StatsFunc
	Name string
}

// GroupKey is a field to group by, or with Bucket > 0 the record time cut
// into buckets of that length (`_time:1h`), aligned to the Unix epoch.
type GroupKey struct {
	Field  string
	Bucket time.Duration
}

func (s *StatsPipe) String() string {
	var b strings.Builder
	b.WriteString("stats ")
	for i, c := range s.Funcs {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(c.Func.String())
		if c.Name != c.Func.String() {
			b.WriteString(" as " + fieldString(c.Name))
		}
	}
	for i, k := range s.By {
		if i == 0 {
			b.WriteString(" by ")
		} else {
			b.WriteString(", ")
		}
		b.WriteString(k.String())
	}
	return b.String()
}

func (k GroupKey) String() string {
	if k.Bucket > 0 {
		return record.TimeField + ":" + durationString(k.Bucket)
	}
	return fieldString(k.Field)
}

// fieldString prints a field name so that parser.fieldName reads it back.
func fieldString(name string) string {
	if isFieldName(name) && !isPipeKeyword(name) {
		return name
	}
	return quote(name)
}

func (*StatsPipe) consumesRecords() bool { return true }

// split: a stats pipe is its own aggregation.
func (s *StatsPipe) split() (*StatsPipe, []Pipe) { return s, nil }

// neededFields: stats reads its group keys and its functions' arguments,
// whatever is read of the groups it outputs.
func (s *StatsPipe) neededFields(fieldSet) fieldSet {
	need := fieldSet{}
	for _, k := range s.By {
		need = need.with(k.Field)
	}
	for _, c := range s.Funcs {
		need = need.with(c.Func.fields()...)
	}
	return need
}

func parseStats(p *parser) (Pipe, error) {
	s := &StatsPipe{}
	columns := map[string]bool{}
	addColumn := func(name string, pos int) error {
		if columns[name] {
			return p.errorf(pos, "duplicate column %q: name results apart with 'as'", name)
		}
		columns[name] = true
		return nil
	}
	for {
		start := p.peek().pos
		call, err := parseStatsCall(p)
		if err != nil {
			return nil, err
		}
		if err := addColumn(call.Name, start); err != nil {
			return nil, err
		}
		s.Funcs = append(s.Funcs, call)
		if !p.accept(tokComma) {
			break
		}
	}
	if !p.acceptWord("by") {
		return s, nil
	}
	paren := p.accept(tokLParen)
	for {
		start := p.peek().pos
		k, err := parseGroupKey(p)
		if err != nil {
			return nil, err
		}
		name := k.Field
		if k.Bucket > 0 {
			name = record.TimeField
		}
		if err := addColumn(name, start); err != nil {
			return nil, err
		}
		s.By = append(s.By, k)
		if !p.accept(tokComma) {
			break
		}
	}
	if paren {
		if _, err := p.expect(tokRParen, "',' or ')' after the group fields"); err != nil {
			return nil, err
		}
	}
	return s, nil
}

func parseStatsCall(p *parser) (StatsCall, error) {
	t := p.next()
	if t.kind != tokWord {
		return StatsCall{}, p.unexpected(t, "a stats function ("+statsFuncNames()+")")
	}
	parse, ok := statsRegistry[strings.ToLower(t.text)]
	if !ok {
		return StatsCall{}, p.errorf(t.pos, "unknown stats function %q: expected one of %s", t.text, statsFuncNames())
	}
	if _, err := p.expect(tokLParen, "'(' after "+t.text); err != nil {
		return StatsCall{}, err
	}
	var args []string
	for !p.accept(tokRParen) {
		if len(args) > 0 {
			if _, err := p.expect(tokComma, "',' or ')'"); err != nil {
				return StatsCall{}, err
			}
		}
		a, err := p.fieldName("a field name")
		if err != nil {
			return StatsCall{}, err
		}
		args = append(args, a)
	}
	fn, err := parse(args)
	if err != nil {
		return StatsCall{}, p.errorf(t.pos, "%v", err)
	}
	call := StatsCall{Func: fn, Name: fn.String()}
	if p.acceptWord("as") {
		if call.Name, err = p.fieldName("a column name after 'as'"); err != nil {
			return StatsCall{}, err
		}
	}
	return call, nil
}

func parseGroupKey(p *parser) (GroupKey, error) {
	field, err := p.fieldName("a field to group by")
	if err != nil {
		return GroupKey{}, err
	}
	if p.peek().kind != tokColon {
		return GroupKey{Field: field}, nil
	}
	colon := p.next()
	if field != record.TimeField {
		return GroupKey{}, p.errorf(colon.pos, "only _time takes a bucket (like _time:1h); found %q before ':'", field)
	}
	t := p.next()
	d, ok := parseBucket(t.text)
	if t.kind != tokWord || !ok {
		return GroupKey{}, p.unexpected(t, "a bucket length such as 1m, 1h or 1d (units ms, s, m, h, d)")
	}
	return GroupKey{Field: field, Bucket: d}, nil
}

// bucketUnits lists the units of a bucket length, largest first, which is
// the order durationString prefers.
var bucketUnits = []struct {
	name string
	d    time.Duration
}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}}

// parseBucket reads a positive whole number of a unit: 500ms, 30s, 5m, 1h,
// 1d.
func parseBucket(s string) (time.Duration, bool) {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	n, err := strconv.ParseInt(s[:i], 10, 64)
	if err != nil || n <= 0 {
		return 0, false
	}
	for _, u := range bucketUnits {
		if s[i:] == u.name {
			if n > int64(1<<62)/int64(u.d) {
				return 0, false
			}
			return time.Duration(n) * u.d, true
		}
	}
	return 0, false
}

// durationString prints d in the largest unit that divides it; every
// bucket is a whole number of milliseconds.
func durationString(d time.Duration) string {
	for _, u := range bucketUnits {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d), 10) + "ns"
}

func (s *StatsPipe) newProcessor(opts Options, next processor) processor {
	sp := &statsProcessor{pipe: s, maxGroups: opts.MaxGroups, maxMemory: opts.MaxMemory, next: next, groups: map[string]*statsGroup{}}
	sp.single = len(s.By) == 1 && s.By[0].Bucket == 0
	if s.countsOnly() && countAccumulators {
		switch {
		case sp.single:
			sp.table = new(keyCounts)
		case len(s.By) == 1 && s.By[0].Bucket > 0:
			sp.hist = &bucketCounts{length: int64(s.By[0].Bucket)}
		}
	}
	for _, k := range s.By {
		if k.Bucket > 0 {
			sp.span = k.Bucket.Seconds()
			sp.bucket = int64(k.Bucket)
		}
	}
	if sp.span == 0 && opts.From > 0 {
		to := opts.To
		if to == 0 {
			to = opts.Now.UnixNano()
		}
		sp.span = float64(to-opts.From) / 1e9
	}
	return sp
}

type statsProcessor struct {
	pipe      *StatsPipe
	maxGroups int
	maxMemory int64
	mem       int64   // estimated bytes held by groups and states
	span      float64 // seconds each group covers, for rate(); 0 unknown
	bucket    int64   // the _time bucket's length in ns; 0 for none
	next      processor
	groups    map[string]*statsGroup
	key       []byte   // scratch: the encoded group key of the current row
	keys      []Value  // scratch: the group key values of a new group
	strs      []string // scratch: the current row's field keys' text
	// last is the group of the previous row and lastKey its key: rows
	// come in runs of one stream and of close times, so most rows find
	// their group here without a map lookup.
	last    *statsGroup
	lastKey []byte
	// byBucket finds the groups of a histogram (grouped by a _time bucket
	// alone) by bucket start, for bulk counts (pushCount).
	byBucket map[int64]*statsGroup
	// byFieldBucket finds the groups of a pipe grouped by one field and a
	// _time bucket, for bulk counts (addFieldBucketCount); fieldValue is
	// the field's value of the records being added.
	byFieldBucket map[fieldBucket]*statsGroup
	fieldValue    string
	// single says that the pipe groups by one field alone: groups are
	// keyed by its value as it is (groupOne).
	single bool
	// table counts the rows of a pipe grouped by one field whose every
	// function is count(), and hist those of a histogram (one _time
	// bucket) whose every function is count(), when not nil; settle
	// makes their groups.
	table *keyCounts
	hist  *bucketCounts
	// settleRec is scratch: the record settle counts a bucket's records as.
	settleRec record.Record
	slab      groupSlab
	// all is the groups in the order they were made, for flush: their
	// slab chunks are walked in memory order, not the map's.
	all []*statsGroup
}

type statsGroup struct {
	keys   []Value
	bucket int64 // start of the _time bucket, when timed
	timed  bool  // false for rows without a time (stats over stats rows)
	states []statsState
	// nums holds each key as a number, parsed once for sorting when
	// parsed is set; ok is false for keys that are not numbers. Only
	// groups that are compared need them: parsing every id of a
	// high-cardinality key costs more than counting it.
	nums   []parsedNumber
	parsed bool
}

// parseKeys fills g.nums, once.
func (g *statsGroup) parseKeys() {
	if g.parsed {
		return
	}
	for i := range g.keys {
		if k := g.keys[i]; k.IsNum || !surelyNotNumber(k.Str) {
			g.nums[i].v, g.nums[i].ok = k.number()
		}
	}
	g.parsed = true
}

// surelyNotNumber reports whether parseNumber rejects s, seen by its
// bytes alone: a letter other than an exponent outside the forms that
// strconv.ParseFloat spells with letters (hexadecimal 0x…, inf, nan).
// An underscore proves nothing: ParseFloat takes "0_0".
// Ids such as trace ids are rejected so without the error value that
// ParseFloat allocates. False means that s must be parsed to tell.
func surelyNotNumber(s string) bool {
	t := s
	if t != "" && (t[0] == '+' || t[0] == '-') {
		t = t[1:]
	}
	if t == "" || len(t) > 1 && t[0] == '0' && (t[1] == 'x' || t[1] == 'X') {
		return t == ""
	}
	switch t[0] {
	case 'i', 'I', 'n', 'N':
		return false
	}
	for i := 0; i < len(t); i++ {
		switch c := t[i]; {
		case c >= '0' && c <= '9', c == '.', c == 'e', c == 'E', c == '+', c == '-', c == '_':
		default:
			return true
		}
	}
	return false
}

// countAccumulators lets count-only pipes count in a keyCounts or a
// bucketCounts; tests turn it off to compare with the groups' own counts.
var countAccumulators = true

// countsOnly reports whether every function of the pipe is count().
func (s *StatsPipe) countsOnly() bool {
	for _, c := range s.Funcs {
		if _, ok := c.Func.(statsCount); !ok {
			return false
		}
	}
	return true
}

func (s *statsProcessor) push(r Row) error {
	if s.table != nil {
		return s.countKey(keyString(r, s.pipe.By[0].Field), 1)
	}
	if s.hist != nil && r.Record != nil {
		grew, ok := s.hist.add(r.Record.Time, 1)
		s.mem += int64(grew)
		if ok {
			return s.checkMemory()
		}
	}
	g, err := s.group(r)
	if err != nil {
		return err
	}
	for _, st := range g.states {
		s.mem += int64(st.add(r))
	}
	return s.checkMemory()
}

// checkMemory fails the aggregation once it holds more than its bound.
func (s *statsProcessor) checkMemory() error {
	if s.mem > s.maxMemory {
		return fmt.Errorf("query: stats: the aggregation needs more than %d MiB (the query memory limit); narrow the query with a filter or a shorter time range, group by fewer or less varied fields, or use fewer count_uniq/quantile functions", s.maxMemory>>20)
	}
	return nil
}

// group returns r's group, made if it is new. It runs for every row, so
// it builds only the encoded key; the key's values are made for a new
// group alone.
func (s *statsProcessor) group(r Row) (*statsGroup, error) {
	if s.single {
		return s.groupOne(keyString(r, s.pipe.By[0].Field))
	}
	s.key = s.key[:0]
	s.strs = s.strs[:0]
	var bucket int64
	timed := false
	for _, k := range s.pipe.By {
		if k.Bucket > 0 {
			t, ok := r.time()
			if !ok {
				s.key = append(s.key, 0)
				continue
			}
			bucket = floorDiv(t, int64(k.Bucket)) * int64(k.Bucket)
			timed = true
			s.key = binary.BigEndian.AppendUint64(append(s.key, 1), uint64(bucket))
			continue
		}
		str := keyString(r, k.Field)
		s.key = append(binary.AppendUvarint(s.key, uint64(len(str))), str...)
		s.strs = append(s.strs, str)
	}
	if s.last != nil && string(s.key) == string(s.lastKey) {
		return s.last, nil
	}
	g := s.groups[string(s.key)]
	if g == nil {
		if len(s.groups) >= s.maxGroups {
			return nil, fmt.Errorf("query: stats: more than %d groups (the MaxGroups limit); narrow the query with a filter or a shorter time range, or group by fewer or less varied fields or a longer _time bucket", s.maxGroups)
		}
		s.keys = s.keys[:0]
		strs := s.strs
		for _, k := range s.pipe.By {
			if k.Bucket > 0 {
				// The bucket's text is made in newGroup.
				s.keys = append(s.keys, Value{Name: record.TimeField})
			} else {
				// A copy: the row's strings may alias a block's buffer.
				s.keys = append(s.keys, Value{Name: k.Field, Str: s.slab.key(strs[0])})
				strs = strs[1:]
			}
		}
		g = s.newGroup(bucket, timed)
		s.groups[string(s.key)] = g
		s.mem += int64(2*len(s.key)+groupOverhead) + int64(len(g.states))*stateOverhead
	}
	s.last, s.lastKey = g, append(s.lastKey[:0], s.key...)
	return g, nil
}

// groupOne is group for a pipe grouped by one field alone, whose value
// str is the group's key as it is: no key is encoded, and a row of a
// known group allocates nothing. str may alias a block's buffer, so a
// new group's key is copied, once, for both the map and the group.
func (s *statsProcessor) groupOne(str string) (*statsGroup, error) {
	if s.last != nil && str == string(s.lastKey) {
		return s.last, nil
	}
	g := s.groups[str]
	if g == nil {
		if len(s.groups) >= s.maxGroups {
			return nil, fmt.Errorf("query: stats: more than %d groups (the MaxGroups limit); narrow the query with a filter or a shorter time range, or group by fewer or less varied fields or a longer _time bucket", s.maxGroups)
		}
		str = s.slab.key(str)
		s.keys = append(s.keys[:0], Value{Name: s.pipe.By[0].Field, Str: str})
		g = s.newGroup(0, false)
		s.groups[str] = g
		// The map and the group share the key's one copy.
		s.mem += int64(len(str)+groupOverhead) + int64(len(g.states))*stateOverhead
	}
	s.last, s.lastKey = g, append(s.lastKey[:0], str...)
	return g, nil
}

// countKey adds n rows whose group key is key to s.table.
func (s *statsProcessor) countKey(key string, n int) error {
	return s.countKeyHashed(key, s.table.hash(key), n)
}

// countKeyHashed is countKey for a key whose hash in s.table is h.
func (s *statsProcessor) countKeyHashed(key string, h uint64, n int) error {
	full := s.table.n >= s.maxGroups
	// grew counts the key chunks as they are made, and the slots.
	isNew, grew := s.table.addHashed(key, h, n, full)
	s.mem += int64(grew)
	if isNew && full {
		return s.tooManyGroups()
	}
	return s.checkMemory()
}

func (s *statsProcessor) tooManyGroups() error {
	return fmt.Errorf("query: stats: more than %d groups (the MaxGroups limit); narrow the query with a filter or a shorter time range, or group by fewer or less varied fields or a longer _time bucket", s.maxGroups)
}

// settle makes the groups of what s.table and s.hist counted, once every
// row is in: the rest of the processor sees only groups.
func (s *statsProcessor) settle() error {
	if t := s.table; t != nil {
		s.table = nil
		for i := range t.slots {
			if sl := &t.slots[i]; sl.hash != 0 {
				if _, err := s.countGroup(t.key(sl), sl.count); err != nil {
					return err
				}
			}
		}
	}
	if h := s.hist; h != nil {
		s.hist = nil
		for k, n := range h.counts {
			if n == 0 {
				continue
			}
			r := &s.settleRec
			*r = record.Record{Time: (h.base + int64(k)) * h.length}
			if err := s.addBucketCount(r, r.Time, int(n)); err != nil {
				return err
			}
		}
	}
	return nil
}

// countGroup adds n to the counts of the group of key (a field's value,
// the pipe grouped by it alone), which it makes when new: without a copy,
// key lives as long as the processor.
func (s *statsProcessor) countGroup(key string, n int64) (*statsGroup, error) {
	g := s.groups[key]
	if g == nil {
		if len(s.all) >= s.maxGroups {
			return nil, s.tooManyGroups()
		}
		s.keys = append(s.keys[:0], Value{Name: s.pipe.By[0].Field, Str: key})
		g = s.newGroup(0, false)
		s.mem += groupOverhead + int64(len(g.states))*stateOverhead
	}
	for _, st := range g.states {
		*st.(*countState) += countState(n)
	}
	return g, s.checkMemory()
}

// keyString is the text of r's field as a group key ("" when missing).
func keyString(r Row, field string) string {
	if r.Record != nil {
		v, _ := r.Record.Get(field)
		return v
	}
	v, _ := r.get(field)
	return v.String()
}

func (s *statsProcessor) newGroup(bucket int64, timed bool) *statsGroup {
	g := s.slab.group(len(s.keys), len(s.pipe.Funcs))
	copy(g.keys, s.keys)
	g.bucket, g.timed = bucket, timed
	for i, k := range s.pipe.By {
		if k.Bucket > 0 && timed {
			g.keys[i].Str = time.Unix(0, bucket).UTC().Format(time.RFC3339Nano)
		}
	}
	s.all = append(s.all, g)
	for i, c := range s.pipe.Funcs {
		if _, ok := c.Func.(statsCount); ok {
			g.states[i] = s.slab.count()
			continue
		}
		g.states[i] = c.Func.newState()
		if ss, ok := g.states[i].(spanSetter); ok {
			ss.setSpan(s.span)
		}
	}
	return g
}

// groupOverhead and stateOverhead approximate the bytes of a group beyond
// its key, for the memory bound.
const (
	groupOverhead = 160
	stateOverhead = 48
)

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func (s *statsProcessor) flush() error {
	if sp, ok := s.next.(*sortProcessor); ok && sp.top != nil && s.table != nil {
		return s.flushTop(sp)
	}
	if err := s.settle(); err != nil {
		return err
	}
	if len(s.pipe.By) == 0 && len(s.groups) == 0 {
		s.groups[""] = s.newGroup(0, false)
	}
	if sp, ok := s.next.(*sortProcessor); ok && sp.top != nil {
		return s.flushTop(sp)
	}
	groups := s.all
	slices.SortFunc(groups, func(a, b *statsGroup) int { return compareGroups(a, b, s.pipe.By) })
	for _, g := range groups {
		row := s.groupRow(g, nil)
		if err := s.next.push(row); err != nil {
			if err == errStop {
				break
			}
			return err
		}
	}
	return s.next.flush()
}

// groupRow is g's output row, its values appended to vals[:0].
func (s *statsProcessor) groupRow(g *statsGroup, vals []Value) Row {
	row := Row{Values: slices.Grow(vals[:0], len(g.keys)+len(g.states))}
	row.Values = append(row.Values, g.keys...)
	for i, st := range g.states {
		v := st.result()
		v.Name = s.pipe.Funcs[i].Name
		row.Values = append(row.Values, v)
	}
	return row
}

// flushTop hands the groups to a sort that a limit follows without
// sorting them all by key first: the sort keeps the first rows by its
// keys and breaks ties by compareGroups, which gives the order a stable
// sort of the key-ordered groups gives. A row is built for each group in
// one buffer, which only a row the sort keeps takes over.
//
// Once the sort holds its limit, a group that does not come before the
// last row kept cannot be kept: it is compared with that row column by
// column and passed over without building its row, which spares most
// groups of a high-cardinality `stats … | sort by n desc | limit k`.
func (s *statsProcessor) flushTop(sp *sortProcessor) error {
	sp.top.tie = func(a, b *statsGroup) int { return compareGroups(a, b, s.pipe.By) }
	cols := make([]int, len(sp.keys))
	for i, k := range sp.keys {
		cols[i] = s.column(k.Field)
	}
	var vals []Value
	offer := func(g *statsGroup) {
		if last, lastGroup, full := sp.top.last(); full && s.compareToRow(g, cols, sp.keys, last, lastGroup) >= 0 {
			return
		}
		row := s.groupRow(g, vals)
		vals = sp.top.offerGroup(row, g)
	}
	for _, g := range s.all {
		offer(g)
	}
	if t := s.table; t != nil {
		s.table = nil
		// Sorted first by a count, a key whose count comes after the
		// last row kept is passed over without making its group.
		byCount := len(sp.keys) > 0 && cols[0] >= len(s.pipe.By)
		// Sorted by a count alone, a key whose count ties the last
		// row's comes after it unless its key orders first
		// (compareGroups), which the slot often tells (keyAfter).
		countOnly := byCount && len(sp.keys) == 1
		// probe stands for a key's group until it is known to be kept.
		probe := s.probeGroup()
		for i := range t.slots {
			sl := &t.slots[i]
			if sl.hash == 0 {
				continue
			}
			if last, lastGroup, full := sp.top.last(); full {
				if byCount {
					v, n := last.Values[cols[0]], float64(sl.count)
					if v.IsNum && (sp.keys[0].Desc && n < v.Num || !sp.keys[0].Desc && n > v.Num) {
						continue
					}
					if countOnly && v.IsNum && n == v.Num && keyAfter(sl, lastGroup) {
						continue
					}
				}
				probe.keys[0].Str, probe.parsed = t.key(sl), false
				if sl.notNumber() {
					probe.nums[0], probe.parsed = parsedNumber{}, true
				}
				for _, st := range probe.states {
					*st.(*countState) = countState(sl.count)
				}
				if s.compareToRow(probe, cols, sp.keys, last, lastGroup) >= 0 {
					continue
				}
			}
			g, err := s.countGroup(t.key(sl), sl.count)
			if err != nil {
				return err
			}
			offer(g)
		}
	}
	return sp.flush()
}

// keyAfter reports, when it can tell from slot sl alone, that its key
// orders after the key of group g (a group of one field) as
// compareGroups orders them: numbers first, by value, then the other
// keys as strings. A key that may be a number is not told (false).
func keyAfter(sl *keySlot, g *statsGroup) bool {
	if !sl.notNumber() {
		return false
	}
	g.parseKeys()
	return g.nums[0].ok || sl.prefix > keyPrefix(g.keys[0].Str)
}

// probeGroup is a group of one key and the pipe's count() states, made
// apart from the processor's groups.
func (s *statsProcessor) probeGroup() *statsGroup {
	g := &statsGroup{keys: []Value{{Name: s.pipe.By[0].Field}}, nums: make([]parsedNumber, 1),
		states: make([]statsState, len(s.pipe.Funcs))}
	for i := range g.states {
		g.states[i] = new(countState)
	}
	return g
}

// compareToRow orders g's row against row, the row of group rg, as the
// sort on keys (whose columns are cols) and then compareGroups order
// them. A key that is no column of the rows is blank in both.
func (s *statsProcessor) compareToRow(g *statsGroup, cols []int, keys []SortKey, row Row, rg *statsGroup) int {
	var probe [1]Value
	for i, k := range keys {
		if cols[i] < 0 {
			continue
		}
		probe[0] = s.groupValue(g, cols[i])
		c, blank := compareField(Row{Values: probe[:]}, row, k.Field)
		if k.Desc && !blank {
			c = -c
		}
		if c != 0 {
			return c
		}
	}
	return compareGroups(g, rg, s.pipe.By)
}

// column is the index of the column name in the rows of groupRow, or -1.
func (s *statsProcessor) column(name string) int {
	for i, k := range s.pipe.By {
		if k.Field == name {
			return i
		}
	}
	for i, c := range s.pipe.Funcs {
		if c.Name == name {
			return len(s.pipe.By) + i
		}
	}
	return -1
}

// groupValue is column col of g's row, as groupRow makes it.
func (s *statsProcessor) groupValue(g *statsGroup, col int) Value {
	if col < len(g.keys) {
		return g.keys[col]
	}
	i := col - len(g.keys)
	v := g.states[i].result()
	v.Name = s.pipe.Funcs[i].Name
	return v
}

// compareGroups orders groups by _time bucket, then by the other keys in
// the order they were given. Rows without a time sort before any bucket.
func compareGroups(a, b *statsGroup, by []GroupKey) int {
	for _, k := range by {
		if k.Bucket > 0 {
			if a.timed != b.timed {
				if !a.timed {
					return -1
				}
				return 1
			}
			if c := cmp.Compare(a.bucket, b.bucket); c != 0 {
				return c
			}
		}
	}
	a.parseKeys()
	b.parseKeys()
	for i, k := range by {
		if k.Bucket == 0 {
			if c := compareParsed(a.keys[i], b.keys[i], a.nums[i], b.nums[i]); c != 0 {
				return c
			}
		}
	}
	return 0
}

// parsedNumber is a value's number, when it is one.
type parsedNumber struct {
	v  float64
	ok bool
}
