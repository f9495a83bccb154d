package querier

import (
	"cmp"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/sluice-log/sluice/internal/query"
	"github.com/sluice-log/sluice/internal/sink"
)

// Partition is one Kafka partition of one topic.
type Partition struct {
	Topic     string
	Partition int32
}

func (p Partition) String() string { return p.Topic + "/" + strconv.Itoa(int(p.Partition)) }

func sortPartitions(ps []Partition) {
	slices.SortFunc(ps, func(a, b Partition) int {
		return cmp.Or(cmp.Compare(a.Topic, b.Topic), cmp.Compare(a.Partition, b.Partition))
	})
}

// member is what the planner knows of one indexer.
type member struct {
	url string
	// known is false until its status was read once: its group and
	// partitions are unknown then.
	known bool
	// absent is set while its host name does not resolve and it was
	// never reached: a pod that does not exist (yet), not one that is
	// down. The planner leaves it out.
	absent bool
	up     bool
	group  string
	// holds are the partitions its store holds records of, or that it
	// consumes now (records may have arrived since the status was read).
	holds []Partition
	// done is the greatest offset it stored of each partition it holds
	// (-1 for one it consumes but stored nothing of yet).
	done map[Partition]int64
	// ranges are the offsets it holds of each partition, merged (none
	// for one it consumes but stored nothing of).
	ranges map[Partition][]span
	// assigned are the partitions it consumes now: new records of them
	// arrive there.
	assigned map[Partition]bool
	lag      *int64 // its group's lag, as it last said
	err      string // why it is down
}

// span is an inclusive range of offsets; hi is openEnd for "and every
// offset after lo".
type span struct{ lo, hi int64 }

const openEnd = math.MaxInt64

// share is one partition of an ask: every record of it the indexer holds
// (spans nil), or only those whose offsets are within spans.
type share struct {
	Partition
	spans []span
}

func (s share) String() string {
	if s.spans == nil {
		return s.Partition.String()
	}
	var b strings.Builder
	b.WriteString(s.Partition.String() + "@")
	for i, sp := range s.spans {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatInt(sp.lo, 10) + "-")
		if sp.hi != openEnd {
			b.WriteString(strconv.FormatInt(sp.hi, 10))
		}
	}
	return b.String()
}

// ask is one request of a plan: an indexer and the partitions it answers
// for. all means every record it holds, without a restriction.
type ask struct {
	url   string
	parts []share
	all   bool
}

// skip is an indexer whose records the plan lacks.
type skip struct {
	url, err string
}

// segment is a stretch of one partition's offsets and the members of one
// group holding all of it.
type segment struct {
	span
	by []*member
}

// copyOf is what one group holds of one partition.
type copyOf struct {
	holders []*member
	segs    []segment
	done    int64 // the greatest offset a holder stored
	// up: every offset a holder stored is held by a holder that is up,
	// and no holder that is down consumed the partition when its status
	// was last read (it may have stored records since that nobody else
	// has).
	up bool
	// overlap: some offsets are held by two holders that are up (a batch
	// stored by one and consumed again by the other after a crash before
	// the offset commit): asking both for the whole partition would count
	// those records twice.
	overlap bool
}

// copyIn describes group members' copy of p.
func copyIn(members []*member, p Partition, isUp func(*member) bool) copyOf {
	c := copyOf{done: -1, up: true}
	var bounds []int64
	for _, m := range members {
		if !slices.Contains(m.holds, p) {
			continue
		}
		c.holders = append(c.holders, m)
		c.done = max(c.done, m.done[p])
		if !isUp(m) && m.assigned[p] {
			c.up = false
		}
		for _, sp := range m.ranges[p] {
			bounds = append(bounds, sp.lo, sp.hi+1)
		}
	}
	slices.Sort(bounds)
	bounds = slices.Compact(bounds)
	for i := 0; i+1 < len(bounds); i++ {
		s := segment{span: span{bounds[i], bounds[i+1] - 1}}
		ups := 0
		for _, m := range c.holders {
			if covers(m.ranges[p], s.span) {
				s.by = append(s.by, m)
				if isUp(m) {
					ups++
				}
			}
		}
		if len(s.by) == 0 {
			continue // a gap: nobody holds these offsets
		}
		c.up = c.up && ups > 0
		c.overlap = c.overlap || ups > 1
		c.segs = append(c.segs, s)
	}
	return c
}

