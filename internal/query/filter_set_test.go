package query

import (
	"math/rand"
	"slices"
	"testing"
	"time"
)

// TestFilterSetDifferential checks that a FilterSet answers what each of
// its filters' own Match answers, on random filters (many of them anchored
// on a word of a field, sharing terms) and random records.
func TestFilterSetDifferential(t *testing.T) {
	rng := rand.New(rand.NewSource(7))
	now := time.Unix(0, 200_000)
	for iter := range 200 {
		nodes := make([]Node, 1+rng.Intn(12))
		for i := range nodes {
			switch rng.Intn(3) {
			case 0:
				nodes[i] = randomNode(rng, 2)
			default:
				// word AND more: the shape of flow filters, so that
				// anchors and shared terms are exercised.
				nodes[i] = And{Children: []Node{Phrase{Field: []string{"service", "host", "level", "_msg"}[rng.Intn(4)],
					Value: []string{"api", "web", "error", "INFO", "web-1", "retry"}[rng.Intn(6)]}, randomNode(rng, 1)}}
			}
		}
		s := NewFilterSet(nodes, now)
		m := s.Matcher()
		for _, r := range randomRecords(rng, 50) {
			var want []int
			for i, n := range nodes {
				if compile(n, compileEnv{now: now}).Match(&r) {
					want = append(want, i)
				}
			}
			got := slices.Clone(m.Match(&r))
			slices.Sort(got)
			if !slices.Equal(got, want) {
				t.Fatalf("iteration %d: record %+v: matched %v, want %v\nfilters: %v", iter, r, got, want, nodes)
			}
		}
	}
}

func TestFilterSetAnchors(t *testing.T) {
	var nodes []Node
	for _, q := range []string{"service:api AND level:error", "service:web AND level:error", "service:db AND level:warn",
		"level:error", "*", "error", "service:api OR host:x"} {
		p, err := Parse(q)
		if err != nil {
			t.Fatal(err)
		}
		nodes = append(nodes, p.Filter)
	}
	s := NewFilterSet(nodes, time.Now())
	if len(s.anchors) != 2 || s.anchors[0].field != "service" || s.anchors[1].field != "level" {
		t.Fatalf("anchors %+v, want service, then level (of level:error alone)", s.anchors)
	}
	// Three words of service against two of level. level:error is one term
	// for the three filters that hold it; "*" is
	// no term.
	if len(s.terms) != 4 {
		t.Errorf("%d distinct terms, want 4 (level:error, level:warn, error, the OR)", len(s.terms))
	}
	if !slices.Equal(s.always, []int32{4, 5, 6}) {
		t.Errorf("filters tried on every record %v, want 4 5 6", s.always)
	}
}
