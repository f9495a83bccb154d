package alert

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"regexp"
	"time"
)

// Silence mutes the firing alerts of a tenant whose labels its matchers
// all match, from StartsAt until EndsAt.
type Silence struct {
	ID        string    `json:"id"`
	Tenant    string    `json:"tenant"`
	Matchers  []Matcher `json:"matchers"`
	StartsAt  time.Time `json:"startsAt"`
	EndsAt    time.Time `json:"endsAt"`
	CreatedBy string    `json:"createdBy"`
	Comment   string    `json:"comment"`
}

// Matcher is one label condition, as Alertmanager's silences have them.
type Matcher struct {
	Name    string `json:"name"`
	Value   string `json:"value"`
	IsRegex bool   `json:"isRegex"`
	IsEqual *bool  `json:"isEqual,omitempty"` // default true
	re      *regexp.Regexp
}

// validate checks s and compiles its regular expressions.
func (s *Silence) validate(now time.Time) error {
	if len(s.Matchers) == 0 {
		return fmt.Errorf("a silence needs at least one matcher")
	}
	for i := range s.Matchers {
		m := &s.Matchers[i]
		if m.Name == "" {
			return fmt.Errorf("matcher %d has no name", i)
		}
		if m.IsRegex {
			re, err := regexp.Compile("^(?:" + m.Value + ")$")
			if err != nil {
				return fmt.Errorf("matcher %s: %w", m.Name, err)
			}
			m.re = re
		}
	}
	if s.StartsAt.IsZero() {
		s.StartsAt = now
	}
	if s.EndsAt.IsZero() || !s.EndsAt.After(s.StartsAt) {
		return fmt.Errorf("endsAt must be after startsAt")
	}
	return nil
}

// Active reports whether s mutes at now.
func (s *Silence) Active(now time.Time) bool { return !now.Before(s.StartsAt) && now.Before(s.EndsAt) }

// Matches reports whether s mutes an alert of tenant with labels.
func (s *Silence) Matches(tenant string, labels map[string]string) bool {
	if s.Tenant != tenant {
		return false
	}
	for i := range s.Matchers {
		m := &s.Matchers[i]
		v := labels[m.Name]
		ok := v == m.Value
		if m.IsRegex {
			if m.re == nil {
				m.re = regexp.MustCompile("^(?:" + m.Value + ")$") // validated when created
			}
			ok = m.re.MatchString(v)
		}
		if m.IsEqual != nil && !*m.IsEqual {
			ok = !ok
		}
		if !ok {
			return false
		}
	}
	return true
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
