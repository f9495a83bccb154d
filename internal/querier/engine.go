package querier

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/query"
)

// The Querier is the API's Engine in the querier role.
var _ api.Engine = (*Querier)(nil)

// form is the part of an indexer request every ask shares.
func form(kind string, opts query.Options) url.Values {
	f := url.Values{"kind": {kind}}
	f.Set("from", strconv.FormatInt(opts.From, 10))
	f.Set("to", strconv.FormatInt(opts.To, 10))
	f.Set("now", strconv.FormatInt(opts.Now.UnixNano(), 10))
	if opts.Limit > 0 {
		f.Set("limit", strconv.Itoa(opts.Limit))
	}
	return f
}

// withNow fixes the time relative times resolve against, so that every
// indexer and the merge resolve them alike.
func withNow(opts query.Options) query.Options {
	if opts.Now.IsZero() {
		opts.Now = time.Now()
	}
	return opts
}

// partialRequest asks each indexer for kind with f, restricted to the
// partitions of its ask.
func partialRequest(f url.Values) request {
	return func(a ask) (string, string, url.Values) {
		if a.all {
			return http.MethodPost, api.PartialPath, f
		}
		g := url.Values{}
		for k, v := range f {
			g[k] = v
		}
		g.Set("within", (&query.Query{Filter: within(a.parts)}).String())
		return http.MethodPost, api.PartialPath, g
	}
}

// partialOf is what an answer lacks: the indexers no copy answered for,
// and what the indexers' own stores could not read.
func partialOf(answers []answer, skips []skip) *api.Partial {
	var sk []api.Skipped
	for _, s := range skips {
		sk = append(sk, api.Skipped{Kind: api.SkippedIndexer, Name: s.url, Error: s.err})
	}
	p := api.NewPartial(sk...)
	for _, a := range answers {
		p = p.Merge(a.partial)
	}
	return p
}

// Query runs q on one copy of every partition and merges the answers.
func (q *Querier) Query(ctx context.Context, qq *query.Query, opts query.Options, emit func(query.Row) error) (*api.Partial, error) {
	opts = withNow(opts)
	answers, skips, err := q.gather(ctx, opts.Tenant, partialRequest(withQuery(form("query", opts), qq)))
	if err != nil {
		return nil, err
	}
	m, err := query.NewMerge(qq, opts, emit)
	if err != nil {
		return nil, err
	}
	defer m.Close()
	for _, a := range answers {
		if err := m.Add(a.body); err != nil {
			return nil, fmt.Errorf("merge the answer of %s: %w", a.ask.url, err)
		}
	}
	return partialOf(answers, skips), m.Finish()
}

func withQuery(f url.Values, qq *query.Query) url.Values {
	f.Set("query", qq.String())
	return f
}

// FieldNames adds up the indexers' field counts.
func (q *Querier) FieldNames(ctx context.Context, qq *query.Query, opts query.Options, top int) ([]query.FieldStats, *api.Partial, error) {
	opts = withNow(opts)
	f := withQuery(form("fields", opts), qq)
	f.Set("top", strconv.Itoa(top))
	answers, skips, err := q.gather(ctx, opts.Tenant, partialRequest(f))
	if err != nil {
		return nil, nil, err
	}
	m := query.NewFieldNamesMerge(opts, top)
	for _, a := range answers {
		if err := m.Add(a.body); err != nil {
			return nil, nil, fmt.Errorf("merge the answer of %s: %w", a.ask.url, err)
		}
	}
	return m.Result(), partialOf(answers, skips), nil
}

// Context merges the indexers' records around a hit.
func (q *Querier) Context(ctx context.Context, stream string, t int64, before, after int, opts query.Options) (query.Surroundings, *api.Partial, error) {
	opts = withNow(opts)
	f := form("context", opts)
	f.Set("_stream", stream)
	f.Set("_time", strconv.FormatInt(t, 10))
	f.Set("before", strconv.Itoa(before))
	f.Set("after", strconv.Itoa(after))
	answers, skips, err := q.gather(ctx, opts.Tenant, partialRequest(f))
	if err != nil {
		return query.Surroundings{}, nil, err
	}
	bodies := make([][]byte, len(answers))
	for i, a := range answers {
		bodies[i] = a.body
	}
	got, err := query.MergeContext(bodies, before, after, opts)
	if err != nil {
		return query.Surroundings{}, nil, err
	}
	return got, partialOf(answers, skips), nil
}

// Plan is a querier's explain answer: the plan and cost of each
// indexer's share.
type Plan struct {
	Query    string        `json:"query"`
	Indexers []IndexerPlan `json:"indexers"`
}

// IndexerPlan is one indexer's explain answer to its share of a query.
type IndexerPlan struct {
	URL string `json:"url"`
	// Partitions are those it was asked for; "all" when it was asked for
	// everything it holds.
	Partitions []string        `json:"partitions"`
	Plan       json.RawMessage `json:"plan"`
}

// Explain asks each indexer of the plan to explain its share.
func (q *Querier) Explain(ctx context.Context, qq *query.Query, opts query.Options) (any, *api.Partial, error) {
	opts = withNow(opts)
	base := form("explain", opts)
	answers, skips, err := q.gather(ctx, opts.Tenant, func(a ask) (string, string, url.Values) {
		share := qq
		if !a.all {
			share = qq.AndFilter(within(a.parts))
		}
		f := url.Values{"query": {share.String()}}
		for _, k := range []string{"from", "to", "limit"} {
			if v := base.Get(k); v != "" && v != "0" {
				f.Set(k, v)
			}
		}
		// The public endpoint reads RFC 3339.
		for _, k := range []string{"from", "to"} {
			if v := f.Get(k); v != "" {
				ns, _ := strconv.ParseInt(v, 10, 64)
				f.Set(k, time.Unix(0, ns).UTC().Format(time.RFC3339Nano))
			}
		}
		return http.MethodPost, "/api/v1/explain", f
	})
	if err != nil {
		return nil, nil, err
	}
	out := Plan{Query: qq.String()}
	var p *api.Partial
	for _, a := range answers {
		ip := IndexerPlan{URL: a.ask.url, Partitions: []string{"all"}, Plan: a.body}
		if !a.ask.all {
			ip.Partitions = ip.Partitions[:0]
			for _, part := range a.ask.parts {
				ip.Partitions = append(ip.Partitions, part.String())
			}
		}
		var member struct {
			Partial *api.Partial `json:"partial"`
		}
		if json.Unmarshal(a.body, &member) == nil {
			p = p.Merge(member.Partial)
		}
		out.Indexers = append(out.Indexers, ip)
	}
	return out, partialOf(nil, skips).Merge(p), nil
}
