package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"

	"github.com/sluice-log/sluice/internal/store"
)

// An answer that could not read everything it should (a quarantined part in
// its time range, an indexer that did not answer) is still given, from the
// rest, and says what it lacks:
//
//   - NDJSON answers (POST /api/v1/query) end with one line
//     {"_partial": Partial} and set the trailer Sluice-Partial: true;
//   - JSON answers carry a top-level "partial": Partial member.
//
// A complete answer has neither. This file owns both forms, so that every
// role that answers queries (the all-in-one server, a querier fanning out
// over indexers) writes and reads them the same way.

// PartialTrailer is the HTTP trailer, declared in the Trailer header of
// every NDJSON answer, that is "true" when the answer is partial.
const PartialTrailer = "Sluice-Partial"

// PartialKey is the member that holds a Partial: the only key of the last
// line of a partial NDJSON answer, a top-level member of a JSON answer.
const (
	PartialKey     = "_partial"
	PartialJSONKey = "partial"
)

// Kinds of what an answer skipped.
const (
	SkippedPart    = "part"    // a store part that could not be read
	SkippedIndexer = "indexer" // an indexer that did not answer
)

// Partial says that an answer lacks records, and which sources it lacks.
type Partial struct {
	Reason  string    `json:"reason"`
	Skipped []Skipped `json:"skipped"`
}

// Skipped is one source an answer could not read.
type Skipped struct {
	Kind      string `json:"kind"`                // SkippedPart or SkippedIndexer
	Name      string `json:"name"`                // the part's name or the indexer's URL
	Partition string `json:"partition,omitempty"` // a part's partition
	Error     string `json:"error"`
}

// NewPartial returns the Partial of an answer that skipped these sources,
// or nil when it skipped none.
func NewPartial(skipped ...Skipped) *Partial {
	if len(skipped) == 0 {
		return nil
	}
	p := &Partial{Skipped: skipped}
	p.Reason = p.reason()
	return p
}

// PartialOfSearch returns the Partial of an answer the store searches in
// st served, or nil when they read every part they should have.
func PartialOfSearch(st *store.SearchStats) *Partial {
	if st == nil || len(st.Skipped) == 0 {
		return nil
	}
	sk := make([]Skipped, len(st.Skipped))
	for i, s := range st.Skipped {
		sk[i] = Skipped{Kind: SkippedPart, Name: s.Name, Partition: s.Partition, Error: s.Err}
	}
	return NewPartial(sk...)
}

// Merge returns the Partial of an answer that lacks what p and o lack;
// either may be nil.
func (p *Partial) Merge(o *Partial) *Partial {
	switch {
	case p == nil:
		return o
	case o == nil:
		return p
	}
	seen := make(map[Skipped]bool, len(p.Skipped))
	var all []Skipped
	for _, s := range append(append([]Skipped(nil), p.Skipped...), o.Skipped...) {
		key := Skipped{Kind: s.Kind, Name: s.Name, Partition: s.Partition}
		if !seen[key] {
			seen[key] = true
			all = append(all, s)
		}
	}
	return NewPartial(all...)
}

func (p *Partial) reason() string {
	var parts, indexers int
	for _, s := range p.Skipped {
		if s.Kind == SkippedIndexer {
			indexers++
		} else {
			parts++
		}
	}
	var what []string
	if parts > 0 {
		what = append(what, plural(parts, "part")+" in the time range could not be read (quarantined)")
	}
	if indexers > 0 {
		what = append(what, plural(indexers, "indexer")+" did not answer")
	}
	if len(p.Skipped) == 1 {
		return what[0] + ": the answer lacks its records"
	}
	return strings.Join(what, "; ") + ": the answer lacks their records"
}

func plural(n int, what string) string {
	if n == 1 {
		return "1 " + what
	}
	return fmt.Sprintf("%d %ss", n, what)
}

// String renders p for people: the reason, then one line per skipped
// source.
func (p *Partial) String() string {
	var b strings.Builder
	b.WriteString("partial answer: ")
	b.WriteString(p.Reason)
	for _, s := range p.Skipped {
		b.WriteString("\n  skipped ")
		b.WriteString(s.Kind)
		b.WriteByte(' ')
		if s.Partition != "" {
			b.WriteString(s.Partition)
			b.WriteByte('/')
		}
		b.WriteString(s.Name)
		if s.Error != "" {
			b.WriteString(": ")
			b.WriteString(s.Error)
		}
	}
	return b.String()
}

// ParsePartialLine returns the Partial of an NDJSON answer's line when the
// line is one ({"_partial": …}), and false for any other line.
func ParsePartialLine(line []byte) (*Partial, bool) {
	line = bytes.TrimSpace(line)
	if !bytes.HasPrefix(line, []byte(`{"`+PartialKey+`"`)) {
		return nil, false
	}
	var v map[string]*Partial
	if err := json.Unmarshal(line, &v); err != nil || len(v) != 1 || v[PartialKey] == nil {
		return nil, false
	}
	return v[PartialKey], true
}

// appendPartialLine appends the last line of a partial NDJSON answer.
func appendPartialLine(b []byte, p *Partial) []byte {
	body, _ := json.Marshal(p) // strings only: always marshals
	b = append(b, `{"`+PartialKey+`":`...)
	b = append(b, body...)
	return append(b, '}')
}

// WriteJSON answers v, which must marshal to a JSON object, with a
// "partial" member added when p is not nil.
func WriteJSON(w http.ResponseWriter, v any, p *Partial) {
	w.Header().Set("Content-Type", "application/json")
	body, err := json.Marshal(v)
	if err != nil {
		writeError(w, http.StatusInternalServerError, "encode answer: %v", err)
		return
	}
	if p != nil {
		if i := bytes.LastIndexByte(body, '}'); i > 0 && body[0] == '{' {
			pb, _ := json.Marshal(p)
			sep := ","
			if i == 1 {
				sep = "" // {}
			}
			body = append(body[:i:i], []byte(sep+`"`+PartialJSONKey+`":`)...)
			body = append(append(body, pb...), '}')
		}
	}
	_, _ = w.Write(append(body, '\n'))
}
