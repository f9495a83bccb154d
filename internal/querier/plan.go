package querier

import (
	"cmp"
	"slices"
	"strconv"

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
	up    bool
	group string
	// holds are the partitions its store holds records of, or that it
	// consumes now (records may have arrived since the status was read).
	holds []Partition
	// done is the greatest offset it stored of each partition it holds
	// (-1 for one it consumes but stored nothing of yet).
	done map[Partition]int64
	err  string // why it is down
}

// ask is one request of a plan: an indexer and the partitions it answers
// for. all means every record it holds, without a restriction.
type ask struct {
	url   string
	parts []Partition
	all   bool
}

// skip is an indexer whose records the plan lacks.
type skip struct {
	url, err string
}

// makePlan picks one copy of every partition among members, not asking
// any in down (indexers that failed this query). rot rotates the order in
// which groups are preferred, so that successive queries spread over the
// replicas. A copy of a partition is fresh when the greatest offset its
// group stored is at most maxLag behind the most advanced copy that is
// up; stale copies are asked only when no fresh one can answer.
//
// When a group is complete (its members hold every partition any member
// holds), fresh and all its members are up, every member of it is asked
// for all it holds, unrestricted: a group holds each record once,
// whatever a rebalance did, and even a member whose status is older than
// its last rebalance answers only records no other member of its group
// has.
//
// Otherwise each partition goes to the first group (in rotated order)
// whose holders of it are all up and whose copy is fresh (else the most
// advanced such group), and every indexer asked is restricted to the
// partitions it was given, so that a partition counted from one group is
// never counted from another. A partition no group can answer makes the
// plan partial: its down holders are skipped. So is a member whose status
// was never read, whose partitions nobody can tell.
func makePlan(members []member, down map[string]bool, rot int, maxLag int64) ([]ask, []skip) {
	isUp := func(m *member) bool { return m.known && m.up && !down[m.url] }
	groups := map[string][]*member{}
	var skips []skip
	universe := map[Partition]bool{}
	best := map[Partition]int64{}
	for i := range members {
		m := &members[i]
		if !m.known {
			skips = append(skips, skip{m.url, "its status could not be read yet, so its partitions are unknown: " + cmp.Or(m.err, "not polled yet")})
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
	// coverage is how far group g's copy of p goes, and whether all its
	// holders of p are up; holders is false when it has no copy of p.
	coverage := func(g string, p Partition) (done int64, holders, up bool) {
		done, up = -1, true
		for _, m := range groups[g] {
			if slices.Contains(m.holds, p) {
				holders = true
				up = up && isUp(m)
				done = max(done, m.done[p])
			}
		}
		return done, holders, up
	}
	for p := range universe {
		best[p] = -1
		for _, g := range names {
			if done, holders, up := coverage(g, p); holders && up {
				best[p] = max(best[p], done)
			}
		}
	}
	fresh := func(p Partition, done int64) bool { return best[p]-done <= maxLag }

	// A complete, fresh group that is wholly up answers alone.
	for _, g := range names {
		ok := true
		for p := range universe {
			done, holders, up := coverage(g, p)
			ok = ok && holders && up && fresh(p, done)
		}
		if !ok {
			continue
		}
		asks := make([]ask, 0, len(groups[g]))
		for _, m := range groups[g] {
			asks = append(asks, ask{url: m.url, parts: m.holds, all: true})
		}
		return asks, skips
	}

	// Partition by partition.
	parts := make([]Partition, 0, len(universe))
	for p := range universe {
		parts = append(parts, p)
	}
	sortPartitions(parts)
	given := map[string][]Partition{}
	skipped := map[string]bool{}
	for _, p := range parts {
		chosen, chosenDone := "", int64(0)
		for _, g := range names {
			done, holders, up := coverage(g, p)
			if !holders || !up {
				continue
			}
			if fresh(p, done) {
				chosen = g
				break
			}
			if chosen == "" || done > chosenDone {
				chosen, chosenDone = g, done
			}
		}
		if chosen == "" {
			for _, g := range names {
				for _, m := range groups[g] {
					if slices.Contains(m.holds, p) && !isUp(m) && !skipped[m.url] {
						skipped[m.url] = true
						skips = append(skips, skip{m.url, cmp.Or(m.err, "failed during the query")})
					}
				}
			}
			continue
		}
		for _, m := range groups[chosen] {
			if slices.Contains(m.holds, p) {
				given[m.url] = append(given[m.url], p)
			}
		}
	}
	var asks []ask
	for i := range members {
		if ps := given[members[i].url]; len(ps) > 0 {
			asks = append(asks, ask{url: members[i].url, parts: ps})
		}
	}
	return asks, skips
}

// within is the filter that restricts an indexer to parts: records of
// those partitions, by the fields the store sink gives every record.
func within(parts []Partition) query.Node {
	byTopic := map[string][]query.Node{}
	var topics []string
	for _, p := range parts {
		if byTopic[p.Topic] == nil {
			topics = append(topics, p.Topic)
		}
		byTopic[p.Topic] = append(byTopic[p.Topic], query.Exact{Field: sink.FieldPartition, Value: strconv.Itoa(int(p.Partition))})
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
