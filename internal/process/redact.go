package process

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "redact",
		Summary: "Replaces sensitive values before anything is stored: card numbers (13-19 digits, spaces or dashes allowed between them, a card's first digit 2-6, and a valid Luhn check digit, so that order numbers and millisecond timestamps stay), e-mail addresses, tokens (Bearer/Basic credentials, JWTs, AWS access key ids, GitHub, GitLab, Slack, Stripe and Google API keys), secrets (the value after password=, secret:, token=, api_key=, … in text or JSON) and regular expressions of your own. Each replacement is counted in sluice_processor_redactions_total.",
		New: func() Builder {
			return &redactConfig{
				Fields:      []string{record.MessageField},
				Patterns:    []string{"card_number", "email", "token", "secret"},
				Replacement: "[REDACTED:{pattern}]",
			}
		},
	})
}

type redactConfig struct {
	Fields      []string        `yaml:"fields" doc:"Fields to redact (_msg is the message; stream labels too)."`
	AllFields   bool            `yaml:"all_fields" doc:"Redact the message and every field (not the stream labels), whatever fields says."`
	Patterns    []string        `yaml:"patterns" doc:"Built-in patterns: card_number, email, token, secret."`
	Custom      []customPattern `yaml:"custom" doc:"Patterns of your own, each {name: NAME, regex: RE2}; the whole match is replaced."`
	Replacement string          `yaml:"replacement" doc:"What replaces a match; {pattern} is replaced by the pattern's name."`
}

type customPattern struct {
	Name  string `yaml:"name"`
	Regex string `yaml:"regex"`
}

// A finder returns the first match in s at or after i, or a < 0.
type finder func(s string, i int) (a, b int)

var builtinFinders = map[string]finder{
	"card_number": findCard,
	"email":       findEmail,
	"token":       findToken,
	"secret":      findSecret,
}

func (c *redactConfig) Build(env Env) (Processor, error) {
	if len(c.Patterns)+len(c.Custom) == 0 {
		return nil, fmt.Errorf("patterns or custom: name at least one")
	}
	if !c.AllFields && len(c.Fields) == 0 {
		return nil, fmt.Errorf("fields: name at least one, or set all_fields")
	}
	for _, f := range c.Fields {
		if err := checkWritable(f); err != nil {
			return nil, fmt.Errorf("fields: %w", err)
		}
	}
	p := &redactProc{fields: c.Fields, all: c.AllFields}
	add := func(name string, f finder) {
		p.patterns = append(p.patterns, redactPattern{
			find:        f,
			replacement: strings.ReplaceAll(c.Replacement, "{pattern}", name),
			counter:     env.Metrics.Redactions(env.Step, name),
		})
	}
	for _, name := range c.Patterns {
		f, ok := builtinFinders[name]
		if !ok {
			return nil, fmt.Errorf("patterns: unknown %q; built in: card_number, email, token, secret", name)
		}
		add(name, f)
	}
	for i, cp := range c.Custom {
		if cp.Name == "" || cp.Regex == "" {
			return nil, fmt.Errorf("custom[%d]: name and regex are required", i)
		}
		re, err := regexp.Compile(cp.Regex)
		if err != nil {
			return nil, fmt.Errorf("custom[%d] %s: %w", i, cp.Name, err)
		}
		add(cp.Name, regexFinder(re))
	}
	return p, nil
}

func regexFinder(re *regexp.Regexp) finder {
	return func(s string, i int) (int, int) {
		for i <= len(s) {
			loc := re.FindStringIndex(s[i:])
			if loc == nil {
				return -1, -1
			}
			if loc[1] > loc[0] {
				return i + loc[0], i + loc[1]
			}
			i += loc[0] + 1 // an empty match replaces nothing
		}
		return -1, -1
	}
}

type redactPattern struct {
	find        finder
	replacement string
	counter     prometheus.Counter
}

type redactProc struct {
	fields   []string
	all      bool
	patterns []redactPattern
}

func (p *redactProc) Process(r *record.Record) Result {
	if p.all {
		r.Message = p.redact(r.Message)
		for i := range r.Fields {
			r.Fields[i].Value = p.redact(r.Fields[i].Value)
		}
		return Keep
	}
	for _, name := range p.fields {
		if v, ok := r.Get(name); ok {
			if out := p.redact(v); out != v {
				setField(r, name, out)
			}
		}
	}
	return Keep
}

