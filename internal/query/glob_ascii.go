package query

import "github.com/sluice-log/sluice/internal/record"

// globMatchASCII is globMatch(strings.ToLower(s), segments) for ASCII s
// and ASCII segments (lowercase, as wildcardFilter keeps them), without
// building the lowercase copy of every value a wildcard visits: for ASCII,
// strings.ToLower lowers A-Z and nothing else.
func globMatchASCII(s string, segments []string) bool {
	if len(segments) == 1 {
		return len(s) == len(segments[0]) && record.EqualLowerASCII(s, segments[0])
	}
	first, last := segments[0], segments[len(segments)-1]
	if len(s) < len(first)+len(last) || !record.EqualLowerASCII(s, first) || !record.EqualLowerASCII(s[len(s)-len(last):], last) {
		return false
	}
	s = s[len(first) : len(s)-len(last)]
	for _, seg := range segments[1 : len(segments)-1] {
		i := indexLowerASCII(s, seg)
		if i < 0 {
			return false
		}
		s = s[i+len(seg):]
	}
	return true
}

// indexLowerASCII is strings.Index(lowercased s, w) for ASCII s and
// lowercase ASCII w.
func indexLowerASCII(s, w string) int {
	if w == "" {
		return 0
	}
	c, upper := w[0], w[0]
	if c >= 'a' && c <= 'z' {
		upper = c - 'a' + 'A'
	}
	lo, up := indexFrom(s, c, 0), len(s)
	if upper != c {
		up = indexFrom(s, upper, 0)
	}
	for {
		p := min(lo, up)
		if p+len(w) > len(s) {
			return -1
		}
		if record.EqualLowerASCII(s[p:p+len(w)], w) {
			return p
		}
		if p == lo {
			lo = indexFrom(s, c, p+1)
		} else {
			up = indexFrom(s, upper, p+1)
		}
	}
}
