package sink

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
)

// bulkItemsPushedBack says whether a bulk answer 200 refused items because
// the cluster is overloaded: Elasticsearch and OpenSearch answer a bulk
// request 200 with "errors": true and status 429
// (es_rejected_execution_exception: a full write thread pool or indexing
// pressure) on the items they had no room for. For the limiter that is
// the same as a 429 for the whole request; the items themselves are
// retried by Write (outcomeRetry), never dropped.
//
// It reads the body and puts an equivalent one back for the client. Only
// an answer whose "errors" is true is decoded: the usual answer costs one
// search of its first bytes.
func bulkItemsPushedBack(resp *http.Response) bool {
	if resp.StatusCode != http.StatusOK || resp.Body == nil {
		return false
	}
	b, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	resp.Body = io.NopCloser(bytes.NewReader(b))
	if err != nil || !bulkHasErrors(b) {
		// A body cut short reaches the client as what was read, which
		// fails to decode there: the request is retried as a whole.
		return false
	}
	var ans struct {
		Items []map[string]struct {
			Status int `json:"status"`
			Error  struct {
				Type string `json:"type"`
			} `json:"error"`
		} `json:"items"`
	}
	if json.Unmarshal(b, &ans) != nil {
		return false
	}
	for _, it := range ans.Items {
		for _, r := range it {
			if r.Status == http.StatusTooManyRequests || r.Error.Type == "es_rejected_execution_exception" {
				return true
			}
		}
	}
	return false
}

// bulkHasErrors finds the answer's top-level "errors": true. Both clusters
// write it before the items, and no item carries a key "errors" (inside
// strings a quote is escaped, so the key cannot appear there either).
func bulkHasErrors(b []byte) bool {
	i := bytes.Index(b, []byte(`"errors"`))
	if i < 0 {
		return false
	}
	rest := bytes.TrimLeft(b[i+len(`"errors"`):], " \t\r\n")
	if len(rest) == 0 || rest[0] != ':' {
		return false
	}
	return bytes.HasPrefix(bytes.TrimLeft(rest[1:], " \t\r\n"), []byte("true"))
}
