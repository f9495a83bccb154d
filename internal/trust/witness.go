package trust

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/twmb/franz-go/pkg/kgo"
)

// Witness keeps the latest head published by one node somewhere the
// node's data directory's writers cannot reach.
type Witness interface {
	// Put stores h as the latest head.
	Put(ctx context.Context, h Head) error
	// Get returns the latest head stored; ok is false if there is none.
	Get(ctx context.Context) (h Head, ok bool, err error)
	Close() error
}

// Env is what a witness kind may need besides its URL.
type Env struct {
	// KafkaOpts reach the brokers of kafka:// witnesses (kafka.brokers,
	// with their TLS and SASL settings).
	KafkaOpts []kgo.Opt
}

// Kind builds a witness from its URL.
type Kind func(u *url.URL, env Env) (Witness, error)

var (
	kindsMu sync.Mutex
	kinds   = map[string]Kind{}
)

// Register adds a witness kind for a URL scheme; call it from init.
func Register(scheme string, k Kind) {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	if _, dup := kinds[scheme]; dup {
		panic("trust: witness scheme " + scheme + " registered twice")
	}
	kinds[scheme] = k
}

// Schemes lists the registered witness URL schemes.
func Schemes() []string {
	kindsMu.Lock()
	defer kindsMu.Unlock()
	out := make([]string, 0, len(kinds))
	for s := range kinds {
		out = append(out, s)
	}
	sort.Strings(out)
	return out
}

// Open returns the witness of rawURL.
func Open(rawURL string, env Env) (Witness, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, fmt.Errorf("witness %q: %w", rawURL, err)
	}
	kindsMu.Lock()
	k := kinds[u.Scheme]
	kindsMu.Unlock()
	if k == nil {
		return nil, fmt.Errorf("witness %q: unknown scheme %q; want one of %s", rawURL, u.Scheme, strings.Join(Schemes(), ", "))
	}
	w, err := k(u, env)
	if err != nil {
		return nil, fmt.Errorf("witness %s: %w", Redact(rawURL), err)
	}
	return w, nil
}

// Redact returns rawURL without its user information, for logs.
func Redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

// Publisher pushes a node's head to its witness every interval when it
// changed, and once more when it stops, so that the witness never lags the
// data directory by more than an interval.
type Publisher struct {
	w        Witness
	url      string
	key      []byte
	head     func() Head
	interval time.Duration
	log      *slog.Logger

	mu     sync.Mutex
	pushed Head
	errMsg string
	errs   int64

	stop chan struct{}
	done chan struct{}
}

// PublisherStatus is what a Publisher reports.
type PublisherStatus struct {
	URL       string `json:"url"`
	PushedSeq uint64 `json:"pushed_seq"`
	Errors    int64  `json:"errors"`
	LastError string `json:"last_error,omitempty"`
}

// NewPublisher returns a publisher of head() to w, signing with key (an
// ed25519.PrivateKey, or nil), and starts it.
func NewPublisher(w Witness, rawURL string, key []byte, head func() Head, interval time.Duration, log *slog.Logger) *Publisher {
	p := &Publisher{w: w, url: Redact(rawURL), key: key, head: head, interval: interval, log: log,
		stop: make(chan struct{}), done: make(chan struct{})}
	go p.run()
	return p
}

func (p *Publisher) run() {
	defer close(p.done)
	t := time.NewTicker(p.interval)
	defer t.Stop()
	for {
		select {
		case <-p.stop:
			return
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), max(p.interval, 10*time.Second))
		_ = p.Push(ctx)
		cancel()
	}
}

// Push sends the current head unless the witness has it already.
func (p *Publisher) Push(ctx context.Context) error {
	h := p.head()
	p.mu.Lock()
	same := p.pushed.Seq == h.Seq && p.pushed.Hash == h.Hash && p.pushed.WALSeq == h.WALSeq && !p.pushed.Time.IsZero()
	p.mu.Unlock()
	if same {
		return nil
	}
	h.Time = time.Now().UTC()
	h.Sign(p.key)
	err := p.w.Put(ctx, h)
	p.mu.Lock()
	defer p.mu.Unlock()
	if err != nil {
		p.errs++
		if p.errMsg == "" {
			p.log.Error("witness push failed; will retry", "witness", p.url, "err", err)
		}
		p.errMsg = err.Error()
		return err
	}
	if p.errMsg != "" {
		p.log.Info("witness push succeeds again", "witness", p.url)
	}
	p.errMsg = ""
	p.pushed = h
	p.log.Debug("chain head pushed to witness", "witness", p.url, "seq", h.Seq, "hash", h.Hash, "wal_seq", h.WALSeq)
	return nil
}

// Status reports the last head pushed and the last error.
func (p *Publisher) Status() PublisherStatus {
	p.mu.Lock()
	defer p.mu.Unlock()
	return PublisherStatus{URL: p.url, PushedSeq: p.pushed.Seq, Errors: p.errs, LastError: p.errMsg}
}

// Close stops the loop, pushes the final head (the caller has closed the
// store) and closes the witness.
func (p *Publisher) Close(ctx context.Context) error {
	close(p.stop)
	<-p.done
	err := p.Push(ctx)
	return errors.Join(err, p.w.Close())
}
