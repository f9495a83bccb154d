package esbulk

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"sync/atomic"
)

// idGen makes document ids for documents sent without one: 20 URL-safe
// characters like Elasticsearch's, from a random prefix chosen at start and
// a counter, so ids are unique without coordination.
type idGen struct {
	prefix [9]byte
	n      atomic.Uint64
}

func newIDGen() *idGen {
	g := &idGen{}
	_, _ = rand.Read(g.prefix[:]) // crypto/rand.Read never fails
	return g
}

func (g *idGen) next() string {
	var b [15]byte
	copy(b[:], g.prefix[:])
	var n [8]byte
	binary.BigEndian.PutUint64(n[:], g.n.Add(1))
	copy(b[9:], n[2:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}
