package store

import (
	"encoding/hex"
	"strings"
	"testing"
)

func TestPartitionNames(t *testing.T) {
	day := testBase + 5*3600*1e9 // 2026-01-01T05:00:00Z
	long := strings.Repeat("é", maxHexTenant)
	for _, tc := range []struct {
		tenant string
		want   string
		label  string
	}{
		{"", "20260101", `tenant ""`},
		{"acme", "20260101.t61636d65", `tenant "acme"`},
		{"../x", "20260101.t2e2e2f78", `tenant "../x"`},
		{strings.Repeat("a", maxHexTenant), "20260101.t" + strings.Repeat("61", maxHexTenant), `tenant "` + strings.Repeat("a", maxHexTenant) + `"`},
		{long, "20260101.h" + tenantSuffix(long)[2:], "tenant with sha256 prefix " + tenantSuffix(long)[2:]},
	} {
		got := partitionOf(tc.tenant, day)
		if got != tc.want {
			t.Errorf("partitionOf(%q) = %q, want %q", tc.tenant, got, tc.want)
		}
		if start, end, ok := partitionBounds(got); !ok || start != testBase || end != testBase+nsPerDay {
			t.Errorf("partitionBounds(%q) = %d, %d, %v", got, start, end, ok)
		}
		if l := tenantLabel(partitionSuffix(got)); l != tc.label {
			t.Errorf("tenantLabel of %q = %q, want %q", got, l, tc.label)
		}
	}
	for _, bad := range []string{"2026010", "20260101.", "20260101.t", "20260101.t6", "20260101.tZZ", "20260101.h00", "20260101/x", "20260101.t61/..", "../20260101"} {
		if _, _, ok := partitionBounds(bad); ok || partitionRe.MatchString(bad) {
			t.Errorf("partition name %q accepted", bad)
		}
	}
}

// FuzzPartitionName checks that any tenant gets a valid partition name of
// the right day that tells it apart from other tenants.
func FuzzPartitionName(f *testing.F) {
	f.Add("", int64(0))
	f.Add("acme", testBase)
	f.Add(strings.Repeat("z", 100), int64(-1))
	f.Fuzz(func(t *testing.T, tenant string, ts int64) {
		ts %= 100 * 365 * nsPerDay // years 1870..2070 keep 8-digit days
		p := partitionOf(tenant, ts)
		start, end, ok := partitionBounds(p)
		if !ok || ts < start || ts >= end {
			t.Fatalf("partitionOf(%q, %d) = %q: bounds %d, %d, %v", tenant, ts, p, start, end, ok)
		}
		if len(p) > 8+2+2*maxHexTenant {
			t.Fatalf("partition name %q too long", p)
		}
		suffix := partitionSuffix(p)
		if suffix != tenantSuffix(tenant) {
			t.Fatalf("suffix %q, want %q", suffix, tenantSuffix(tenant))
		}
		if rest, ok := strings.CutPrefix(suffix, ".t"); ok {
			if b, err := hex.DecodeString(rest); err != nil || string(b) != tenant {
				t.Fatalf("suffix %q does not decode to %q", suffix, tenant)
			}
		} else if (suffix == "") != (tenant == "") {
			t.Fatalf("tenant %q has suffix %q", tenant, suffix)
		}
	})
}
