package store

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The merge policy is size-tiered, like Lucene's and VictoriaLogs': parts
// of about the same size are merged together, so that each merge moves
// every byte it rewrites up at least one tier.
//
// A part's tier is 0 below tierBase bytes and 1 + ⌊log_F(size/tierBase)⌋
// above, F being the fan-in (Options.MergeFanIn). Once a tier of a
// partition holds F parts, up to maxMergeFanIn of them are merged into one,
// whose size is at least F times the tier's lower bound: it lands at least
// one tier higher. Hence:
//
//   - a byte is rewritten at most once per tier above tier 0 it climbs:
//     write amplification ≤ 1 + 1 + log_F(partition bytes / tierBase),
//     counting the flush (tier 0 merges rewrite at most tierBase bytes
//     each, however often they come);
//   - a partition holds at most F−1 parts per tier between merge rounds,
//     (F−1)·(2 + log_F(partition bytes / tierBase)) in all: O(log) of its
//     size, however long ingest runs, and never waiting for ingest to stop.
//
// Continuous ingest flushes small parts in time order, so the parts of one
// tier are neighbours in time, and a merge's output covers a contiguous
// span: the partition looks like a number in base F whose digits are runs
// of the recent past, and a search over the last hour skips every large,
// older part by its time range.
//
// A partition that stops receiving parts (yesterday's, a quiet tenant's)
// is merged further once it is idle (see idle): no flush has added a part
// to it for Options.IdleMergeAfter, or the whole store has received no
// record for Options.QuietAfter and flushed every one. It is merged
// one part when the parts besides the largest hold at least as many bytes
// as it, else its smaller parts together (see finalMerge), so that each
// such merge at least doubles its largest part and a few late records do
// not rewrite a whole day.
type mergePolicy struct {
	fanIn      int           // F
	idleAfter  time.Duration // < 0: no final merge
	quietAfter time.Duration // < 0: a quiet store does not make partitions idle
}

// tierBase is the size below which every part is tier 0. A merge of tier 0
// parts rewrites less than fanIn·tierBase bytes, so letting them share a
// tier costs little, and it keeps a quiet partition (a few kilobytes per
// flush) from growing tiers of tiny parts.
const tierBase = 1 << 20

// bigMergeBytes divides merges into two lanes (MergeLane): merges reading
// less than this run in the small lane, which a long merge of large parts
// in the big lane never holds up, so that the parts of a partition under
// continuous ingest stay bounded while its largest parts are rewritten.
const bigMergeBytes = 128 << 20

// tier is the tier of a part of size bytes.
func (mp mergePolicy) tier(size int64) int {
	if size < tierBase {
		return 0
	}
	t := 1
	for q := size / tierBase; q >= int64(mp.fanIn); q /= int64(mp.fanIn) {
		t++
	}
	return t
}

// candidate is what the policy needs to know of a part.
type candidate struct {
	size    int64
	minTime int64
	name    string
	added   time.Time
}

func candidateOf(p *part) candidate {
	return candidate{size: p.size, minTime: p.minTime, name: p.name, added: p.added}
}

// plannedMerge is one merge the policy wants: indexes of its inputs, and
// whether it is an idle partition's final merge.
type plannedMerge struct {
	inputs []int
	final  bool
}

// merges returns the merges due in one partition, each as indexes into cs
// (the partition's parts that no merge is reading), in the order they
// should run: the lowest tier first, then the final merge of an idle
// partition. busy says that a merge is reading some of the partition's
// other parts. now and lastRecord decide idleness (see idle); the zero
// now means "once idle", for counting pending merges.
func (mp mergePolicy) merges(cs []candidate, busy bool, now, lastRecord time.Time) []plannedMerge {
	byTier := map[int][]int{}
	for i, c := range cs {
		t := mp.tier(c.size)
		byTier[t] = append(byTier[t], i)
	}
	tiers := make([]int, 0, len(byTier))
	for t := range byTier {
		tiers = append(tiers, t)
	}
	slices.Sort(tiers)
	var out []plannedMerge
	for _, t := range tiers {
		idx := byTier[t]
		if len(idx) < mp.fanIn {
			continue
		}
		// The oldest first: under continuous ingest they are the run of
		// the tier that has been waiting longest, neighbours in time.
		slices.SortFunc(idx, func(a, b int) int {
			if c := cmp.Compare(cs[a].minTime, cs[b].minTime); c != 0 {
				return c
			}
			return strings.Compare(cs[a].name, cs[b].name)
		})
		out = append(out, plannedMerge{inputs: idx[:min(len(idx), maxMergeFanIn)]})
	}
	if len(out) == 0 && !busy {
		if m := mp.finalMerge(cs, now, lastRecord); m != nil {
			out = append(out, plannedMerge{inputs: m, final: true})
		}
	}
	return out
}

