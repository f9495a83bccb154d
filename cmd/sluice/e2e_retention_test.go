package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestE2ERetentionPerTenant gives one tenant a short retention through
// store.tenants and checks, through the real binary, that its old records
// are dropped while another tenant's records of the same days and the
// default tenant's stay; that `sluice verify` passes afterwards; and that
// the manifest's drop entry names the tenant. The records are stored while
// every tenant keeps 30 days, since the short retention also refuses such
// old records at ingest, as the second server checks.
func TestE2ERetentionPerTenant(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dataDir := t.TempDir()
	s := startServer(t, dataDir, "store:\n  flush_interval: 100ms\n  retention: 30d\n")

	now := time.Now().UTC()
	old := now.Add(-5 * 24 * time.Hour)
	const perDay = 20
	for _, tenant := range []string{"", "acme", "globex"} {
		var body strings.Builder
		for i := range perDay {
			for _, ts := range []time.Time{old, now} {
				fmt.Fprintf(&body, `{"_time":%q,"_msg":"retention line %d","service":"ret","tenant_name":%q}`+"\n",
					ts.Add(-time.Duration(i)*time.Second).Format(time.RFC3339Nano), i, tenant)
			}
		}
		var header []string
		if tenant != "" {
			header = []string{"X-Scope-OrgID", tenant}
		}
		if status, answer, _ := s.post("/insert/jsonline", "application/stream+json", []byte(body.String()), header...); status != 200 {
			t.Fatalf("tenant %q: ingest: %d %s", tenant, status, answer)
		}
	}
	s.stop()
	s = startServer(t, dataDir, "store:\n  flush_interval: 100ms\n  merge_interval: 200ms\n  retention: 30d\n  tenants:\n    acme: {retention: 2d}\n")
	refused := fmt.Sprintf(`{"_time":%q,"_msg":"refused","service":"ret"}`+"\n", old.Format(time.RFC3339Nano))
	if status, answer, _ := s.post("/insert/jsonline", "application/stream+json", []byte(refused), "X-Scope-OrgID", "acme"); status != 400 ||
		!strings.Contains(answer, "time older than the retention") || !strings.Contains(answer, "the retention, 2d") {
		t.Errorf("acme's record older than its retention: %d %s", status, answer)
	}
	if status, answer, _ := s.post("/insert/jsonline", "application/stream+json", []byte(strings.ReplaceAll(refused, `"refused"`, `"kept"`))); status != 200 {
		t.Errorf("the default tenant's record of the same day: %d %s", status, answer)
	}

	count := func(tenant string) int {
		rows := s.queryRows("service:ret | stats count() as n", "--tenant", tenant)
		if len(rows) != 1 {
			t.Fatalf("tenant %q: want one row, got %v", tenant, rows)
		}
		n, _ := rows[0]["n"].(float64)
		return int(n)
	}
	// The retention loop runs after each merge round, once the old records
	// are flushed into their partition.
	deadline := time.Now().Add(15 * time.Second)
	for count("acme") != perDay {
		if time.Now().After(deadline) {
			t.Fatalf("acme still has %d records, want its %d recent ones", count("acme"), perDay)
		}
		time.Sleep(100 * time.Millisecond)
	}
	if got := count(""); got != 2*perDay+1 {
		t.Errorf("default tenant: %d records, want all %d", got, 2*perDay+1)
	}
	for _, tenant := range []string{"globex"} {
		if got := count(tenant); got != 2*perDay {
			t.Errorf("tenant %q: %d records, want all %d", tenant, got, 2*perDay)
		}
	}
	recent := s.queryRows("service:ret", "--tenant", "acme")
	for _, r := range recent {
		if ts, _ := time.Parse(time.RFC3339Nano, fmt.Sprint(r["_time"])); ts.Before(now.Add(-time.Hour)) {
			t.Errorf("acme record from %v survived its retention: %v", ts, r)
		}
	}
	s.stop()

	if out, err := sluiceVerify(t, dataDir); err != nil {
		t.Fatalf("verify after retention: %v\n%s", err, out)
	}
	drops := manifestDrops(t, dataDir)
	if len(drops) != 1 || !strings.Contains(drops[0].Reason, `retention: tenant "acme" partitions ending before`) {
		t.Fatalf("manifest drop entries %+v, want one naming tenant \"acme\"", drops)
	}
	for _, ref := range drops[0].Removed {
		if ref.Partition != old.Format("20060102")+".t61636d65" {
			t.Errorf("drop entry removes part %s/%s, not of acme's old day", ref.Partition, ref.Name)
		}
	}
}

// manifestDrop is what the test reads of a manifest 'drop' entry.
type manifestDrop struct {
	Reason  string `json:"reason"`
	Removed []struct {
		Partition string `json:"partition"`
		Name      string `json:"name"`
	} `json:"removed"`
}

func manifestDrops(t *testing.T, dataDir string) []manifestDrop {
	t.Helper()
	f, err := os.Open(filepath.Join(dataDir, "store", "manifest.log"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var drops []manifestDrop
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 1<<24)
	for sc.Scan() {
		var e struct {
			Op string `json:"op"`
			manifestDrop
		}
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
			t.Fatalf("manifest line %q: %v", sc.Text(), err)
		}
		if e.Op == "drop" {
			drops = append(drops, e.manifestDrop)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	return drops
}