// redact applies every pattern to s; it allocates only when one matches.
func (p *redactProc) redact(s string) string {
	for i := range p.patterns {
		pat := &p.patterns[i]
		a, b := pat.find(s, 0)
		if a < 0 {
			continue
		}
		var out strings.Builder
		n, last := 0, 0
		for a >= 0 {
			out.WriteString(s[last:a])
			out.WriteString(pat.replacement)
			last = b
			n++
			a, b = pat.find(s, b)
		}
		out.WriteString(s[last:])
		s = out.String()
		if pat.counter != nil {
			pat.counter.Add(float64(n))
		}
	}
	return s
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func isAlnum(c byte) bool {
	return isDigit(c) || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// findCard finds 13-19 digits, single spaces or dashes allowed between
// them, standing alone (no letter or digit around them), whose first digit
// is a card's (2-6) and whose last digit is the Luhn check digit. Within a
// longer run of digit groups it tries the spans that start and end at the
// group boundaries, leftmost and longest first, so a card number between
// other numbers is still found.
func findCard(s string, i int) (int, int) {
	var digits [64]int // byte offsets of the run's digits
	var groups [64]int // indexes into digits where a group starts
	for i < len(s) {
		if !isDigit(s[i]) || i > 0 && isAlnum(s[i-1]) {
			i++
			continue
		}
		// Collect a run: digits, single separators between digits.
		nd, ng := 0, 0
		j := i
		for j < len(s) && nd < len(digits) {
			if isDigit(s[j]) {
				if nd == 0 || j > 0 && !isDigit(s[j-1]) {
					if ng < len(groups) {
						groups[ng] = nd
						ng++
					}
				}
				digits[nd] = j
				nd++
				j++
				continue
			}
			if (s[j] == ' ' || s[j] == '-') && j+1 < len(s) && isDigit(s[j+1]) && isDigit(s[j-1]) {
				j++
				continue
			}
			break
		}
		runEnd := j
		if runEnd < len(s) && isAlnum(s[runEnd]) {
			// Glued to a word: skip the whole run.
			for runEnd < len(s) && isAlnum(s[runEnd]) {
				runEnd++
			}
			i = runEnd
			continue
		}
		for g := 0; g < ng; g++ {
			start := groups[g]
			if c := s[digits[start]]; c < '2' || c > '6' {
				continue
			}
			// Ends: the run's end, then each group's end, longest first.
			for e := ng; e > g; e-- {
				end := nd
				if e < ng {
					end = groups[e]
				}
				if n := end - start; n >= 13 && n <= 19 && luhn(s, digits[start:end]) {
					return digits[start], digits[end-1] + 1
				}
			}
		}
		i = runEnd
	}
	return -1, -1
}

// luhn checks the Luhn check digit of the digits at the given offsets.
func luhn(s string, offsets []int) bool {
	sum := 0
	double := false
	for k := len(offsets) - 1; k >= 0; k-- {
		d := int(s[offsets[k]] - '0')
		if double {
			if d *= 2; d > 9 {
				d -= 9
			}
		}
		sum += d
		double = !double
	}
	return sum%10 == 0
}

func isEmailLocal(c byte) bool {
	return isAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-'
}

func isDomain(c byte) bool { return isAlnum(c) || c == '.' || c == '-' }

// findEmail finds local@domain.tld: a local part of letters, digits and
// ._%+-, a domain of labels with a top-level label of two letters or more.
func findEmail(s string, i int) (int, int) {
	for {
		at := strings.IndexByte(s[i:], '@')
		if at < 0 {
			return -1, -1
		}
		at += i
		a := at
		for a > 0 && isEmailLocal(s[a-1]) {
			a--
		}
		for a < at && s[a] == '.' {
			a++
		}
		b := at + 1
		for b < len(s) && isDomain(s[b]) {
			b++
		}
		for b > at+1 && (s[b-1] == '.' || s[b-1] == '-') {
			b--
		}
		if a < at && validDomain(s[at+1:b]) {
			return a, b
		}
		i = at + 1
	}
}

func validDomain(d string) bool {
	dot := strings.LastIndexByte(d, '.')
	if dot <= 0 || len(d)-dot-1 < 2 {
		return false
	}
	for k := dot + 1; k < len(d); k++ {
		if c := d[k] | 0x20; c < 'a' || c > 'z' {
			return false
		}
	}
	return true
}

// tokenPrefix is a credential format that starts with a fixed prefix
// followed by at least min characters of a set.
type tokenPrefix struct {
	prefix string
	min    int
	chars  func(byte) bool
}

func isB64URL(c byte) bool { return isAlnum(c) || c == '-' || c == '_' }

func isUpperDigit(c byte) bool { return isDigit(c) || c >= 'A' && c <= 'Z' }

func isTokenChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '_' || c == '.' || c == '~' || c == '+' || c == '/' || c == '='
}

var tokenPrefixes = []tokenPrefix{
	{"AKIA", 16, isUpperDigit}, // AWS access key ids
	{"ASIA", 16, isUpperDigit},
	{"ghp_", 36, isAlnum}, // GitHub
	{"gho_", 36, isAlnum},
	{"ghu_", 36, isAlnum},
	{"ghs_", 36, isAlnum},
	{"ghr_", 36, isAlnum},
	{"github_pat_", 22, isB64URL},
	{"glpat-", 20, isB64URL}, // GitLab
	{"xoxb-", 10, isB64URL},  // Slack
	{"xoxp-", 10, isB64URL},
	{"xoxa-", 10, isB64URL},
	{"xoxr-", 10, isB64URL},
	{"xoxs-", 10, isB64URL},
	{"sk_live_", 16, isAlnum}, // Stripe
	{"rk_live_", 16, isAlnum},
	{"sk_test_", 16, isAlnum},
	{"AIza", 35, isB64URL}, // Google API keys
	{"eyJ", 10, isB64URL},  // JWT: checked further in jwtEnd
}

// findToken finds Bearer/Basic credentials (the credential after the
// scheme), JWTs and the credential formats of tokenPrefixes, each standing
// alone (not glued to a longer word on its left).
func findToken(s string, i int) (int, int) {
	for ; i < len(s); i++ {
		if i > 0 && isB64URL(s[i-1]) {
			continue
		}
		c := s[i]
		if c == 'B' || c == 'b' {
			for _, scheme := range []string{"bearer ", "basic "} {
				if len(s)-i > len(scheme) && strings.EqualFold(s[i:i+len(scheme)], scheme) {
					a := i + len(scheme)
					for a < len(s) && s[a] == ' ' {
						a++
					}
					b := a
					for b < len(s) && isTokenChar(s[b]) {
						b++
					}
					if b-a >= 8 {
						return a, b
					}
				}
			}
		}
		for _, tp := range tokenPrefixes {
			if tp.prefix[0] != c || !strings.HasPrefix(s[i:], tp.prefix) {
				continue
			}
			b := i + len(tp.prefix)
			for b < len(s) && tp.chars(s[b]) {
				b++
			}
			if b-i-len(tp.prefix) < tp.min {
				continue
			}
			if tp.prefix == "eyJ" {
				if b = jwtEnd(s, b); b < 0 {
					continue
				}
			}
			return i, b
		}
	}
	return -1, -1
}

// jwtEnd finishes a JWT whose header ends at b: .payload.signature, each
// base64url; -1 if it is not one.
func jwtEnd(s string, b int) int {
	for part := 0; part < 2; part++ {
		if b >= len(s) || s[b] != '.' {
			return -1
		}
		b++
		start := b
		for b < len(s) && isB64URL(s[b]) {
			b++
		}
		if part == 0 && b == start {
			return -1
		}
	}
	return b
}

// secretKeys are names whose value is a secret in key=value text and JSON.
var secretKeys = []string{
	"password", "passwd", "pwd", "secret", "client_secret", "api_key", "apikey", "api-key",
	"access_token", "refresh_token", "token", "private_key", "secret_key", "access_key",
}

// findSecret finds the value after a secret's name: name=value,
// name: value, "name":"value" (the name in any case, possibly ending a
// longer name such as db_password). It looks only at each '=' and ':', so
// text without them costs one scan. The value runs to a space, quote,
// comma, semicolon, ampersand or closing bracket.
func findSecret(s string, i int) (int, int) {
	for i < len(s) {
		k := strings.IndexAny(s[i:], "=:")
		if k < 0 {
			return -1, -1
		}
		sep := i + k
		i = sep + 1
		end := sep
		for end > 0 && s[end-1] == ' ' {
			end--
		}
		if end > 0 && s[end-1] == '"' {
			end--
		}
		start := end
		for start > 0 && (isAlnum(s[start-1]) || s[start-1] == '_' || s[start-1] == '-') {
			start--
		}
		if !isSecretName(s[start:end]) {
			continue
		}
		j := sep + 1
		for j < len(s) && s[j] == ' ' {
			j++
		}
		if j < len(s) && (s[j] == '"' || s[j] == '\'') {
			j++
		}
		b := j
		for b < len(s) && !strings.ContainsRune(" \t\"',;&}]", rune(s[b])) {
			b++
		}
		if b > j {
			return j, b
		}
	}
	return -1, -1
}

func isSecretName(name string) bool {
	for _, k := range secretKeys {
		if len(name) >= len(k) && strings.EqualFold(name[len(name)-len(k):], k) {
			return true
		}
	}
	return false
}
