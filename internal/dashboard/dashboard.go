package dashboard

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Limits of one dashboard, so that a client cannot make the server keep
// or the UI draw without bound. Store.MaxPerTenant bounds their number.
const (
	MaxBytes     = 256 << 10 // one dashboard's JSON
	MaxPanels    = 50
	MaxNameLen   = 200  // bytes of a dashboard's name or a panel's title
	MaxQueryLen  = 8192 // bytes of a panel's query
	MaxIDLen     = 64
	DefaultLimit = 500 // dashboards per tenant (Store.MaxPerTenant)
)

// Charts a panel may ask for: a line per series, stacked bars per time
// bucket, bars per group, or the table alone.
var Charts = []string{"line", "stacked", "bar", "table"}

// Panel is one query of a dashboard drawn as a chart. Its time range is
// the dashboard's.
type Panel struct {
	Title string `json:"title"`
	Query string `json:"query"`
	Chart string `json:"chart"`
	// Width in twelfths of the grid's width; 0 is 6 (half).
	Width int `json:"width,omitempty"`
}

// Dashboard is a named grid of panels with a shared time range.
type Dashboard struct {
	ID   string `json:"id"`
	Name string `json:"name"`
	// From and To are time bounds as the query API reads them (now-1h, RFC 3339).
	From string `json:"from"`
	To   string `json:"to"`
	// Refresh is how often the UI runs the panels again, e.g. "30s"; "" is never.
	Refresh string  `json:"refresh,omitempty"`
	Panels  []Panel `json:"panels"`
	// Updated is set by the store on every write.
	Updated time.Time `json:"updated"`
}

// ErrInvalid wraps every reason Parse refuses a dashboard.
var ErrInvalid = errors.New("invalid dashboard")

func invalid(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrInvalid, fmt.Sprintf(format, args...))
}

// Parse reads a dashboard as a client sends it (an export file is one),
// refusing unknown members, and checks it. Missing from/to default to the
// last hour until now; a missing chart is "line".
func Parse(b []byte) (Dashboard, error) {
	var d Dashboard
	if len(b) > MaxBytes {
		return d, invalid("%d bytes, at most %d", len(b), MaxBytes)
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		return Dashboard{}, invalid("%v", err)
	}
	if dec.More() {
		return Dashboard{}, invalid("more than one JSON value")
	}
	if d.From == "" {
		d.From = "now-1h"
	}
	if d.To == "" {
		d.To = "now"
	}
	for i := range d.Panels {
		if d.Panels[i].Chart == "" {
			d.Panels[i].Chart = "line"
		}
	}
	return d, d.Check()
}

// Check reports the first thing wrong with d (its ID is checked by the
// store, which may assign one).
func (d Dashboard) Check() error {
	if strings.TrimSpace(d.Name) == "" {
		return invalid("a name is required")
	}
	if err := checkText("name", d.Name, MaxNameLen); err != nil {
		return err
	}
	if d.Refresh != "" {
		r, err := time.ParseDuration(d.Refresh)
		if err != nil || r < time.Second {
			return invalid("refresh %q: want a duration of at least 1s (30s, 5m) or none", d.Refresh)
		}
	}
	if len(d.Panels) > MaxPanels {
		return invalid("%d panels, at most %d", len(d.Panels), MaxPanels)
	}
	for i, p := range d.Panels {
		if strings.TrimSpace(p.Query) == "" {
			return invalid("panel %d: a query is required", i+1)
		}
		if err := checkText(fmt.Sprintf("panel %d: title", i+1), p.Title, MaxNameLen); err != nil {
			return err
		}
		if err := checkText(fmt.Sprintf("panel %d: query", i+1), p.Query, MaxQueryLen); err != nil {
			return err
		}
		if !validChart(p.Chart) {
			return invalid("panel %d: chart %q: want one of %s", i+1, p.Chart, strings.Join(Charts, ", "))
		}
		if p.Width < 0 || p.Width > 12 {
			return invalid("panel %d: width %d: want 1 to 12 (twelfths of the row), or 0 for 6", i+1, p.Width)
		}
	}
	return nil
}

func checkText(what, s string, max int) error {
	if len(s) > max {
		return invalid("%s: %d bytes, at most %d", what, len(s), max)
	}
	return nil
}

func validChart(c string) bool {
	for _, x := range Charts {
		if c == x {
			return true
		}
	}
	return false
}

// CheckID reports whether id may name a dashboard: it is a file name and
// part of a URL, so 1 to 64 of a-z, 0-9 and '-', starting with a letter
// or digit.
func CheckID(id string) error {
	if id == "" || len(id) > MaxIDLen {
		return invalid("id %q: want 1 to %d characters", short(id), MaxIDLen)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' && i > 0) {
			return invalid("id %q: want a-z, 0-9 and '-', starting with a letter or digit", short(id))
		}
	}
	return nil
}

func short(s string) string {
	if len(s) > MaxIDLen {
		return s[:MaxIDLen] + "…"
	}
	return s
}

// Slug makes an ID from a name: lower-case letters and digits, other runs
// of characters as one '-'; "dashboard" when nothing is left.
func Slug(name string) string {
	var b strings.Builder
	dash := false
	for _, r := range strings.ToLower(name) {
		if r >= 'a' && r <= 'z' || r >= '0' && r <= '9' {
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(r)
			if b.Len() >= MaxIDLen-8 { // room for a "-N" suffix
				break
			}
			continue
		}
		dash = true
	}
	if b.Len() == 0 {
		return "dashboard"
	}
	return b.String()
}