// covers reports whether ranges hold all of s.
func covers(ranges []span, s span) bool {
	for _, r := range ranges {
		if r.lo <= s.lo && s.hi <= r.hi {
			return true
		}
	}
	return false
}

// divide gives every offset of p that c's holders hold to exactly one of
// them that is up: the one that had the previous offsets when it holds
// these too, else one that consumes p now, else the first. Offsets past
// every range go to the holder consuming p now (new records arrive
// there), or to the holder of the last ones.
func (c copyOf) divide(p Partition, isUp func(*member) bool) map[*member][]span {
	out := map[*member][]span{}
	var prev *member
	pick := func(cands []*member) *member {
		if slices.Contains(cands, prev) {
			return prev
		}
		for _, m := range cands {
			if m.assigned[p] {
				return m
			}
		}
		return cands[0]
	}
	give := func(m *member, s span) {
		if m == prev {
			// Across a gap too: nobody else is given the offsets between.
			out[m][len(out[m])-1].hi = s.hi
		} else {
			out[m] = append(out[m], s)
		}
		prev = m
	}
	last := int64(-1)
	for _, s := range c.segs {
		var ups []*member
		for _, m := range s.by {
			if isUp(m) {
				ups = append(ups, m)
			}
		}
		give(pick(ups), s.span)
		last = s.hi
	}
	var consuming []*member
	for _, m := range c.holders {
		if isUp(m) && m.assigned[p] {
			consuming = append(consuming, m)
		}
	}
	switch {
	case len(consuming) > 0:
		give(pick(consuming), span{last + 1, openEnd})
	case prev != nil:
		give(prev, span{last + 1, openEnd})
	}
	return out
}

