package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/sluice-log/sluice/internal/store"
)

// quarantineBackend is a queryBackend whose searcher keeps parts aside.
type quarantineBackend struct {
	queryBackend
	parts map[string]bool // id → restorable
}

func (b *quarantineBackend) Searcher() store.Searcher { return b }

func (b *quarantineBackend) QuarantinedParts() []store.QuarantinedPart {
	var out []store.QuarantinedPart
	for id := range b.parts {
		out = append(out, store.QuarantinedPart{ID: id, Cause: "checksum mismatch"})
	}
	return out
}

func (b *quarantineBackend) act(id string, restore bool) error {
	ok, found := b.parts[id]
	switch {
	case !found:
		return fmt.Errorf("drop %s: %w", id, store.ErrNotQuarantined)
	case restore && !ok:
		return errors.New("the file in quarantine does not match the manifest")
	}
	delete(b.parts, id)
	return nil
}

func (b *quarantineBackend) DropQuarantined(id string) error    { return b.act(id, false) }
func (b *quarantineBackend) RestoreQuarantined(id string) error { return b.act(id, true) }

func TestQuarantineEndpoints(t *testing.T) {
	b := &quarantineBackend{parts: map[string]bool{"20240501/00000000000000a1": false, "20240501/00000000000000a2": true}}
	ts := newQueryServer(t, b, queryLimits)
	for _, tc := range []struct {
		path, part string
		code       int
		want       string
	}{
		{"/api/v1/quarantine", "", 200, `"part":"20240501/00000000000000a1"`},
		{"/internal/quarantine/drop", "", 400, "missing parameter 'part'"},
		{"/internal/quarantine/drop", "20240501/0000000000000bad", 404, "no such quarantined part"},
		{"/internal/quarantine/restore", "20240501/00000000000000a1", 409, "does not match"},
		{"/internal/quarantine/restore", "20240501/00000000000000a2", 200, `"status":"restored"`},
		{"/internal/quarantine/drop", "20240501/00000000000000a1", 200, `"status":"dropped"`},
		{"/api/v1/quarantine", "", 200, `{"parts":[]}`},
	} {
		code, body := postForm(t, ts, tc.path, url.Values{"part": {tc.part}})
		if code != tc.code || !strings.Contains(body, tc.want) {
			t.Errorf("%s %s: %d %s, want %d with %s", tc.path, tc.part, code, body, tc.code, tc.want)
		}
	}
	// A server without an embedded store has nothing to quarantine.
	plain := newQueryServer(t, &queryBackend{}, queryLimits)
	if code, body := postForm(t, plain, "/api/v1/quarantine", nil); code != http.StatusNotFound {
		t.Errorf("quarantine list without a store: %d %s", code, body)
	}
}
