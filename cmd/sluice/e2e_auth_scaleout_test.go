package main

import (
	"encoding/json"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2EAuthScaleOut: isolation through the scale-out path with auth on
// in every role: a gateway signing each message's tenant into Kafka, a
// store indexer checking the signature, and a querier over it reading the
// indexer's status with its own admin key (querier.api_key_file) and
// passing each caller's key on. Each tenant's key sees exactly its own
// records through the querier; the other tenant's key, no key, a forged
// header and an ingest key are refused by the querier, and by the indexer
// asked directly, and the refusals of both are in the audit trail (the
// querier's produced through Kafka).
func TestE2EAuthScaleOut(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	mk := func(name, tenants, roles string) string {
		return strings.TrimSpace(sluiceRun(t, nil, "keys", "create", "--keys-file", keys, "--name", name, "--tenant", tenants, "--role", roles))
	}
	ship := map[string]string{"acme": mk("acme-ship", "acme", "ingest"), "beta": mk("beta-ship", "beta", "ingest")}
	read := map[string]string{"acme": mk("acme-read", "acme", "query"), "beta": mk("beta-read", "beta", "query")}
	querierKey := filepath.Join(dir, "querier-key")
	ops := mk("querier", "*", "query,admin")
	if err := os.WriteFile(querierKey, []byte(ops+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, brokers := startKafka(t)
	secure := fmt.Sprintf("auth: {enabled: true, keys_file: %q}\n", keys)
	signed := secure + "kafka: {tenant_signing_key: e2e-tenant-signing-key-0123456789}\n"
	gw := startKafkaGateway(t, brokers, signed)
	ix := startKafkaIndexer(t, t.TempDir(), brokers, signed)
	// The querier produces its audit events to Kafka (kafka.brokers), where
	// the indexer stores them in the audit tenant.
	qr := startServer(t, t.TempDir(), signed+fmt.Sprintf("querier: {poll_interval: 300ms, api_key_file: %q}\n", querierKey),
		"--role", "querier", "--indexers", ix.url, "--kafka-brokers", brokers, "--kafka-topic", "logs")

	const n = 20
	for tenant, key := range ship {
		var body strings.Builder
		for i := range n {
			fmt.Fprintf(&body, `{"_msg":"scale-out %s %d"}`+"\n", tenant, i)
		}
		if code, ans, _ := gw.post("/insert/jsonline", "application/x-ndjson", []byte(body.String()), "Authorization", "Bearer "+key); code != 200 {
			t.Fatalf("gateway, %s: %d %s", tenant, code, ans)
		}
	}
	for tenant, key := range read {
		other := map[string]string{"acme": "beta", "beta": "acme"}[tenant]
		var rows []string
		for deadline := time.Now().Add(20 * time.Second); ; {
			code, body := authReq(t, "POST", qr.url+"/api/v1/query", key, "", "query=*&limit=1000")
			rows = strings.Split(strings.TrimSpace(body), "\n")
			if code == 200 && len(rows) >= n || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		if len(rows) != n {
			t.Errorf("%s through the querier: %d records, want %d: %.300s", tenant, len(rows), n, strings.Join(rows, "\n"))
		}
		for _, r := range rows {
			if !strings.Contains(r, `"_tenant":"`+tenant+`"`) || strings.Contains(r, other) {
				t.Errorf("%s sees a record not its own: %s", tenant, r)
			}
		}
	}
	refused := 0
	for _, s := range []*server{qr, ix} {
		for _, a := range []struct {
			name, key, tenant string
			code              int
		}{
			{"other tenant's key", read["beta"], "acme", 403},
			{"no key", "", "acme", 401},
			{"forged header", read["acme"], "beta", 403},
			{"ingest key", ship["acme"], "", 403},
		} {
			for _, path := range []string{"/api/v1/query", "/api/v1/field_names"} {
				code, body := authReq(t, "POST", s.url+path, a.key, a.tenant, "query=*")
				if code != a.code || strings.Contains(body, "scale-out") {
					t.Errorf("%s %s, %s: %d, want %d: %.200s", s.url, path, a.name, code, a.code, body)
				}
				refused++
			}
		}
	}
	// One refusal only the querier sees, on a route asked of it alone.
	if code, _ := authReq(t, "POST", qr.url+"/api/v1/hits", "", "acme", "query=*"); code != 401 {
		t.Errorf("querier /api/v1/hits without a key: %d, want 401", code)
	}
	refused++
	// The refusals of both, the querier's through Kafka, are in the audit
	// trail on the indexer, read through the querier.
	for deadline := time.Now().Add(15 * time.Second); ; {
		_, body := authReq(t, "POST", qr.url+"/api/v1/query", ops, "_audit", "query="+url.QueryEscape("action:refused | stats count() as n"))
		_, hits := authReq(t, "POST", qr.url+"/api/v1/query", ops, "_audit", "query="+url.QueryEscape(`action:refused AND path:"/api/v1/hits"`))
		var row struct{ N int }
		_ = json.Unmarshal([]byte(body), &row)
		if row.N >= refused && strings.Contains(hits, `"status":"401"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit trail: %s and %s, want at least %d refusals, the querier's /api/v1/hits among them", body, hits, refused)
		}
		time.Sleep(300 * time.Millisecond)
	}
}
