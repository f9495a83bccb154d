package querier

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluice-log/sluice/internal/api"
)

// Options configure a Querier.
type Options struct {
	// Indexers are the store indexers' base URLs.
	Indexers []string
	// PollInterval is how often every indexer's status is read.
	PollInterval time.Duration
	// MaxResponseBytes bounds what one indexer's answer may weigh.
	MaxResponseBytes int64
	// MaxCopyLag is how many offsets a copy of a partition may be behind
	// the most advanced one that is up and still be asked in turn with
	// it; a copy further behind is asked only when no other can answer.
	MaxCopyLag int64
	// Client makes the requests; nil is a client of its own.
	Client *http.Client
	// TLS is the client configuration for https:// indexers (their CA,
	// the querier's client certificate); nil is Go's default.
	TLS *tls.Config
	// Resolver looks up the indexers' host names for a client of its
	// own; nil is the system's.
	Resolver *net.Resolver
	// StatusAuthorization is the Authorization value of the status polls
	// (an admin key's, "Bearer KEY") when the indexers require keys;
	// queries carry their caller's own credential instead.
	StatusAuthorization string
	Log                 *slog.Logger
}

// Querier fans queries out over the indexers. Run keeps its view of them
// current.
type Querier struct {
	opts   Options
	client *http.Client
	log    *slog.Logger

	mu      sync.Mutex
	members []member // in the order of opts.Indexers
	polls   []time.Time
	polled  atomic.Bool // a first round of polls has ended
	rot     atomic.Uint64
}

// New returns a querier over opts.Indexers; nothing is polled before Run.
func New(opts Options) *Querier {
	if opts.PollInterval <= 0 {
		opts.PollInterval = 2 * time.Second
	}
	if opts.MaxResponseBytes <= 0 {
		opts.MaxResponseBytes = 512 << 20
	}
	q := &Querier{opts: opts, client: opts.Client, log: opts.Log}
	if q.client == nil {
		// No overall timeout: a query's context bounds its requests.
		dialer := &net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second, Resolver: opts.Resolver}
		q.client = &http.Client{Transport: &http.Transport{
			DialContext:         dialer.DialContext,
			TLSClientConfig:     opts.TLS,
			MaxIdleConnsPerHost: 16,
			IdleConnTimeout:     90 * time.Second,
		}}
	}
	if q.log == nil {
		q.log = slog.New(slog.DiscardHandler)
	}
	for _, u := range opts.Indexers {
		q.members = append(q.members, member{url: strings.TrimRight(u, "/"), err: "not polled yet"})
	}
	q.polls = make([]time.Time, len(q.members))
	return q
}

