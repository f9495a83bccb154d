package kafka

import (
	"errors"
	"fmt"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

var errStream = errors.New("bad _stream")

// parseStream parses record.StreamString's rendering, {name="value",…},
// back into labels. Values escape ", \ and newline with a backslash.
func parseStream(s string) ([]record.Field, error) {
	if len(s) < 2 || s[0] != '{' || s[len(s)-1] != '}' {
		return nil, fmt.Errorf("%w: %q is not {name=\"value\",…}", errStream, limit(s))
	}
	s = s[1 : len(s)-1]
	var labels []record.Field
	for len(s) > 0 {
		eq := strings.Index(s, `="`)
		if eq <= 0 {
			return nil, fmt.Errorf("%w: label without name=\"value\" at %q", errStream, limit(s))
		}
		name := s[:eq]
		s = s[eq+2:]
		var b strings.Builder
		closed := false
		i := 0
		for ; i < len(s); i++ {
			c := s[i]
			if c == '\\' && i+1 < len(s) {
				i++
				switch s[i] {
				case 'n':
					b.WriteByte('\n')
				case '"', '\\':
					b.WriteByte(s[i])
				default:
					return nil, fmt.Errorf("%w: unknown escape \\%c in label %q", errStream, s[i], limit(name))
				}
				continue
			}
			if c == '"' {
				closed = true
				break
			}
			b.WriteByte(c)
		}
		if !closed {
			return nil, fmt.Errorf("%w: unterminated value of label %q", errStream, limit(name))
		}
		labels = append(labels, record.Field{Name: name, Value: b.String()})
		s = s[i+1:]
		if len(s) > 0 {
			if s[0] != ',' {
				return nil, fmt.Errorf("%w: expected ',' after label %q", errStream, limit(name))
			}
			s = s[1:]
			if len(s) == 0 {
				return nil, fmt.Errorf("%w: trailing ','", errStream)
			}
		}
	}
	return labels, nil
}

func limit(s string) string {
	if len(s) > 64 {
		return s[:64] + "…"
	}
	return s
}
