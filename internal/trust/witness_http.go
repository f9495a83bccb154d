package trust

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"time"
)

func init() {
	Register("http", openHTTPWitness)
	Register("https", openHTTPWitness)
}

// WitnessPathPrefix is where a Sluice serves the heads other nodes push to
// it: PUT and GET WitnessPathPrefix+NAME.
const WitnessPathPrefix = "/api/v1/witness/"

// httpWitness pushes to another Sluice's witness endpoint, which keeps
// the head per node name and refuses one older than what it holds.
type httpWitness struct {
	url    string
	client *http.Client
}

func openHTTPWitness(u *url.URL, _ Env) (Witness, error) {
	c := *u
	if c.Path == "" || c.Path == "/" {
		host, err := os.Hostname()
		if err != nil {
			return nil, fmt.Errorf("no node name in the URL and no host name: %w", err)
		}
		c.Path = WitnessPathPrefix + host
	}
	return &httpWitness{url: c.String(), client: &http.Client{Timeout: 30 * time.Second}}, nil
}

func (w *httpWitness) Put(ctx context.Context, h Head) error {
	b, err := json.Marshal(h)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, w.url, bytes.NewReader(b))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := w.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 4096))
		return fmt.Errorf("PUT %s: %s: %s", Redact(w.url), resp.Status, bytes.TrimSpace(msg))
	}
	return nil
}

func (w *httpWitness) Get(ctx context.Context) (Head, bool, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, w.url, nil)
	if err != nil {
		return Head{}, false, err
	}
	resp, err := w.client.Do(req)
	if err != nil {
		return Head{}, false, err
	}
	defer resp.Body.Close()
	if resp.StatusCode == http.StatusNotFound {
		return Head{}, false, nil
	}
	if resp.StatusCode/100 != 2 {
		return Head{}, false, fmt.Errorf("GET %s: %s", Redact(w.url), resp.Status)
	}
	var h Head
	if err := json.NewDecoder(io.LimitReader(resp.Body, 1<<20)).Decode(&h); err != nil {
		return Head{}, false, fmt.Errorf("GET %s: %w", Redact(w.url), err)
	}
	return h, true, nil
}

func (w *httpWitness) Close() error { return nil }
