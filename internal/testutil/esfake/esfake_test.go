package esfake

import "testing"

func TestGlobs(t *testing.T) {
	for _, tc := range []struct {
		a, b      string
		intersect bool
	}{
		{"sluice-logs-*", "logs-*-*", false},
		{"sluice-logs-acme", "sluice-logs-*", true},
		{"logs-*", "logs-*-*", true},
		{"logs-sluice-*", "logs-*-*", true},
		{"logs-x", "logs-*-*", false},
		{"*", "anything", true},
	} {
		if got := globsIntersect(tc.a, tc.b); got != tc.intersect {
			t.Errorf("globsIntersect(%q, %q) = %t", tc.a, tc.b, got)
		}
	}
	for _, tc := range []struct {
		pattern, name string
		match         bool
	}{
		{"logs-*-*", "logs-nginx-default", true},
		{"logs-*-*", "logs-nginx", false},
		{"sluice-logs-*", "sluice-logs-acme", true},
		{".ds-sluice-logs-acme-*", ".ds-sluice-logs-acme_eu-000001", false},
	} {
		if got := globMatch(tc.pattern, tc.name); got != tc.match {
			t.Errorf("globMatch(%q, %q) = %t", tc.pattern, tc.name, got)
		}
	}
}
