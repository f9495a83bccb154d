package querier

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/auth"
	"github.com/sluice-log/sluice/internal/tenant"
)

// setIdentity makes an indexer's request act for the caller: its tenant
// (as the querier's edge decided it) and its own credential, which the
// indexer checks again against the same keys: a querier grants nothing an
// indexer would not.
func setIdentity(req *http.Request, t string) {
	if t != "" {
		req.Header.Set(tenant.Header, t)
	}
	if c := auth.CredentialFrom(req.Context()); c != "" {
		req.Header.Set("Authorization", c)
	}
}

// queryError is an indexer's refusal of the query itself (a bad query, a
// limit reached): the same on every copy, so it is the answer.
type queryError struct {
	code int
	msg  string
}

func (e *queryError) Error() string { return e.msg }

// answer is one indexer's reply to one ask.
type answer struct {
	ask  ask
	body []byte
	// partial is the indexer's own account of what its store could not
	// read, or nil.
	partial *api.Partial
}

// request is what a fan-out sends: for one ask, the path and the form.
type request func(a ask) (method, path string, form url.Values)

// gather sends req to one copy of every partition and returns the
// answers of one consistent plan, and the indexers it lacks. An indexer
// that fails is marked down and the plan made again without it; answers
// of the earlier plan that the new one asks again are kept.
func (q *Querier) gather(ctx context.Context, tenant string, req request) ([]answer, []skip, error) {
	down := map[string]bool{}
	have := map[string]answer{}
	rot := int(q.rot.Add(1))
	for {
		asks, skips := makePlan(q.snapshot(), down, rot, q.opts.MaxCopyLag)
		var (
			mu     sync.Mutex
			wg     sync.WaitGroup
			failed []string
			qerr   error
		)
		var todo []ask
		for _, a := range asks {
			if _, ok := have[a.key()]; !ok {
				todo = append(todo, a)
			}
		}
		for _, a := range todo {
			wg.Add(1)
			go func() {
				defer wg.Done()
				method, path, form := req(a)
				ans, err := q.do(ctx, a, tenant, method, path, form)
				mu.Lock()
				defer mu.Unlock()
				var qe *queryError
				switch {
				case err == nil:
					have[a.key()] = ans
				case errors.As(err, &qe):
					qerr = err
				case ctx.Err() != nil:
					qerr = ctx.Err()
				default:
					failed = append(failed, a.url)
					down[a.url] = true
					if !errors.Is(err, errBusy) {
						q.markDown(a.url, err)
					}
				}
			}()
		}
		wg.Wait()
		if qerr != nil {
			return nil, nil, qerr
		}
		if len(failed) > 0 {
			continue
		}
		out := make([]answer, len(asks))
		for i, a := range asks {
			out[i] = have[a.key()]
		}
		return out, skips, nil
	}
}

func (a ask) key() string {
	var b strings.Builder
	b.WriteString(a.url)
	if a.all {
		b.WriteString(" all")
	}
	for _, p := range a.parts {
		b.WriteString(" " + p.String())
	}
	return b.String()
}

// errBusy is an indexer's 429: it is up but full; a replica is asked
// instead, without marking it down.
var errBusy = errors.New("indexer busy (429)")

// do sends one request and reads its answer whole: an answer is merged
// only once all of it arrived.
func (q *Querier) do(ctx context.Context, a ask, tenant, method, path string, form url.Values) (answer, error) {
	var req *http.Request
	var err error
	if method == http.MethodGet {
		req, err = http.NewRequestWithContext(ctx, method, a.url+path+"?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequestWithContext(ctx, method, a.url+path, strings.NewReader(form.Encode()))
		if req != nil {
			req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
	}
	if err != nil {
		return answer{}, err
	}
	setIdentity(req, tenant)
	resp, err := q.client.Do(req)
	if err != nil {
		return answer{}, fmt.Errorf("%s: %w", a.url, err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, q.opts.MaxResponseBytes+1))
	if err != nil {
		return answer{}, fmt.Errorf("%s: read answer: %w", a.url, err)
	}
	switch c := resp.StatusCode; {
	case c == http.StatusOK:
	case c == http.StatusTooManyRequests:
		return answer{}, errBusy
	case c >= 400 && c < 500, c == http.StatusGatewayTimeout:
		return answer{}, &queryError{code: c, msg: errorText(body)}
	default:
		return answer{}, fmt.Errorf("%s answered %s: %s", a.url, resp.Status, errorText(body))
	}
	if int64(len(body)) > q.opts.MaxResponseBytes {
		return answer{}, &queryError{code: http.StatusUnprocessableEntity, msg: fmt.Sprintf(
			"indexer %s answered more than %d bytes (querier.max_response_bytes); narrow the query", a.url, q.opts.MaxResponseBytes)}
	}
	ans := answer{ask: a, body: body}
	if path == api.PartialPath {
		if ans.partial, ans.body, err = api.SplitEnvelope(body); err != nil {
			return answer{}, fmt.Errorf("%s: %w", a.url, err)
		}
	}
	return ans, nil
}

// errorText is the message of an API error answer ({"error": "…"}), or
// the body itself.
func errorText(body []byte) string {
	var e struct {
		Error string `json:"error"`
	}
	if json.Unmarshal(body, &e) == nil && e.Error != "" {
		return e.Error
	}
	return string(bytes.TrimSpace(body))
}
