// Package grok compiles grok patterns (%{NAME}, %{NAME:field},
// %{NAME:field:int|float} over a library of named regular expressions)
// into Go regular expressions and matches them. Its library (patterns.go)
// holds the common patterns under their usual names, written for Go's RE2
// syntax: no lookaround, no atomic groups, no backreferences, so every
// match runs in time linear in its input.
//
// It knows nothing of records' meaning; the processing pipeline's grok
// processor uses it.
package grok

import (
	"fmt"
	"maps"
	"regexp"
	"strconv"
	"strings"
)

// Bounds on what a pattern may expand to, so that a library whose
// patterns refer to each other many times over cannot blow up.
const (
	maxDepth         = 32
	maxExpandedBytes = 256 << 10
)

// Library maps pattern names to their definitions.
type Library map[string]string

// With returns a copy of l with defs added (replacing patterns of the
// same name).
func (l Library) With(defs map[string]string) Library {
	out := maps.Clone(l)
	if out == nil {
		out = Library{}
	}
	maps.Copy(out, defs)
	return out
}

// Capture is a named part of a pattern: the field it fills and the type
// its text is converted to.
type Capture struct {
	Field string
	Type  string // "", "int" or "float"
	group int    // submatch index
}

// Pattern is a compiled grok pattern. It is safe for concurrent use.
type Pattern struct {
	re       *regexp.Regexp
	captures []Capture
}

// Compile expands pattern over lib and compiles it. Field names written
// as [a][b] become a.b; a regular expression's own named groups
// ((?P<name>…)) are fields too.
func Compile(pattern string, lib Library) (*Pattern, error) {
	e := expander{lib: lib}
	expanded, err := e.expand(pattern, 0, nil)
	if err != nil {
		return nil, err
	}
	re, err := regexp.Compile(expanded)
	if err != nil {
		return nil, fmt.Errorf("grok %q: %w", pattern, err)
	}
	p := &Pattern{re: re}
	byGroup := map[string]Capture{}
	for i, c := range e.captures {
		byGroup[groupName(i)] = c
	}
	for i, name := range re.SubexpNames() {
		if name == "" {
			continue
		}
		c, ok := byGroup[name]
		if !ok { // a named group of the pattern's own regular expression
			c = Capture{Field: name}
		}
		c.group = i
		p.captures = append(p.captures, c)
	}
	return p, nil
}

// Captures lists the pattern's fields in order.
func (p *Pattern) Captures() []Capture { return p.captures }

// String is the expanded regular expression.
func (p *Pattern) String() string { return p.re.String() }

// Match finds the pattern in s (anywhere: anchor it with ^ and $ to match
// the whole value) and calls set for each capture that matched a
// non-empty text, in the pattern's order, with the capture's type for the
// caller to apply. When two captures fill the same field (the
// alternatives of a pattern), set is called for each; the caller keeps
// the first. It reports whether the pattern matched.
func (p *Pattern) Match(s string, set func(c Capture, value string)) bool {
	loc := p.re.FindStringSubmatchIndex(s)
	if loc == nil {
		return false
	}
	for _, c := range p.captures {
		a, b := loc[2*c.group], loc[2*c.group+1]
		if a < 0 || a == b {
			continue
		}
		set(c, s[a:b])
	}
	return true
}

func groupName(i int) string { return "grok" + strconv.Itoa(i) }

type expander struct {
	lib      Library
	captures []Capture
}

// expand replaces every %{…} in s; stack holds the names being expanded,
// to report a pattern that refers to itself.
func (e *expander) expand(s string, depth int, stack []string) (string, error) {
	if depth > maxDepth {
		return "", fmt.Errorf("grok: patterns nest deeper than %d (%s)", maxDepth, strings.Join(stack, " → "))
	}
	var b strings.Builder
	for {
		i := strings.Index(s, "%{")
		if i < 0 {
			b.WriteString(s)
			break
		}
		b.WriteString(s[:i])
		j := strings.IndexByte(s[i:], '}')
		if j < 0 {
			return "", fmt.Errorf("grok: %q is not closed", s[i:])
		}
		ref := s[i+2 : i+j]
		s = s[i+j+1:]
		name, field, typ, err := parseRef(ref)
		if err != nil {
			return "", err
		}
		def, ok := e.lib[name]
		if !ok {
			return "", fmt.Errorf("grok: unknown pattern %s", name)
		}
		for _, n := range stack {
			if n == name {
				return "", fmt.Errorf("grok: pattern %s refers to itself (%s → %s)", name, strings.Join(stack, " → "), name)
			}
		}
		inner, err := e.expand(def, depth+1, append(stack, name))
		if err != nil {
			return "", err
		}
		if field == "" {
			b.WriteString("(?:")
		} else {
			fmt.Fprintf(&b, "(?P<%s>", groupName(len(e.captures)))
			e.captures = append(e.captures, Capture{Field: field, Type: typ})
		}
		b.WriteString(inner)
		b.WriteByte(')')
		if b.Len() > maxExpandedBytes {
			return "", fmt.Errorf("grok: pattern expands to more than %d bytes", maxExpandedBytes)
		}
	}
	return b.String(), nil
}

// parseRef reads NAME[:field[:type]].
func parseRef(ref string) (name, field, typ string, err error) {
	parts := strings.Split(ref, ":")
	if len(parts) > 3 || parts[0] == "" {
		return "", "", "", fmt.Errorf("grok: %%{%s}: want %%{NAME}, %%{NAME:field} or %%{NAME:field:type}", ref)
	}
	name = parts[0]
	for _, c := range name {
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return "", "", "", fmt.Errorf("grok: pattern name %q: letters, digits and _ only", name)
		}
	}
	if len(parts) > 1 {
		if field = fieldName(parts[1]); field == "" {
			return "", "", "", fmt.Errorf("grok: %%{%s}: empty field name", ref)
		}
	}
	if len(parts) > 2 {
		typ = parts[2]
		if typ != "int" && typ != "float" {
			return "", "", "", fmt.Errorf("grok: %%{%s}: type %q: want int or float", ref, typ)
		}
	}
	return name, field, typ, nil
}

// fieldName turns Logstash's [a][b] into a.b.
func fieldName(s string) string {
	if !strings.HasPrefix(s, "[") {
		return s
	}
	s = strings.TrimSuffix(strings.TrimPrefix(s, "["), "]")
	return strings.ReplaceAll(s, "][", ".")
}
