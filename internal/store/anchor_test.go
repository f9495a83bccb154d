package store

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestParseAnchor(t *testing.T) {
	hash := strings.Repeat("ab", 32)
	for _, tc := range []struct {
		in   string
		want Anchor
		ok   bool
	}{
		{"7:" + hash, Anchor{Seq: 7, Hash: hash}, true},
		{"7:" + strings.ToUpper(hash), Anchor{Seq: 7, Hash: hash}, true},
		{"0:" + hash, Anchor{}, false},
		{"7", Anchor{}, false},
		{"x:" + hash, Anchor{}, false},
		{"7:" + hash[:62], Anchor{}, false},
		{"7:" + hash + "00", Anchor{}, false},
	} {
		got, err := ParseAnchor(tc.in)
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("ParseAnchor(%q) = %v, %v; want %v, ok %v", tc.in, got, err, tc.want, tc.ok)
		}
		if tc.ok && got.String() != tc.want.String() {
			t.Errorf("String() = %q", got.String())
		}
	}
}

// TestAuditAnchors checks that an anchor taken from one history is found
// in it, and reported when the history was cut back or replaced.
func TestAuditAnchors(t *testing.T) {
	fx := newCrashFixture(t)
	data, err := os.ReadFile(filepath.Join(fx.dir, manifestName))
	if err != nil {
		t.Fatal(err)
	}
	lines := parseManifest(data)
	r, err := Audit(fx.dir)
	if err != nil || len(r.Problems) != 0 || r.Head.Seq != uint64(len(lines)) || r.Records != int64(len(fx.all)) {
		t.Fatalf("Audit = %+v, %v; want head at entry %d, %d records, no problems", r, err, len(lines), len(fx.all))
	}
	mid := Anchor{Seq: 1, Hash: lines[0].entry.Hash}

	for _, tc := range []struct {
		name    string
		anchors []Anchor
		want    string // substring of the one problem; "" for none
	}{
		{"head", []Anchor{r.Head}, ""},
		{"earlier entry", []Anchor{mid}, ""},
		{"entry beyond the head", []Anchor{{Seq: 9, Hash: r.Head.Hash}}, "entry 9 (recorded as"},
		{"other history", []Anchor{{Seq: 1, Hash: strings.Repeat("0", 64)}}, "entry 1 has hash " + mid.Hash},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got, err := Audit(fx.dir, tc.anchors...)
			if err != nil {
				t.Fatal(err)
			}
			switch {
			case tc.want == "" && len(got.Problems) != 0:
				t.Fatalf("problems: %v", got.Problems)
			case tc.want != "" && (len(got.Problems) != 1 || got.Problems[0].Kind != ProblemAnchor || !strings.Contains(got.Problems[0].Detail, tc.want)):
				t.Fatalf("problems %v; want one anchor problem containing %q", got.Problems, tc.want)
			}
		})
	}
}
