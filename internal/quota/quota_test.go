package quota

import (
	"bytes"
	"compress/gzip"
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
	// A request of known length is charged before it is read: of two
	// concurrent ones over the rest of the bucket, the second is refused
	// unread.
	q2 := New(fixed(map[string]Limits{"c": {IngestBytesPerSecond: 100, IngestBurstBytes: 100}}), nil)
	next2 := &sink{}
	var reads int
	h2 := q2.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, err := ingest.OpenBody(r, 1<<20)
		if err != nil {
			w.WriteHeader(ingest.RequestStatus(err))
			return
		}
		reads++
		body.Close()
		if err := (Sink{Next: next2, Quotas: q2}).Ingest(r.Context(), []record.Record{{Tenant: "c", Message: "x"}}); err != nil {
			w.WriteHeader(429)
		}
	}))
	for i, want := range []int{200, 429} {
		r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 150)))
		r = r.WithContext(tenant.With(r.Context(), "c"))
		w := httptest.NewRecorder()
		h2.ServeHTTP(w, r)
		if w.Code != want {
			t.Errorf("request %d: %d, want %d", i, w.Code, want)
		}
	}
	if reads != 1 || next2.n != 1 {
		t.Errorf("bodies read %d, batches stored %d; want 1 and 1", reads, next2.n)
	}
	if st := q2.Status(nil); st[0].IngestBytes != 150 || st[0].IngestRecords != 1 {
		t.Errorf("charged %+v, want the body's 150 bytes and 1 record", st[0])
	}

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

// TestGateHold: a request of a tenant over its quota is held (Hold) and
// admitted if its tenant's debt was paid meanwhile, else refused, the
// refusal counted once; past MaxHeld a request is not held; a compressed
// request is not charged by its length.
func TestGateHold(t *testing.T) {
	start := time.Now()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := ingest.OpenBody(r, 1<<20); err != nil {
			w.WriteHeader(ingest.RequestStatus(err))
		}
	})
	send := func(q *Quotas, hdr ...string) int {
		body := []byte(strings.Repeat("x", 150))
		if len(hdr) > 0 {
			var b bytes.Buffer
			zw := gzip.NewWriter(&b)
			_, _ = zw.Write(body)
			zw.Close()
			body = b.Bytes()
		}
		r := httptest.NewRequest("POST", "/", bytes.NewReader(body))
		for i := 0; i+1 < len(hdr); i += 2 {
			r.Header.Set(hdr[i], hdr[i+1])
		}
		r = r.WithContext(tenant.With(r.Context(), "c"))
		w := httptest.NewRecorder()
		q.Gate(ok).ServeHTTP(w, r)
		return w.Code
	}
	for _, tt := range []struct {
		name  string
		hold  time.Duration
		clock float64 // how much faster the quota's clock runs than time
		want  int
	}{
		{"not held", 0, 1, 429},
		{"held until the debt is paid", time.Millisecond, 1e4, 200},
		{"held, the debt still unpaid", time.Millisecond, 0, 429},
	} {
		q := New(fixed(map[string]Limits{"c": {IngestBytesPerSecond: 100, IngestBurstBytes: 100}}), nil)
		q.Hold, q.MaxHeld = tt.hold, 4
		q.now = func() time.Time { return start.Add(time.Duration(float64(time.Since(start)) * tt.clock)) }
		q.Charge("c", 1, 150) // 50 bytes in debt: half a second to pay
		if got := send(q); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
		refused := int64(0)
		if tt.want == 429 {
			refused = 1
		}
		if st := q.Status(nil); st[0].IngestRefused != refused {
			t.Errorf("%s: %d refusals counted, want %d", tt.name, st[0].IngestRefused, refused)
		}
	}

	q := New(fixed(map[string]Limits{"c": {IngestBytesPerSecond: 100, IngestBurstBytes: 100}}), nil)
	q.Hold, q.MaxHeld = time.Hour, 1
	q.mu.Lock()
	q.stateLocked("c").queue = []*heldRequest{{turn: make(chan struct{})}}
	q.mu.Unlock()
	if q.hold(context.Background(), "c", 0, nil) {
		t.Error("held past MaxHeld")
	}
	q.MaxHeld = 2
	ctx, cancel := context.WithCancel(context.Background())
	turn := make(chan bool, 1)
	go func() { turn <- q.hold(ctx, "c", 0, nil) }()
	waitHeld(t, q, "c", 2) // held below MaxHeld
	// Its client gone before its turn, it is refused.
	cancel()
	if <-turn {
		t.Error("a hold ended before its turn let the request through")
	}
	// A compressed request's length is not what its records weigh.
	q.mu.Lock()
	q.stateLocked("c").queue = nil // no request held ahead of it
	q.mu.Unlock()
	if got := send(q, "Content-Encoding", "gzip"); got != 200 {
		t.Errorf("a compressed request: %d, want 200", got)
	}
	if st := q.Status(nil); st[0].IngestBytes != 0 {
		t.Errorf("a compressed request charged %d bytes by its length", st[0].IngestBytes)
	}
}

