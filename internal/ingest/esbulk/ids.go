package esbulk

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
)

// idLen is the length of a generated id, as Elasticsearch's.
const idLen = 20

// idGen makes document ids for documents sent without one: 20 URL-safe
// characters like Elasticsearch's, from a random prefix chosen at start and
// a counter, so ids are unique without coordination. A generated id is
// only answered, never stored (see bulkParser.parse), so it is kept as its
// counter value and written straight into the answer.
type idGen struct {
	prefix [9]byte
	n      atomic.Uint64
}

func newIDGen() *idGen {
	g := &idGen{}
	_, _ = rand.Read(g.prefix[:]) // crypto/rand.Read never fails
	return g
}

// reserve returns the first of n consecutive counter values, all above 0.
func (g *idGen) reserve(n int) uint64 {
	return g.n.Add(uint64(n)) - uint64(n) + 1
}

// appendID appends the id of counter value n.
func (g *idGen) appendID(dst []byte, n uint64) []byte {
	var b [15]byte
	copy(b[:], g.prefix[:])
	var c [8]byte
	binary.BigEndian.PutUint64(c[:], n)
	copy(b[9:], c[2:])
	return base64.RawURLEncoding.AppendEncode(dst, b[:])
}