// Run polls every indexer's status each PollInterval until ctx ends.
func (q *Querier) Run(ctx context.Context) error {
	t := time.NewTicker(q.opts.PollInterval)
	defer t.Stop()
	for {
		q.pollAll(ctx)
		q.polled.Store(true)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Ready reports whether every indexer was polled once, so that a first
// query does not take an indexer not yet polled for one that is down.
func (q *Querier) Ready() bool { return q.polled.Load() }

func (q *Querier) pollAll(ctx context.Context) {
	var wg sync.WaitGroup
	for i := range q.members {
		wg.Add(1)
		go func() {
			defer wg.Done()
			q.poll(ctx, i)
		}()
	}
	wg.Wait()
}

// poll reads indexer i's status: up with its group and partitions, or
// down with the reason. A down indexer keeps the partitions it last had,
// so that the planner knows which copies it leaves without.
func (q *Querier) poll(ctx context.Context, i int) {
	url := q.members[i].url // fixed after New
	ctx, cancel := context.WithTimeout(ctx, min(q.opts.PollInterval, 5*time.Second)+time.Second)
	defer cancel()
	ks, err := q.status(ctx, url)
	q.mu.Lock()
	defer q.mu.Unlock()
	m := &q.members[i]
	q.polls[i] = time.Now()
	if err != nil {
		if absent := !m.known && hostNotFound(err); absent {
			if !m.absent {
				q.log.Info("indexer absent: its host name does not resolve; leaving it out until it does", "indexer", url, "err", err)
			}
			m.absent, m.up, m.err = true, false, err.Error()
			return
		}
		if m.up || m.err != err.Error() {
			q.log.Warn("indexer down", "indexer", url, "err", err)
		}
		m.absent, m.up, m.err = false, false, err.Error()
		return
	}
	if !m.up && m.known {
		q.log.Info("indexer up again", "indexer", url)
	}
	done := map[Partition]int64{}
	ranges := map[Partition][]span{}
	assigned := map[Partition]bool{}
	for _, p := range ks.Assigned {
		done[Partition{ks.Topic, p}] = -1
		assigned[Partition{ks.Topic, p}] = true
	}
	for _, s := range ks.Stored {
		p := Partition{s.Topic, s.Partition}
		done[p] = s.Done
		for _, r := range s.Ranges {
			if r[0] < 0 || r[1] < r[0] || r[1] >= openEnd-1 {
				continue // no Kafka offsets: a status this querier cannot use
			}
			ranges[p] = append(ranges[p], span{r[0], r[1]})
		}
		if s.Ranges == nil && s.Done >= 0 {
			// An indexer that does not say its ranges holds at most
			// every offset up to Done.
			ranges[p] = []span{{0, s.Done}}
		}
	}
	m.known, m.absent, m.up, m.err, m.group, m.done = true, false, true, "", ks.Group, done
	m.ranges, m.assigned, m.lag = ranges, assigned, ks.GroupLag
	m.holds = m.holds[:0]
	for p := range done {
		m.holds = append(m.holds, p)
	}
	sortPartitions(m.holds)
}

func (q *Querier) status(ctx context.Context, url string) (*api.KafkaStatus, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url+"/api/v1/status", nil)
	if err != nil {
		return nil, err
	}
	if a := q.opts.StatusAuthorization; a != "" {
		req.Header.Set("Authorization", a)
	}
	resp, err := q.client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 16<<20))
	if err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("read status: %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	var st struct {
		Kafka *api.KafkaStatus `json:"kafka"`
	}
	if err := json.Unmarshal(body, &st); err != nil {
		return nil, fmt.Errorf("read status: %w", err)
	}
	if st.Kafka == nil {
		return nil, errors.New("not a store indexer: its status names no Kafka consumer group (is it --role indexer with sink.type store?)")
	}
	return st.Kafka, nil
}

// hostNotFound reports whether err is a name that does not resolve
// (NXDOMAIN): the headless Service of a StatefulSet publishes a name for
// every pod that exists, ready or not, so such an indexer is a pod that
// does not exist, not one that is down. A resolver that fails otherwise
// (a timeout, SERVFAIL) says nothing of the kind.
func hostNotFound(err error) bool {
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound
}

// markDown takes an indexer that failed a request out of the plans until
// its next successful poll.
func (q *Querier) markDown(url string, err error) {
	q.mu.Lock()
	defer q.mu.Unlock()
	for i := range q.members {
		if m := &q.members[i]; m.url == url {
			if m.up {
				q.log.Warn("indexer failed a request; asking its replicas until it answers a poll", "indexer", url, "err", err)
			}
			m.up, m.err = false, err.Error()
		}
	}
}

// snapshot is the members as they are now, for one plan.
func (q *Querier) snapshot() []member {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]member, len(q.members))
	for i, m := range q.members {
		m.holds = append([]Partition(nil), m.holds...)
		out[i] = m
	}
	return out
}

// IndexerStatus is one indexer as the querier sees it, for its status
// endpoint.
type IndexerStatus struct {
	URL string `json:"url"`
	Up  bool   `json:"up"`
	// State is up, down (it resolves but did not answer, or failed a
	// request) or absent (its host name does not resolve and it was
	// never reached: a pod that does not exist).
	State      string    `json:"state"`
	Group      string    `json:"group,omitempty"`
	Partitions []string  `json:"partitions"`
	Assigned   []string  `json:"assigned"`
	GroupLag   *int64    `json:"group_lag,omitempty"`
	Error      string    `json:"error,omitempty"`
	Polled     time.Time `json:"polled"`
}

// Indexers reports every indexer's state.
func (q *Querier) Indexers() []IndexerStatus {
	q.mu.Lock()
	defer q.mu.Unlock()
	out := make([]IndexerStatus, len(q.members))
	for i, m := range q.members {
		ps := make([]string, len(m.holds))
		as := []string{}
		for j, p := range m.holds {
			ps[j] = p.String()
			if m.assigned[p] {
				as = append(as, p.String())
			}
		}
		state := "down"
		switch {
		case m.up:
			state = "up"
		case m.absent:
			state = "absent"
		}
		out[i] = IndexerStatus{URL: m.url, Up: m.up, State: state, Group: m.group, Partitions: ps, Assigned: as,
			GroupLag: m.lag, Error: m.err, Polled: q.polls[i]}
	}
	return out
}
