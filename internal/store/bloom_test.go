package store

import (
	"strings"
	"testing"

	"github.com/cespare/xxhash/v2"
)

// TestTokenHashStable: tokenHash is the hash that parts already on disk
// keep in their bloom filters, xxhash64 of field, a zero byte and token
// fed to a streaming digest, for short keys and for keys longer than its
// stack buffer; and a block builder hashes tokens the same way.
func TestTokenHashStable(t *testing.T) {
	tests := []struct{ field, token string }{
		{"", ""},
		{"_msg", "timeout"},
		{"level", "error"},
		{"ab", "c"},
		{"a", "bc"},
		{"trace_id", strings.Repeat("f", 100)},
	}
	for _, tt := range tests {
		d := xxhash.New()
		_, _ = d.WriteString(tt.field)
		_, _ = d.Write([]byte{0})
		_, _ = d.WriteString(tt.token)
		if got, want := tokenHash(tt.field, tt.token), d.Sum64(); got != want {
			t.Errorf("tokenHash(%q, %q) = %x, want %x", tt.field, tt.token, got, want)
		}
		if tt.token == "" {
			continue
		}
		var b blockBuilder
		b.addTokens(tt.field, tt.token)
		if len(b.hashes) != 1 || b.hashes[0] != d.Sum64() {
			t.Errorf("builder's hashes of (%q, %q): %x, want [%x]", tt.field, tt.token, b.hashes, d.Sum64())
		}
	}
}