// makePlan picks one copy of every offset of every partition among
// members, not asking any in down (indexers that failed this query). rot
// rotates the order in which groups are preferred, so that successive
// queries spread over the replicas. A copy of a partition is fresh when
// the greatest offset its group stored is at most maxLag behind the most
// advanced copy that is up; stale copies are asked only when no fresh one
// can answer.
//
// When a group is complete (its members hold every partition any member
// holds), fresh, up for every partition and no two of its members that
// are up hold the same offsets, every member of it that is up is asked
// for all it holds, unrestricted: the group holds each record once,
// whatever a rebalance did, and even a member whose status is older than
// its last rebalance answers only records no other member of its group
// has.
//
// Otherwise each partition goes to the first group (in rotated order)
// that is up for it and whose copy is fresh (else the most advanced such
// group), and every indexer asked is restricted to the partitions it was
// given, so that a partition counted from one group is never counted from
// another. Within that group, where two members that are up hold the same
// offsets of the partition, its offsets are divided between its holders
// and each is restricted to its offset ranges too. A partition no group
// can answer makes the plan partial: its down holders are skipped. So is
// a member whose status was never read, whose partitions nobody can tell
// (unless its host name does not resolve: a pod that does not exist).
func makePlan(members []member, down map[string]bool, rot int, maxLag int64) ([]ask, []skip) {
	isUp := func(m *member) bool { return m.known && m.up && !down[m.url] }
	groups := map[string][]*member{}
	var skips []skip
	universe := map[Partition]bool{}
	best := map[Partition]int64{}
	for i := range members {
		m := &members[i]
		if !m.known {
			if !m.absent {
				skips = append(skips, skip{m.url, "its status could not be read yet, so its partitions are unknown: " + cmp.Or(m.err, "not polled yet")})
			}
			continue
		}
		groups[m.group] = append(groups[m.group], m)
		for _, p := range m.holds {
			universe[p] = true
		}
	}
	names := make([]string, 0, len(groups))
	for g := range groups {
		names = append(names, g)
	}
	slices.Sort(names)
	if len(names) > 0 {
		k := rot % len(names)
		names = append(names[k:], names[:k]...)
	}
	copies := map[string]map[Partition]copyOf{}
	for _, g := range names {
		copies[g] = map[Partition]copyOf{}
		for p := range universe {
			copies[g][p] = copyIn(groups[g], p, isUp)
		}
	}
	for p := range universe {
		best[p] = -1
		for _, g := range names {
			if c := copies[g][p]; len(c.holders) > 0 && c.up {
				best[p] = max(best[p], c.done)
			}
		}
	}
	fresh := func(p Partition, done int64) bool { return best[p]-done <= maxLag }

	// A complete, fresh group that is up and holds no offset twice
	// answers alone.
	for _, g := range names {
		ok := true
		for p := range universe {
			c := copies[g][p]
			ok = ok && len(c.holders) > 0 && c.up && !c.overlap && fresh(p, c.done)
		}
		if !ok {
			continue
		}
		var asks []ask
		for _, m := range groups[g] {
			if isUp(m) {
				asks = append(asks, ask{url: m.url, all: true})
			}
		}
		return asks, skips
	}

	// Partition by partition.
	parts := make([]Partition, 0, len(universe))
	for p := range universe {
		parts = append(parts, p)
	}
	sortPartitions(parts)
	given := map[string][]share{}
	skipped := map[string]bool{}
	for _, p := range parts {
		chosen, chosenDone := "", int64(0)
		for _, g := range names {
			c := copies[g][p]
			if len(c.holders) == 0 || !c.up {
				continue
			}
			if fresh(p, c.done) {
				chosen = g
				break
			}
			if chosen == "" || c.done > chosenDone {
				chosen, chosenDone = g, c.done
			}
		}
		if chosen == "" {
			for _, g := range names {
				for _, m := range copies[g][p].holders {
					if !isUp(m) && !skipped[m.url] {
						skipped[m.url] = true
						skips = append(skips, skip{m.url, cmp.Or(m.err, "failed during the query")})
					}
				}
			}
			continue
		}
		c := copies[chosen][p]
		if !c.overlap {
			for _, m := range c.holders {
				if isUp(m) {
					given[m.url] = append(given[m.url], share{Partition: p})
				}
			}
			continue
		}
		for m, spans := range c.divide(p, isUp) {
			given[m.url] = append(given[m.url], share{Partition: p, spans: spans})
		}
	}
	var asks []ask
	for i := range members {
		if ss := given[members[i].url]; len(ss) > 0 {
			asks = append(asks, ask{url: members[i].url, parts: ss})
		}
	}
	return asks, skips
}

// within is the filter that restricts an indexer to shares: records of
// those partitions (within their offset ranges), by the fields the store
// sink gives every record.
func within(shares []share) query.Node {
	byTopic := map[string][]query.Node{}
	var topics []string
	for _, s := range shares {
		if byTopic[s.Topic] == nil {
			topics = append(topics, s.Topic)
		}
		n := query.Node(query.Exact{Field: sink.FieldPartition, Value: strconv.Itoa(int(s.Partition.Partition))})
		if s.spans != nil {
			var offs []query.Node
			for _, sp := range s.spans {
				r := query.Range{Field: sink.FieldOffset, Lo: query.Bound{Value: strconv.FormatInt(sp.lo, 10)}, LoIncl: true, HiIncl: true}
				if sp.hi == openEnd {
					r.Hi.Unbounded = true
				} else {
					r.Hi.Value = strconv.FormatInt(sp.hi, 10)
				}
				offs = append(offs, r)
			}
			n = query.And{Children: []query.Node{n, orOf(offs)}}
		}
		byTopic[s.Topic] = append(byTopic[s.Topic], n)
	}
	var or query.Or
	for _, t := range topics {
		or.Children = append(or.Children, query.And{Children: []query.Node{
			query.Exact{Field: sink.FieldTopic, Value: t},
			orOf(byTopic[t]),
		}})
	}
	return orOf(or.Children)
}

// orOf is one node, or the Or of several.
func orOf(ns []query.Node) query.Node {
	if len(ns) == 1 {
		return ns[0]
	}
	return query.Or{Children: ns}
}
