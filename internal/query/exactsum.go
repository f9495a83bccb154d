package query

import "math"

// exactSum adds float64s without rounding error (Shewchuk's algorithm,
// as Python's math.fsum): its value is the exact sum of what was added,
// rounded once, so it does not depend on the order of the additions
// (unless a partial sum leaves float64's range: then it is infinite).
// sum() and avg() use it so that a sum merged from several indexers
// equals the sum over one store, and one store's parallel search, whose
// order varies, answers the same every time.
//
// Until that would lose a bit, the sum is kept as two float64s whose
// exact sum it is (hi + lo, each addition checked with error-free
// transformations): a few flops per value, which covers everyday values
// such as latencies. The first addition that is not exact so moves it to
// Shewchuk's partials for good.
type exactSum struct {
	hi, lo float64
	// slow is set once the sum is kept in partials.
	slow bool
	// partials are non-overlapping, in increasing magnitude; their exact
	// sum is the sum of the finite values added.
	partials []float64
	// special is the plain sum of the infinite values added (NaN after
	// +Inf and -Inf), which decides the result when not 0.
	special float64
}

func (s *exactSum) add(x float64) {
	if !s.slow {
		// hi + x = sum + err and lo + err = lo2 + err2, exactly (Knuth's
		// TwoSum); the sum stays hi + lo exactly while err2 is 0. An
		// infinite or NaN x or sum makes err2 NaN.
		sum := s.hi + x
		bb := sum - s.hi
		err := (s.hi - (sum - bb)) + (x - bb)
		lo2 := s.lo + err
		bb = lo2 - s.lo
		err2 := (s.lo - (lo2 - bb)) + (err - bb)
		if err2 == 0 {
			s.hi, s.lo = sum, lo2
			return
		}
		s.toSlow()
	}
	if math.IsInf(x, 0) || math.IsNaN(x) {
		s.special += x
		return
	}
	s.addSlow(x)
}

// toSlow moves the sum hi + lo to partials.
func (s *exactSum) toSlow() {
	s.slow = true
	hi, lo := s.hi, s.lo
	s.hi, s.lo = 0, 0
	s.addSlow(lo)
	s.addSlow(hi)
}

func (s *exactSum) addSlow(x float64) {
	i := 0
	for _, y := range s.partials {
		if math.Abs(x) < math.Abs(y) {
			x, y = y, x
		}
		hi := x + y
		if math.IsInf(hi, 0) {
			// Beyond float64's range on the way: the sum is infinite,
			// as a plain float sum in this order would be.
			s.special += hi
			s.partials = s.partials[:0]
			return
		}
		lo := y - (hi - x)
		if lo != 0 {
			s.partials[i] = lo
			i++
		}
		x = hi
	}
	s.partials = append(s.partials[:i], x)
}

// merge adds what o holds.
func (s *exactSum) merge(o *exactSum) {
	s.special += o.special
	s.add(o.lo)
	s.add(o.hi)
	for _, p := range o.partials {
		s.add(p)
	}
}

// value is the sum, correctly rounded.
func (s *exactSum) value() float64 {
	if s.special != 0 || math.IsNaN(s.special) {
		return s.special
	}
	if !s.slow {
		t := exactSum{slow: true}
		t.addSlow(s.lo)
		t.addSlow(s.hi)
		return t.value()
	}
	p := s.partials
	n := len(p)
	if n == 0 {
		return 0
	}
	n--
	hi := p[n]
	lo := 0.0
	for n > 0 {
		x := hi
		n--
		y := p[n]
		hi = x + y
		lo = y - (hi - x)
		if lo != 0 {
			break
		}
	}
	// Round half to even across the remaining partials: if they push the
	// same way as lo, the halfway case must round away.
	if n > 0 && (lo < 0 && p[n-1] < 0 || lo > 0 && p[n-1] > 0) {
		y := lo * 2
		x := hi + y
		if y == x-hi {
			hi = x
		}
	}
	return hi
}

// appendPartial encodes the sum: the infinite part and floats whose
// exact sum is the finite part.
func (s *exactSum) appendPartial(dst []byte) []byte {
	dst = appendFloat(dst, s.special)
	if !s.slow {
		return appendFloat(appendFloat(appendUvarint(dst, 2), s.lo), s.hi)
	}
	dst = appendUvarint(dst, uint64(len(s.partials)))
	for _, p := range s.partials {
		dst = appendFloat(dst, p)
	}
	return dst
}

// read decodes what appendPartial wrote, for merge.
func (s *exactSum) read(r *wireReader) {
	s.special = r.float()
	s.slow = true
	s.partials = make([]float64, r.count(8))
	for i := range s.partials {
		s.partials[i] = r.float()
	}
}
