package aimd

import (
	"context"
	"errors"
	"net"
	"net/http"
)

// Transport is an http.RoundTripper whose requests (those Match accepts;
// all when Match is nil) wait for a slot of L, and report their round
// trip time and outcome to it: 429, 502, 503 and 504, and timeouts, are
// the server pushing back.
type Transport struct {
	Next  http.RoundTripper
	L     *Limiter
	Match func(*http.Request) bool
	// PushedBack, when set, is asked about the answers Classify took for
	// OK: a server may push back inside a successful answer (an
	// Elasticsearch bulk answer 200 whose items say 429). It may read
	// resp.Body if it leaves an equivalent one in its place.
	PushedBack func(*http.Response) bool
}

// RoundTrip implements http.RoundTripper.
func (t *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if t.Match != nil && !t.Match(req) {
		return t.Next.RoundTrip(req)
	}
	if err := t.L.Acquire(req.Context()); err != nil {
		return nil, err
	}
	start := t.L.cfg.Now()
	resp, err := t.Next.RoundTrip(req)
	rtt := t.L.cfg.Now().Sub(start)
	o := Classify(resp, err)
	if o == OK && t.PushedBack != nil && t.PushedBack(resp) {
		o = Overloaded
	}
	t.L.Release(rtt, o)
	return resp, err
}

// Classify says what a response or error says of the server's load.
func Classify(resp *http.Response, err error) Outcome {
	if err != nil {
		var ne net.Error
		if errors.Is(err, context.DeadlineExceeded) || (errors.As(err, &ne) && ne.Timeout()) {
			return Overloaded
		}
		return Failed
	}
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return Overloaded
	}
	return OK
}
