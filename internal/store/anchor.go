package store

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// Anchor names one entry of the manifest's hash chain: its sequence number
// and hash. Each entry's hash covers every entry before it, so an anchor
// kept outside the data directory (a ticket, another system's logs, a
// notary) commits to the whole history up to it.
type Anchor struct {
	Seq  uint64
	Hash string
}

// String renders the anchor as ParseAnchor reads it: "<seq>:<hex hash>".
func (a Anchor) String() string { return fmt.Sprintf("%d:%s", a.Seq, a.Hash) }

var hashRe = regexp.MustCompile(`^[0-9a-f]{64}$`)

// ParseAnchor reads "<seq>:<hex sha256>", as Audit's report prints it.
func ParseAnchor(s string) (Anchor, error) {
	seq, hash, ok := strings.Cut(s, ":")
	n, err := strconv.ParseUint(seq, 10, 64)
	hash = strings.ToLower(hash)
	if !ok || err != nil || n == 0 || !hashRe.MatchString(hash) {
		return Anchor{}, fmt.Errorf("anchor %q: want <entry number>:<64 hex digits>, as `sluice verify` prints after \"manifest head\"", s)
	}
	return Anchor{Seq: n, Hash: hash}, nil
}

// ProblemAnchor: an anchor recorded earlier is no longer in the chain, so
// the history up to it was rewritten or cut back.
const ProblemAnchor ProblemKind = "anchor"

// checkAnchors reports every anchor that the parsed manifest lines do not
// hold with the same hash.
func checkAnchors(lines []manifestLine, anchors []Anchor) []Problem {
	var out []Problem
	for _, a := range anchors {
		found := false
		for i := range lines {
			e := &lines[i].entry
			if lines[i].torn || e.Seq != a.Seq {
				continue
			}
			found = true
			if e.Hash != a.Hash {
				out = append(out, Problem{Kind: ProblemAnchor, Detail: fmt.Sprintf(
					"entry %d has hash %s, but %s was recorded: the history up to it was rewritten", a.Seq, e.Hash, a.Hash)})
			}
			break
		}
		if !found {
			out = append(out, Problem{Kind: ProblemAnchor, Detail: fmt.Sprintf(
				"entry %d (recorded as %s) is not in the manifest: the history was cut back or replaced", a.Seq, a.Hash)})
		}
	}
	return out
}