// TestHoldQueue: when a tenant's debt is paid, only the first of its held
// requests is admitted; the others are refused as their own holds end,
// not all in the instant the debt was paid.
func TestHoldQueue(t *testing.T) {
	start := time.Now()
	q := New(fixed(map[string]Limits{"c": {IngestBytesPerSecond: 100, IngestBurstBytes: 100}}), nil)
	q.Hold, q.MaxHeld = 400*time.Millisecond, 10
	// Ten times faster than time: the first debt (50 bytes) is paid in
	// 50 ms, the next (a request's 1,000 bytes) in a second.
	q.now = func() time.Time { return start.Add(10 * time.Since(start)) }
	q.Charge("c", 1, 150)
	h := q.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := ingest.OpenBody(r, 1<<20); err != nil {
			w.WriteHeader(ingest.RequestStatus(err))
		}
	}))
	const n = 5
	codes := make(chan int, n)
	for range n {
		go func() {
			r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 1000)))
			r = r.WithContext(tenant.With(r.Context(), "c"))
			w := httptest.NewRecorder()
			h.ServeHTTP(w, r)
			codes <- w.Code
		}()
	}
	got := map[int]int{}
	for range n {
		got[<-codes]++
	}
	if got[200] != 1 || got[429] != n-1 {
		t.Errorf("answers %v, want one 200 and %d 429", got, n-1)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if st := q.stateLocked("c"); len(st.queue) != 0 {
		t.Errorf("%d held after every request was answered", len(st.queue))
	}
}

// TestAdaptiveHold: with MaxHold, a held request waits for its turn (the
// debt and the held requests before it paid at the rate) and is admitted
// then; one whose turn would come past MaxHold is held about MaxHold and
// refused with Retry-After the time its turn is expected.
func TestAdaptiveHold(t *testing.T) {
	// A request of 1,000 bytes is paid in 200 ms. The times are wide
	// enough that queueing the four requests (up to 200 ms on a loaded
	// machine) does not move the last one's turn within its hold.
	q := New(fixed(map[string]Limits{"c": {IngestBytesPerSecond: 5_000, IngestBurstBytes: 1000}}), nil)
	q.Hold, q.MaxHold, q.MaxHeld = 200*time.Millisecond, 800*time.Millisecond, 0
	q.Charge("c", 1, 3000) // 2,000 bytes in debt: 400 ms
	h := q.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, err := ingest.OpenBody(r, 1<<20); err != nil {
			w.WriteHeader(ingest.RequestStatus(err))
		}
	}))
	type answer struct {
		code       int
		retryAfter string
		took       time.Duration
	}
	// The requests' turns come at 400, 600, 800 and 1,000 ms: the first
	// three are held until then (within MaxHold of their arrival), the
	// last, whose turn is past MaxHold, is held 600 to 800 ms and refused.
	const n = 4
	answers := make([]chan answer, n)
	for i := range n {
		answers[i] = make(chan answer, 1)
		go func() {
			r := httptest.NewRequest("POST", "/", strings.NewReader(strings.Repeat("x", 1000)))
			r = r.WithContext(tenant.With(r.Context(), "c"))
			w := httptest.NewRecorder()
			t0 := time.Now()
			h.ServeHTTP(w, r)
			answers[i] <- answer{w.Code, w.Header().Get("Retry-After"), time.Since(t0)}
		}()
		// Queue them in order.
		for {
			q.mu.Lock()
			queued := len(q.stateLocked("c").queue)
			q.mu.Unlock()
			if queued == i+1 {
				break
			}
			time.Sleep(time.Millisecond)
		}
	}
	got := make([]answer, n)
	for i := range n {
		got[i] = <-answers[i]
	}
	if got[0].code != 200 || got[1].code != 200 || got[2].code+got[3].code < 200+429 {
		t.Errorf("answers %+v, want 200, 200 and at least one 429", got)
	}
	for _, a := range got[2:] {
		// Held 3/4 of MaxHold at least, not Hold.
		if a.code == 429 && (a.took < 600*time.Millisecond || a.retryAfter == "") {
			t.Errorf("a refusal after %s with Retry-After %q, want after 600ms at least, with one", a.took, a.retryAfter)
		}
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if st := q.stateLocked("c"); len(st.queue) != 0 {
		t.Errorf("%d held after every request was answered", len(st.queue))
	}
}

