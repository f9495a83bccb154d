package querier

import (
	"context"
	"net"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/net/dns/dnsmessage"

	"github.com/sluice-log/sluice/internal/query"
)

// dnsServer answers A queries from a table of loopback addresses, NXDOMAIN for
// every other name: as the cluster DNS answers for a headless Service,
// which publishes a name for every pod that exists. It is a test server
// built on golang.org/x/net/dns/dnsmessage; the querier's lookups go
// through Go's own resolver to it.
type dnsServer struct {
	conn  net.PacketConn
	mu    sync.Mutex
	hosts map[string][4]byte // fully qualified name → its address
}

func startDNS(t *testing.T) *dnsServer {
	t.Helper()
	c, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &dnsServer{conn: c, hosts: map[string][4]byte{}}
	t.Cleanup(func() { c.Close() })
	go s.serve()
	return s
}

// set makes host resolve to 127.0.0.last, or not at all (last 0).
func (s *dnsServer) set(host string, last byte) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if last == 0 {
		delete(s.hosts, host+".")
	} else {
		s.hosts[host+"."] = [4]byte{127, 0, 0, last}
	}
}

func (s *dnsServer) serve() {
	buf := make([]byte, 1500)
	for {
		n, from, err := s.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		var p dnsmessage.Parser
		h, err := p.Start(buf[:n])
		if err != nil {
			continue
		}
		q, err := p.Question()
		if err != nil {
			continue
		}
		s.mu.Lock()
		addr, exists := s.hosts[q.Name.String()]
		s.mu.Unlock()
		rh := dnsmessage.Header{ID: h.ID, Response: true, Authoritative: true, RecursionDesired: h.RecursionDesired}
		if !exists {
			rh.RCode = dnsmessage.RCodeNameError
		}
		b := dnsmessage.NewBuilder(nil, rh)
		b.EnableCompression()
		_ = b.StartQuestions()
		_ = b.Question(q)
		_ = b.StartAnswers()
		if exists && q.Type == dnsmessage.TypeA {
			_ = b.AResource(dnsmessage.ResourceHeader{Name: q.Name, Class: dnsmessage.ClassINET, TTL: 0},
				dnsmessage.AResource{A: addr})
		}
		out, err := b.Finish()
		if err == nil {
			_, _ = s.conn.WriteTo(out, from)
		}
	}
}

func (s *dnsServer) resolver() *net.Resolver {
	return &net.Resolver{PreferGo: true, Dial: func(ctx context.Context, _, _ string) (net.Conn, error) {
		var d net.Dialer
		return d.DialContext(ctx, "udp", s.conn.LocalAddr().String())
	}}
}

// TestQuerierAbsentIndexer: of the indexer pods a Helm chart lists (up to
// the group's maximum size), one that does not exist has no DNS name
// (NXDOMAIN) and is absent: left out of plans, answers complete. One
// whose name resolves but that does not answer is down: named in a
// partial answer. One that was reached and whose name then vanishes (a
// pod deleted, being recreated) is down too, not absent.
func TestQuerierAbsentIndexer(t *testing.T) {
	dns := startDNS(t)
	recs := kafkaRecords(100)
	up := indexer(t, "A", recs) // on 127.0.0.1
	upURL, _ := url.Parse(up.URL)
	_, port, _ := net.SplitHostPort(upURL.Host)

	// ix-1's name resolves to an address nothing listens on.
	dns.set("ix-0.sluice.test", 1)
	dns.set("ix-1.sluice.test", 2)
	ix0 := "http://ix-0.sluice.test:" + port
	ix1 := "http://ix-1.sluice.test:" + port
	ix2 := "http://ix-2.sluice.test:" + port // no such pod yet
	q := New(Options{Indexers: []string{ix0, ix1, ix2}, Resolver: dns.resolver(), PollInterval: time.Second})
	ctx := context.Background()
	q.pollAll(ctx)

	states := func() string {
		var out []string
		for _, s := range q.Indexers() {
			out = append(out, strings.TrimPrefix(s.URL, "http://")[:4]+"="+s.State)
		}
		return strings.Join(out, " ")
	}
	count := func() (string, []string) {
		t.Helper()
		qq, _ := query.Parse("* | stats count() as n")
		var rows []string
		p, err := q.Query(ctx, qq, query.Options{Now: time.Now()}, func(r query.Row) error {
			rows = append(rows, string(r.AppendJSON(nil)))
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		var skipped []string
		if p != nil {
			for _, s := range p.Skipped {
				skipped = append(skipped, s.Name)
			}
		}
		return strings.Join(rows, ""), skipped
	}
	if got, want := states(), "ix-0=up ix-1=down ix-2=absent"; got != want {
		t.Fatalf("states %s, want %s", got, want)
	}
	if rows, skipped := count(); rows != `{"n":100}` || !slices.Equal(skipped, []string{ix1}) {
		t.Errorf("ix-1 down, ix-2 absent: %s, skipped %v; want 100 and ix-1 named alone", rows, skipped)
	}

	// ix-1 answers at its new address and ix-2's pod is created: all
	// three are members (the same store behind each: one group, whose
	// three members the querier asks whole).
	dns.set("ix-1.sluice.test", 1)
	dns.set("ix-2.sluice.test", 1)
	q.pollAll(ctx)
	if got, want := states(), "ix-0=up ix-1=up ix-2=up"; got != want {
		t.Fatalf("states %s, want %s", got, want)
	}
	// ix-2's name vanishes: it was reached, so it is down, not absent.
	// (Its pod's connections went with it.)
	dns.set("ix-2.sluice.test", 0)
	q.client.CloseIdleConnections()
	q.pollAll(ctx)
	if got, want := states(), "ix-0=up ix-1=up ix-2=down"; got != want {
		t.Fatalf("states %s, want %s", got, want)
	}
}
