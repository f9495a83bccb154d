package process

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/sluice-log/sluice/internal/record"
)

func TestRedactPatterns(t *testing.T) {
	p := build(t, "- {type: redact, replacement: '<{pattern}>'}")
	for _, tc := range []struct{ in, want string }{
		// Cards: Visa, Mastercard with spaces, Amex with dashes.
		{"paid with 4111111111111111 ok", "paid with <card_number> ok"},
		{"card 5555 5555 5555 4444, exp 12/29", "card <card_number>, exp 12/29"},
		{"amex 3782-822463-10005.", "amex <card_number>."},
		// A card between other numbers, separated by spaces.
		{"ids 12 4111 1111 1111 1111 2024", "ids 12 <card_number> 2024"},
		// Luhn fails, a millisecond timestamp (first digit 1), glued to
		// a word, too long: untouched.
		{"order 4111111111111112", "order 4111111111111112"},
		{"ts=1767225600123 n=1767225600123456", "ts=1767225600123 n=1767225600123456"},
		{"ref X4111111111111111 4111111111111111Y", "ref X4111111111111111 4111111111111111Y"},
		{"4111111111111111111111", "4111111111111111111111"},
		// E-mail.
		{"from alice.o'neil@example.co.uk to bob+tag@mail.example.org.", "from alice.o'<email> to <email>."},
		{"user@localhost and a@b.c and @handle", "user@localhost and a@b.c and @handle"},
		// Tokens.
		{"Authorization: Bearer abc.DEF-123_xyz~", "Authorization: Bearer <token>"},
		{"auth basic dXNlcjpwYXNzd29yZA==", "auth basic <token>"},
		{"jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U end", "jwt <token> end"},
		{"key AKIAIOSFODNN7EXAMPLE and ghp_" + strings.Repeat("a1B2", 9), "key <token> and <token>"},
		{"xoxb-12345-67890-abcdefghij sk_live_0123456789abcdefXYZ AIza" + strings.Repeat("x", 35), "<token> <token> <token>"},
		{"eyJnotajwt and AKIA_short and myAKIAIOSFODNN7EXAMPLE", "eyJnotajwt and AKIA_short and myAKIAIOSFODNN7EXAMPLE"},
		// Secrets.
		{"login password=hunter2 user=bob", "login password=<secret> user=bob"},
		{`{"db_password":"s3cr3t","api_key": "k-1","user":"x"}`, `{"db_password":"<secret>","api_key": "<secret>","user":"x"}`},
		{"url?token=abc&x=1; SECRET: topsecret", "url?token=<secret>&x=1; SECRET: <secret>"},
		{"time 12:30:45 host=a:b", "time 12:30:45 host=a:b"},
	} {
		r := rec(tc.in)
		out := p.Process([]record.Record{r})
		if got := out[0].Message; got != tc.want {
			t.Errorf("redact(%q)\n got %q\nwant %q", tc.in, got, tc.want)
		}
	}
}

func TestRedactFieldsAndCounts(t *testing.T) {
	reg := prometheus.NewRegistry()
	m := NewMetrics(reg)
	var c Config
	p, err := Config{}.Build(Options{Metrics: m})
	if err != nil || p.Len() != 0 {
		t.Fatal(err)
	}
	c = mustParse(t, `
processors:
  - type: redact
    name: pii
    fields: [user, _msg]
    patterns: [email]
    custom: [{name: ssn, regex: '\b\d{3}-\d{2}-\d{4}\b'}]
  - type: redact
    name: everything
    all_fields: true
    patterns: [card_number]
`)
	p, err = c.Build(Options{Metrics: m})
	if err != nil {
		t.Fatal(err)
	}
	out := p.Process([]record.Record{rec("a@example.com 123-45-6789 and c@example.com", "user", "b@example.com", "other", "d@example.com", "card", "4111111111111111")})
	want := "[REDACTED:email] [REDACTED:ssn] and [REDACTED:email] | user=[REDACTED:email] other=d@example.com card=[REDACTED:card_number]"
	if got := fields(out[0]); got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
	for _, tc := range []struct {
		step, pattern string
		n             float64
	}{{"pii", "email", 3}, {"pii", "ssn", 1}, {"everything", "card_number", 1}} {
		if got := testutil.ToFloat64(m.redactions.WithLabelValues(tc.step, tc.pattern)); got != tc.n {
			t.Errorf("redactions %s/%s = %v, want %v", tc.step, tc.pattern, got, tc.n)
		}
	}
	for _, bad := range []string{
		"- {type: redact, patterns: [phone]}",
		"- {type: redact, patterns: [], custom: []}",
		"- {type: redact, fields: []}",
		"- {type: redact, custom: [{name: x, regex: '('}]}",
	} {
		if _, err := buildErr(bad); err == nil {
			t.Errorf("%s: built", bad)
		}
	}
}

func mustParse(t *testing.T, s string) Config {
	t.Helper()
	c, err := ParseConfig(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// FuzzRedact: the finders never panic, their spans are in order and in
// bounds, and after redaction no card number or e-mail address is left.
func FuzzRedact(f *testing.F) {
	p := build(f, "- {type: redact, all_fields: true, replacement: '#'}")
	for _, s := range []string{"4111 1111 1111 1111", "a@b.cd", "Bearer xxxxxxxxxx", "eyJa.eyJb.c", "password=1", "x=y:z", "@", "5555-5555-5555-4444-"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		for name, find := range builtinFinders {
			prev := 0
			for a, b := find(s, 0); a >= 0; a, b = find(s, b) {
				if a < prev || b <= a || b > len(s) {
					t.Fatalf("%s on %q: span [%d,%d) after %d", name, s, a, b, prev)
				}
				prev = b
			}
		}
		out := p.Process([]record.Record{rec(s)})
		m := out[0].Message
		for _, name := range []string{"card_number", "email"} {
			if a, b := builtinFinders[name](m, 0); a >= 0 {
				t.Fatalf("%s %q left in %q (from %q)", name, m[a:b], m, s)
			}
		}
	})
}