// finalMerge returns, for a partition idle for idleAfter, the longest run
// of its smallest parts (up to maxMergeFanIn) in which the parts besides
// the largest hold at least as many bytes as it: all of them when that
// holds for the whole partition, else the small ones that would otherwise
// stay apart; without that largest part, when it is of the big lane's
// size and the others hold more, but not twice as much, and merged alone
// would still at least double their largest. Each such merge at least
// doubles its largest input, so a byte is rewritten by final merges at
// most log2 of the partition's size over the smallest part's times, and
// an idle partition ends with a few parts, each larger than all smaller
// ones together. nil if none is due.
func (mp mergePolicy) finalMerge(cs []candidate, now, lastRecord time.Time) []int {
	if mp.idleAfter < 0 || len(cs) < 2 {
		return nil
	}
	var newest time.Time
	for _, c := range cs {
		if c.added.After(newest) {
			newest = c.added
		}
	}
	if !now.IsZero() && !mp.idle(newest, now, lastRecord) {
		return nil
	}
	idx := make([]int, len(cs))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(a, b int) int {
		if c := cmp.Compare(cs[a].size, cs[b].size); c != 0 {
			return c
		}
		return strings.Compare(cs[a].name, cs[b].name)
	})
	n := 0
	prefix := []int64{0} // prefix[j]: the bytes of idx[:j]
	for j, i := range idx[:min(len(idx), maxMergeFanIn)] {
		if j > 0 && prefix[j] >= cs[i].size {
			n = j + 1
		}
		prefix = append(prefix, prefix[j]+cs[i].size)
	}
	if n < 2 {
		return nil
	}
	// The run's largest part is left out when the others hold more bytes
	// than it, but less than twice as many, and merged alone still at
	// least double their own largest: they land above it, so that the
	// partition settles as well (each part larger than all smaller ones
	// together) without rewriting what may be half of it. Typically that
	// part is the day's largest, which the big lane wrote at the merge
	// level minutes before, beside the parts of the day's last hours.
	// Only a part of the big lane's size: a small partition still ends in
	// one part.
	if last := cs[idx[n-1]].size; n > 2 && last >= bigMergeBytes && prefix[n-1] > last && prefix[n-1] < 2*last && prefix[n-2] >= cs[idx[n-2]].size {
		n--
	}
	return idx[:n]
}

// idle says whether a partition whose newest part was added at newest
// has stopped receiving records, at now: no part was added to it for
// idleAfter, or the whole store has taken no record for quietAfter,
// lastRecord being when it took its last one, all flushed since (the
// zero time when some are not). The second is how a partition that
// stopped receiving is seen as such when the whole node did, at the end
// of a backfill or a burst: quietAfter (a flush interval) after the last
// record instead of idleAfter after the last flush, with the merge lanes
// idle meanwhile. A node under ingest never goes that quiet, so today's
// partition is not merged whole while it receives.
func (mp mergePolicy) idle(newest, now, lastRecord time.Time) bool {
	if mp.idleAfter < 0 {
		return false
	}
	quiet := mp.quietAfter >= 0 && !lastRecord.IsZero() && now.Sub(lastRecord) >= mp.quietAfter
	return now.Sub(newest) >= mp.idleAfter || quiet
}

// partsBound is the most parts the policy lets a partition of total bytes
// hold between merge rounds: F−1 per tier up to the tier of total.
func (mp mergePolicy) partsBound(total int64) int {
	return (mp.fanIn - 1) * (mp.tier(total) + 1)
}
