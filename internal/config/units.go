package config

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// Duration is a time.Duration written as "1s", "500ms", "24h" or "7d" in YAML.
type Duration time.Duration

// ParseDuration accepts Go durations plus a "d" (day) suffix.
func ParseDuration(s string) (time.Duration, error) {
	s = strings.TrimSpace(s)
	if days, ok := strings.CutSuffix(s, "d"); ok {
		n, err := strconv.ParseFloat(days, 64)
		if err != nil {
			return 0, fmt.Errorf("invalid duration %q: want a number of days such as 30d", s)
		}
		return time.Duration(n * float64(24*time.Hour)), nil
	}
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, fmt.Errorf("invalid duration %q: want a number with a unit such as 500ms, 10s, 1h or 7d", s)
	}
	return d, nil
}

func (d Duration) String() string {
	td := time.Duration(d)
	if td != 0 && td%(24*time.Hour) == 0 {
		return strconv.FormatInt(int64(td/(24*time.Hour)), 10) + "d"
	}
	return td.String()
}

// MarshalYAML implements yaml.Marshaler.
func (d Duration) MarshalYAML() (any, error) { return d.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (d *Duration) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseDuration(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*d = Duration(v)
	return nil
}

// ByteSize is a size in bytes written as "512KiB", "64MiB", "1GiB" or a plain
// number in YAML.
type ByteSize int64

var byteUnits = []struct {
	suffix string
	mult   int64
}{
	{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10},
	{"TB", 1e12}, {"GB", 1e9}, {"MB", 1e6}, {"KB", 1e3}, {"B", 1},
}

// ParseByteSize parses "64MiB", "1GB", "4096".
func ParseByteSize(s string) (ByteSize, error) {
	s = strings.TrimSpace(s)
	for _, u := range byteUnits {
		if num, ok := strings.CutSuffix(s, u.suffix); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(num), 64)
			if err != nil || n < 0 {
				break
			}
			return ByteSize(n * float64(u.mult)), nil
		}
	}
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil || n < 0 {
		return 0, fmt.Errorf("invalid size %q: want a number of bytes or a size such as 512KiB, 64MiB or 1GiB", s)
	}
	return ByteSize(n), nil
}

func (b ByteSize) String() string {
	for _, u := range byteUnits[:4] {
		if b != 0 && int64(b)%u.mult == 0 {
			return strconv.FormatInt(int64(b)/u.mult, 10) + u.suffix
		}
	}
	return strconv.FormatInt(int64(b), 10)
}

// MarshalYAML implements yaml.Marshaler.
func (b ByteSize) MarshalYAML() (any, error) { return b.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (b *ByteSize) UnmarshalYAML(n *yaml.Node) error {
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w", n.Line, err)
	}
	*b = v
	return nil
}

// MemoryLimit is memory_limit: a size, 0 for no soft limit, or "auto"
// (AutoMemoryLimit), which the server resolves when it starts from the
// memory the process may use (see Config.ResolveMemoryLimit).
type MemoryLimit int64

// AutoMemoryLimit is memory_limit: auto.
const AutoMemoryLimit MemoryLimit = -1

func (m MemoryLimit) String() string {
	if m == AutoMemoryLimit {
		return "auto"
	}
	return ByteSize(m).String()
}

// MarshalYAML implements yaml.Marshaler.
func (m MemoryLimit) MarshalYAML() (any, error) { return m.String(), nil }

// UnmarshalYAML implements yaml.Unmarshaler.
func (m *MemoryLimit) UnmarshalYAML(n *yaml.Node) error {
	if strings.TrimSpace(n.Value) == "auto" {
		*m = AutoMemoryLimit
		return nil
	}
	v, err := ParseByteSize(n.Value)
	if err != nil {
		return fmt.Errorf("line %d: %w (or auto)", n.Line, err)
	}
	*m = MemoryLimit(v)
	return nil
}
