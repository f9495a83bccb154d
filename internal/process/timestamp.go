package process

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/sluice-log/sluice/internal/ingest"
	"github.com/sluice-log/sluice/internal/record"
)

func init() {
	Register(Spec{
		Name:    "timestamp",
		Summary: "Sets the record's time from a field, parsed with the first of a list of layouts that fits; the field is then removed. A value no layout fits is counted as an error and the record keeps its time (the time of arrival, or the agent's read time).",
		New: func() Builder {
			return &timestampConfig{Field: "time", Layouts: []string{"auto"}, Timezone: "UTC"}
		},
	})
}

type timestampConfig struct {
	Field     string   `yaml:"field" doc:"The field holding the time."`
	Layouts   []string `yaml:"layouts" doc:"Layouts to try in order: auto (RFC 3339, 2006-01-02 15:04:05[.frac], or a Unix time whose unit is told by its size), rfc3339, unix, unix_ms, unix_us, unix_ns, httpdate (Apache's 02/Jan/2006:15:04:05 -0700), syslog (Jan _2 15:04:05, in the year that puts it closest before now), or a Go layout (2006-01-02 15:04:05.000 MST)."`
	Timezone  string   `yaml:"timezone" doc:"IANA time zone of times whose layout has no offset (Europe/Berlin); UTC by default, Local for the machine's."`
	KeepField bool     `yaml:"keep_field" doc:"Keep the field after its time was taken."`
}

func (c *timestampConfig) Build(env Env) (Processor, error) {
	if err := checkReadable(c.Field); err != nil {
		return nil, fmt.Errorf("field: %w", err)
	}
	if len(c.Layouts) == 0 {
		return nil, fmt.Errorf("layouts: name at least one")
	}
	loc, err := time.LoadLocation(c.Timezone)
	if err != nil {
		return nil, fmt.Errorf("timezone: %w", err)
	}
	p := &timestampProc{field: c.Field, keep: c.KeepField, loc: loc, now: env.Now}
	for _, l := range c.Layouts {
		if l == "" {
			return nil, fmt.Errorf("layouts: empty layout")
		}
		p.layouts = append(p.layouts, l)
	}
	return p, nil
}

type timestampProc struct {
	field   string
	keep    bool
	loc     *time.Location
	now     func() time.Time
	layouts []string
}

func (p *timestampProc) Process(r *record.Record) Result {
	v, ok := r.Get(p.field)
	if !ok {
		return Keep
	}
	for _, l := range p.layouts {
		if ts, ok := p.parse(l, strings.TrimSpace(v)); ok {
			r.Time = ts
			if !p.keep {
				deleteField(r, p.field)
			}
			return Keep
		}
	}
	return Fail
}

// Layouts with a name of their own.
const (
	layoutHTTPDate = "02/Jan/2006:15:04:05 -0700"
	layoutSyslog   = "Jan _2 15:04:05"
)

func (p *timestampProc) parse(layout, v string) (int64, bool) {
	switch layout {
	case "auto":
		return ingest.ParseTime(v)
	case "unix", "unix_ms", "unix_us", "unix_ns":
		return parseUnixUnit(layout, v)
	case "rfc3339":
		layout = time.RFC3339Nano
	case "httpdate":
		layout = layoutHTTPDate
	case "syslog":
		t, err := time.ParseInLocation(layoutSyslog, v, p.loc)
		if err != nil {
			return 0, false
		}
		return withYear(t, p.now().In(p.loc)).UnixNano(), true
	}
	t, err := time.ParseInLocation(layout, v, p.loc)
	if err != nil {
		return 0, false
	}
	if t.Year() == 0 {
		t = withYear(t, p.now().In(p.loc))
	}
	return t.UnixNano(), true
}

// withYear puts a time read without a year into the year that makes it
// closest before now: a syslog line of Dec 31 read on Jan 1 is last
// year's. A day ahead of now is allowed for clocks that disagree.
func withYear(t, now time.Time) time.Time {
	y := t.AddDate(now.Year(), 0, 0)
	if y.After(now.Add(24 * time.Hour)) {
		y = y.AddDate(-1, 0, 0)
	}
	return y
}

func parseUnixUnit(layout, v string) (int64, bool) {
	unit := map[string]float64{"unix": 1e9, "unix_ms": 1e6, "unix_us": 1e3, "unix_ns": 1}[layout]
	if n, err := strconv.ParseInt(v, 10, 64); err == nil {
		if f := float64(n) * unit; f < -9.2e18 || f > 9.2e18 {
			return 0, false
		}
		return n * int64(unit), true
	}
	f, err := strconv.ParseFloat(v, 64)
	if err != nil || f*unit < -9.2e18 || f*unit > 9.2e18 || f != f {
		return 0, false
	}
	return int64(f * unit), true
}
