package quota

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
	"github.com/sluice-log/sluice/internal/tenant"
)

func fixed(m map[string]Limits) func(string) Limits { return func(t string) Limits { return m[t] } }

func TestChargeTokenBucket(t *testing.T) {
	now := time.Unix(0, 0)
	q := New(fixed(map[string]Limits{"a": {IngestBytesPerSecond: 1000, IngestBurstBytes: 2000}}), prometheus.NewRegistry())
	q.now = func() time.Time { return now }
	steps := []struct {
		advance time.Duration
		tenant  string
		bytes   int64
		ok      bool
		wait    time.Duration
	}{
		{0, "a", 1500, true, 0},         // 2000 → 500
		{0, "a", 1500, true, 0},         // 500 → -1000: into debt, let through
		{0, "a", 1, false, time.Second}, // in debt by 1000 at 1000/s
		{500 * time.Millisecond, "a", 1, false, 500 * time.Millisecond},
		{500 * time.Millisecond, "a", 100, true, 0}, // back to 0
		{0, "b", 1 << 40, true, 0},                  // b has no quota
		{0, "b", 1 << 40, true, 0},
		{10 * time.Second, "a", 2000, true, 0}, // refilled to the burst, not beyond
		{0, "a", 1, true, 0},
		{0, "a", 1, false, 1 * time.Millisecond},
	}
	for i, s := range steps {
		now = now.Add(s.advance)
		_, wait, ok := q.Charge(s.tenant, 1, s.bytes)
		if ok != s.ok || wait != s.wait {
			t.Errorf("step %d: ok=%v wait=%v, want ok=%v wait=%v", i, ok, wait, s.ok, s.wait)
		}
	}
	if d, over := q.Over("a"); !over || d <= 0 {
		t.Errorf("Over(a) = %v, %v", d, over)
	}
	if _, over := q.Over("b"); over {
		t.Error("Over(b): b has no quota")
	}
	st := q.Status(func(t string) bool { return t == "a" })
	if len(st) != 1 || st[0].Tenant != "a" || st[0].IngestRefused != 4 || st[0].IngestBytesPerSecond != 1000 {
		t.Errorf("status %+v", st)
	}
}

func TestRefund(t *testing.T) {
	q := New(fixed(map[string]Limits{"a": {IngestBytesPerSecond: 1000, IngestBurstBytes: 1000}}), nil)
	now := time.Unix(0, 0)
	q.now = func() time.Time { return now }
	refund, _, ok := q.Charge("a", 1, 1500)
	if !ok {
		t.Fatal("first charge refused")
	}
	refund()
	if _, _, ok := q.Charge("a", 1, 10); !ok {
		t.Error("refunded bytes still counted")
	}
	if st := q.Status(nil); st[0].IngestBytes != 10 {
		t.Errorf("bytes %d, want 10", st[0].IngestBytes)
	}
}

func TestStartQuery(t *testing.T) {
	q := New(fixed(map[string]Limits{"a": {QueryMaxConcurrent: 2}}), nil)
	d1, ok1 := q.StartQuery("a")
	_, ok2 := q.StartQuery("a")
	_, ok3 := q.StartQuery("a")
	_, okb := q.StartQuery("b")
	if !ok1 || !ok2 || ok3 || !okb {
		t.Fatalf("slots %v %v %v b %v", ok1, ok2, ok3, okb)
	}
	d1()
	if _, ok := q.StartQuery("a"); !ok {
		t.Error("a freed slot was not given again")
	}
	for _, tt := range []struct{ own, server, want int64 }{{0, 0, 0}, {0, 5, 5}, {7, 0, 7}, {7, 5, 5}, {3, 5, 3}} {
		q := New(fixed(map[string]Limits{"a": {QueryMaxScanned: tt.own}}), nil)
		if got := q.MaxScanned("a", tt.server); got != tt.want {
			t.Errorf("MaxScanned(own %d, server %d) = %d, want %d", tt.own, tt.server, got, tt.want)
		}
	}
}

func TestLabelsBounded(t *testing.T) {
	q := New(fixed(nil), nil)
	for i := range maxLabels + 5 {
		q.Charge(strings.Repeat("x", i%50)+string(rune('a'+i%26))+time.Duration(i).String(), 1, 1)
	}
	labels := map[string]bool{}
	for _, st := range q.tenants {
		labels[st.label] = true
	}
	if len(labels) != maxLabels+1 || !labels[OtherLabel] {
		t.Errorf("%d labels (other: %v), want %d", len(labels), labels[OtherLabel], maxLabels+1)
	}
}

type sink struct{ n int }

func (s *sink) Ingest(context.Context, []record.Record) error { s.n++; return nil }

func TestSinkAndGate(t *testing.T) {
	q := New(fixed(map[string]Limits{"a": {IngestBytesPerSecond: 100, IngestBurstBytes: 100}}), nil)
	next := &sink{}
	s := Sink{Next: next, Quotas: q}
	big := []record.Record{{Tenant: "a", Message: strings.Repeat("m", 500)}}
	if err := s.Ingest(context.Background(), big); err != nil {
		t.Fatal(err)
	}
	err := s.Ingest(context.Background(), big)
	bp, ok := ingest.IsBackpressure(err)
	if !ok || bp.RetryAfter <= 0 || !strings.Contains(bp.Reason, `tenant "a"`) {
		t.Fatalf("second batch: %v", err)
	}
	if err := s.Ingest(context.Background(), []record.Record{{Tenant: "b", Message: "x"}}); err != nil {
		t.Errorf("tenant b refused for a's flood: %v", err)
	}
	if next.n != 2 {
		t.Errorf("next sink called %d times, want 2", next.n)
	}

	var opened error
	h := q.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, opened = ingest.OpenBody(r, 1<<20)
		if opened != nil {
			w.WriteHeader(ingest.RequestStatus(opened))
		}
	}))
	for _, tt := range []struct {
		tenant string
		code   int
	}{{"a", 429}, {"b", 200}} {
		r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
		r = r.WithContext(tenant.With(r.Context(), tt.tenant))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != tt.code {
			t.Errorf("gate %s: %d, want %d (%v)", tt.tenant, w.Code, tt.code, opened)
		}
		if tt.code == 429 && w.Header().Get("Retry-After") == "" {
			t.Errorf("gate %s: no Retry-After", tt.tenant)
		}
	}
}
