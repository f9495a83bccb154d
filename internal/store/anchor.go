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
	// Witness says that the anchor was read from the node's witness
	// rather than given by an operator: problems with it are of kind
	// ProblemWitness.
	Witness bool
}

func (a Anchor) kind() ProblemKind {
	if a.Witness {
		return ProblemWitness
	}
	return ProblemAnchor
}

func (a Anchor) source() string {
	if a.Witness {
		return "the witness"
	}
	return "an anchor"
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

// ProblemWitness: the head the node pushed to its witness is not in the
// chain: the data directory was rolled back to an older copy, its newest
// entries were cut, or its history was rewritten.
const ProblemWitness ProblemKind = "witness"