// TestUntil: the wait of a request behind the held ones counts the debt
// and the bytes of those expected to be admitted, not of the doomed ones.
func TestUntil(t *testing.T) {
	l := Limits{IngestBytesPerSecond: 100}
	for _, tt := range []struct {
		name   string
		tokens float64
		queue  []*heldRequest
		want   time.Duration
	}{
		{"tokens left, none held", 50, nil, 0},
		{"in debt", -50, nil, 500 * time.Millisecond},
		{"tokens cover the held", 300, []*heldRequest{{size: 200}}, 0},
		{"held before it", -50, []*heldRequest{{size: 100}, {size: 200, doomed: true}, {size: 0}}, 1500 * time.Millisecond},
	} {
		st := &state{tokens: tt.tokens, queue: tt.queue}
		if got := st.untilLocked(l); got != tt.want {
			t.Errorf("%s: %s, want %s", tt.name, got, tt.want)
		}
	}
	if got := (&state{tokens: -50}).untilLocked(Limits{}); got != 0 {
		t.Errorf("no quota: %s, want 0", got)
	}
}

// TestHeldAhead: a request arriving while another of its tenant is held
// queues behind it even when the debt is paid, rather than taking the
// bucket from it; with nothing held it is admitted at once.
func TestHeldAhead(t *testing.T) {
	for _, held := range []bool{false, true} {
		q := New(fixed(map[string]Limits{"c": {IngestBytesPerSecond: 100, IngestBurstBytes: 100}}), nil)
		q.Hold = time.Hour
		if held {
			q.mu.Lock()
			q.stateLocked("c").queue = []*heldRequest{{turn: make(chan struct{})}}
			q.mu.Unlock()
		}
		ctx, cancel := context.WithCancel(context.Background())
		code := make(chan int, 1)
		go func() {
			r := httptest.NewRequest("POST", "/", strings.NewReader("{}"))
			r = r.WithContext(tenant.With(ctx, "c"))
			w := httptest.NewRecorder()
			q.Gate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if _, err := ingest.OpenBody(r, 1<<20); err != nil {
					w.WriteHeader(ingest.RequestStatus(err))
				}
			})).ServeHTTP(w, r)
			code <- w.Code
		}()
		want := 200
		if held {
			want = 429
			waitHeld(t, q, "c", 2) // queued behind the held one
			cancel()               // gone before its turn: refused
		}
		if got := <-code; got != want {
			t.Errorf("held ahead %v: %d, want %d", held, got, want)
		}
		cancel()
	}
}

// waitHeld waits until n requests of tenant are held.
func waitHeld(t *testing.T, q *Quotas, tenant string, n int) {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(time.Millisecond) {
		q.mu.Lock()
		held := len(q.stateLocked(tenant).queue)
		q.mu.Unlock()
		if held == n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests of %s held after 10s, want %d", held, tenant, n)
		}
	}
}
