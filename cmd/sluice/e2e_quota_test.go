package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// TestE2EQuotaIngestPerTenant runs the binary with auth on and two tenants
// under the same ingest quota (16KiB/s, burst 16KiB, holds of 0.8s to
// 1.6s). acme floods from 6 connections at once: its requests are held and
// then admitted at its rate, or refused with 429 and Retry-After past
// ingest_max_hold, and what it gets admitted stays within burst plus rate.
// beta, sending within its own budget meanwhile, is answered 200 at once
// (faster than any hold), every one of its records is queryable, and
// /metrics counts acme's refusals, not beta's. Every record acknowledged
// to acme is stored, and none refused. With one bucket for every tenant,
// beta would queue behind acme's held requests and be refused.
func TestE2EQuotaIngestPerTenant(t *testing.T) {
	needBinary(t)
	t.Parallel()
	const (
		rate        = 16 << 10
		hold        = 800 * time.Millisecond
		maxHold     = 1600 * time.Millisecond
		floodFor    = 2 * time.Second
		floodConns  = 6
		aRecsPerReq = 20 // of ~400 bytes: an ~8KiB request, half a second of acme's rate
		bReqs       = 10
		bRecsPerReq = 10 // of ~100 bytes: 10KiB in all, within beta's burst
	)
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	key := map[string]string{}
	for _, tenant := range []string{"acme", "beta"} {
		key[tenant] = strings.TrimSpace(sluiceRun(t, nil, "keys", "create", "--keys-file", keys,
			"--name", tenant, "--tenant", tenant, "--role", "ingest,query"))
	}
	metricsAddr := freeAddr(t)
	s := startServer(t, t.TempDir(), fmt.Sprintf(`
auth: {enabled: true, keys_file: %q}
http: {metrics_addr: %q}
quotas:
  default: {ingest_bytes_per_second: %d, ingest_burst_bytes: %d}
  ingest_hold: %s
  ingest_max_hold: %s
forward: {enabled: false}
syslog: {enabled: false}
otlp: {enabled: false}
`, keys, metricsAddr, rate, rate, hold, maxHold))

	type answer struct {
		code       int
		retryAfter string
		body       string
		took       time.Duration
		ids        []string
		size       int
		err        error
	}
	send := func(tenant string, ids []string, pad int) answer {
		var body strings.Builder
		for _, id := range ids {
			fmt.Fprintf(&body, "{\"_msg\":\"quota %s %s\",\"pad\":%q}\n", tenant, id, strings.Repeat("x", pad))
		}
		a := answer{ids: ids, size: body.Len()}
		req, err := http.NewRequest(http.MethodPost, s.url+"/insert/jsonline", strings.NewReader(body.String()))
		if err != nil {
			a.err = err
			return a
		}
		req.Header.Set("Content-Type", "application/x-ndjson")
		req.Header.Set("Authorization", "Bearer "+key[tenant])
		start := time.Now()
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			a.err = err
			return a
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		a.code, a.retryAfter, a.body, a.took = resp.StatusCode, resp.Header.Get("Retry-After"), string(b), time.Since(start)
		return a
	}

	// acme floods: each connection sends its next request as soon as the
	// last is answered, ignoring Retry-After, until floodFor has passed.
	var (
		mu      sync.Mutex
		acme    []answer
		wg      sync.WaitGroup
		started = time.Now()
	)
	for c := range floodConns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := 0; time.Since(started) < floodFor; n++ {
				ids := make([]string, aRecsPerReq)
				for i := range ids {
					ids[i] = fmt.Sprintf("a-%d-%d-%d", c, n, i)
				}
				a := send("acme", ids, 360)
				mu.Lock()
				acme = append(acme, a)
				mu.Unlock()
				if a.err != nil {
					return
				}
			}
		}()
	}
	// beta sends once acme is in debt (its burst is taken by the first
	// requests at once), one request after another.
	time.Sleep(300 * time.Millisecond)
	var (
		betaIDs  []string
		betaSlow time.Duration
	)
	for n := range bReqs {
		ids := make([]string, bRecsPerReq)
		for i := range ids {
			ids[i] = fmt.Sprintf("b-%d-%d", n, i)
		}
		a := send("beta", ids, 60)
		if a.err != nil || a.code != 200 {
			t.Errorf("beta request %d during acme's flood: %d %v %.200s", n, a.code, a.err, a.body)
		} else if a.took >= hold*3/4 {
			// The shortest hold is 3/4 of ingest_hold: beta's requests
			// must not have waited for acme's debt.
			t.Errorf("beta request %d took %s, as long as a hold", n, a.took)
		}
		if a.code == 200 {
			betaIDs = append(betaIDs, ids...)
		}
		betaSlow = max(betaSlow, a.took)
	}
	wg.Wait()
	elapsed := time.Since(started)

	var acked []string
	admitted, admittedBytes, largest, refused, heldAdmitted := 0, 0, 0, 0, 0
	for _, a := range acme {
		switch {
		case a.err != nil:
			t.Fatalf("acme request: %v", a.err)
		case a.code == 200:
			acked = append(acked, a.ids...)
			admitted++
			admittedBytes += a.size
			largest = max(largest, a.size)
			if a.took >= 100*time.Millisecond {
				heldAdmitted++
			}
		case a.code == 429:
			refused++
			if n, err := strconv.Atoi(a.retryAfter); err != nil || n < 1 {
				t.Errorf("acme's 429 has Retry-After %q, want whole seconds >= 1", a.retryAfter)
			}
			if !strings.Contains(a.body, "over its ingest quota") {
				t.Errorf("acme's 429 does not name the quota: %.200s", a.body)
			}
			if a.took < hold*3/4 {
				t.Errorf("acme refused after %s, before the shortest hold", a.took)
			}
		default:
			t.Errorf("acme request: %d %.200s", a.code, a.body)
		}
	}
	t.Logf("acme: %d requests in %s, %d admitted (%d bytes, %d after a wait), %d refused; beta's slowest answer %s", len(acme),
		elapsed.Round(time.Millisecond), admitted, admittedBytes, heldAdmitted, refused, betaSlow.Round(time.Millisecond))
	// The bucket admits its burst at once, one request more into debt, and
	// then the rate (Gate charges each request its Content-Length).
	if limit := rate + rate*elapsed.Seconds() + float64(largest); float64(admittedBytes) > limit {
		t.Errorf("acme got %d bytes admitted in %s, over burst plus rate (%.0f)", admittedBytes, elapsed, limit)
	}
	// Past the burst (two requests, and a third into debt), requests were
	// held and then admitted in turn...
	if admitted <= rate/largest+1 || heldAdmitted == 0 {
		t.Errorf("acme: %d requests admitted, %d after a wait: none held then admitted", admitted, heldAdmitted)
	}
	// ...or refused past ingest_max_hold.
	if refused == 0 {
		t.Error("acme flooded from 6 connections and was never refused")
	}

	// Per-tenant metrics: acme's refusals, as many as it was answered 429;
	// none of beta's; each tenant's records counted as acknowledged.
	m := tenantMetrics(t, "http://"+metricsAddr+"/metrics")
	if got := m[`sluice_tenant_quota_rejected_total{quota="ingest_bytes",tenant="acme"}`]; got != float64(refused) {
		t.Errorf("acme's quota refusals in /metrics: %v, want %d", got, refused)
	}
	if got, ok := m[`sluice_tenant_quota_rejected_total{quota="ingest_bytes",tenant="beta"}`]; ok && got != 0 {
		t.Errorf("beta's quota refusals in /metrics: %v, want none", got)
	}
	for tenant, want := range map[string]int{"acme": len(acked), "beta": bReqs * bRecsPerReq} {
		if got := m[`sluice_tenant_ingest_records_total{tenant="`+tenant+`"}`]; got != float64(want) {
			t.Errorf("%s's records in /metrics: %v, want %d", tenant, got, want)
		}
	}

	// Nothing acknowledged is lost, nothing refused stored: each tenant's
	// records are exactly those it was answered 200 for.
	for tenant, want := range map[string][]string{"acme": acked, "beta": betaIDs} {
		env := []string{"SLUICE_API_KEY=" + key[tenant]}
		var got map[string]bool
		deadline := time.Now().Add(10 * time.Second)
		for {
			got = map[string]bool{}
			out := sluiceRun(t, env, "query", "quota", "--json", "--limit", "10000", "--server", s.url)
			for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
				var r struct {
					Msg    string `json:"_msg"`
					Tenant string `json:"_tenant"`
				}
				if err := json.Unmarshal([]byte(line), &r); err != nil {
					t.Fatalf("%s's query answered %q: %v", tenant, line, err)
				}
				if f := strings.Fields(r.Msg); len(f) == 3 {
					got[f[2]] = f[1] == tenant && r.Tenant == tenant
				}
			}
			if len(got) >= len(want) || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		for _, id := range want {
			if !got[id] {
				t.Errorf("%s: record %s acknowledged but not found", tenant, id)
			}
		}
		if len(got) != len(want) {
			t.Errorf("%s: %d records stored, %d acknowledged", tenant, len(got), len(want))
		}
	}
}

// tenantMetrics reads the sluice_tenant_ series of a /metrics page, by
// their name and labels as written there.
func tenantMetrics(t *testing.T, u string) map[string]float64 {
	t.Helper()
	resp, err := http.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	out := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		series, v, ok := strings.Cut(sc.Text(), " ")
		if !ok || !strings.HasPrefix(series, "sluice_tenant_") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		out[series] = f
	}
	return out
}
