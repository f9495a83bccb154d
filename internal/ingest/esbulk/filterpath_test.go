package esbulk

import (
	"net/http"
	"net/url"
	"testing"
)

// TestBulkFilterPath: the answer keeps what filter_path asks for, as
// Elasticsearch's does, and the whole answer for paths it does not
// understand.
func TestBulkFilterPath(t *testing.T) {
	body := ndjson(`{"create":{"_index":"logs"}}`, `{"message":"a"}`,
		`{"index":{"_index":"logs","_id":"x1"}}`, `{"message":"b"}`,
		`{"update":{"_index":"logs","_id":"x2"}}`, `{"doc":{}}`)
	okOnly := ndjson(`{"create":{"_index":"logs"}}`, `{"message":"a"}`)
	for _, tc := range []struct {
		name, filter string
		body         []byte
		want         string
	}{
		{"Filebeat's and Logstash's", "errors,items.*.error,items.*.status", body,
			`{"errors":true,"items":[{"create":{"status":201}},{"index":{"status":201}},{"update":{"status":400,"error":{"type":"action_request_validation_exception","reason":"update is not supported: Sluice stores logs append-only"}}}]}` + "\n"},
		{"errors alone", "errors", body, `{"errors":true}` + "\n"},
		{"only errors' items, none failed", "items.*.error", okOnly, "{}\n"},
		{"took and ids", "took, items.index._id", okOnly, ""},
		{"an exclusion: everything", "-took", okOnly, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := NewHandler(&recordingSink{}, DefaultConfig(), nil, nil)
			rec := serve(t, h, http.MethodPost, "/_bulk?filter_path="+url.QueryEscape(tc.filter), tc.body, nil)
			if rec.Code != http.StatusOK {
				t.Fatalf("status %d: %s", rec.Code, rec.Body)
			}
			if tc.want != "" && rec.Body.String() != tc.want {
				t.Fatalf("answer\n%s\nwant\n%s", rec.Body, tc.want)
			}
		})
	}
	got := parseFilterPath("took, items.index._id")
	if !got.took || got.errors || got.fields != fieldID {
		t.Errorf("took, items.index._id: %+v", got)
	}
	if got := parseFilterPath("-took"); got != fullResponse {
		t.Errorf("-took: %+v, want the whole answer", got)
	}
	if got := parseFilterPath("items.*"); got.fields != allFields || got.took {
		t.Errorf("items.*: %+v", got)
	}
}
