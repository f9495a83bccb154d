package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"sync/atomic"
	"time"
)

// client talks to one server's HTTP API.
type client struct {
	http *http.Client
	base string
	sys  system // which API the server speaks; the zero value is Sluice's
	// queryRetries counts the backpressure answers (429, 503) to queries.
	queryRetries atomic.Int64
}

func newClient(base string, conns int) *client {
	return &client{
		http: &http.Client{
			Timeout:   5 * time.Minute,
			Transport: &http.Transport{MaxIdleConnsPerHost: conns, MaxConnsPerHost: conns},
		},
		base: base,
	}
}

// maxRetryAfter bounds how long one backpressure answer makes us wait, so
// that a bogus header cannot stall the run.
const maxRetryAfter = 30 * time.Second

// post sends body to path and returns the response body of a 2xx answer.
// On 429 or 503 it waits as Retry-After says and sends again: that is the
// server pushing back, not failing. retries counts those waits.
func (c *client) post(ctx context.Context, path, contentType string, body []byte) (resp []byte, retries int, err error) {
	for {
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.base+path, bytes.NewReader(body))
		if err != nil {
			return nil, retries, fmt.Errorf("build request to %s: %w", path, err)
		}
		req.Header.Set("Content-Type", contentType)
		r, err := c.http.Do(req)
		if err != nil {
			return nil, retries, fmt.Errorf("post to %s: %w", path, err)
		}
		data, err := io.ReadAll(r.Body)
		r.Body.Close()
		if err != nil {
			return nil, retries, fmt.Errorf("read answer from %s: %w", path, err)
		}
		switch {
		case r.StatusCode >= 200 && r.StatusCode < 300:
			return data, retries, nil
		case r.StatusCode == http.StatusTooManyRequests || r.StatusCode == http.StatusServiceUnavailable:
			retries++
			select {
			case <-ctx.Done():
				return nil, retries, ctx.Err()
			case <-time.After(retryAfter(r.Header.Get("Retry-After"), time.Now())):
			}
		default:
			return nil, retries, fmt.Errorf("post to %s: status %d: %s", path, r.StatusCode, snippet(data))
		}
	}
}

// retryAfter reads a Retry-After header (seconds or an HTTP date); without
// a usable one it waits a second.
func retryAfter(h string, now time.Time) time.Duration {
	const fallback, least = time.Second, 10 * time.Millisecond
	if h == "" {
		return fallback
	}
	var d time.Duration
	if secs, err := strconv.Atoi(h); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(h); err == nil {
		d = t.Sub(now)
	} else {
		return fallback
	}
	return min(max(d, least), maxRetryAfter)
}

// snippet shortens a response body for an error message.
func snippet(b []byte) string {
	const n = 300
	if len(b) > n {
		return string(b[:n]) + "…"
	}
	return string(b)
}
