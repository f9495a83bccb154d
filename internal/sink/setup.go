package sink

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"

	"github.com/sluice-log/sluice/internal/record"
)

// setupDataStream creates (or updates) an index template that makes index a
// data stream with the mapping the sink's documents need, then creates the
// data stream; one that already exists is fine. The same two requests work
// on Elasticsearch 7.9+ and OpenSearch 1.0+.
func setupDataStream(ctx context.Context, b bulker, index string) error {
	template := `{"index_patterns":[` + quote(index) + `],"data_stream":{},"priority":200,` +
		`"template":{"mappings":{"properties":{"@timestamp":{"type":"date_nanos"},` +
		`"message":{"type":"text"},"stream":{"type":"keyword"},"tenant":{"type":"keyword"}}}},` +
		`"_meta":{"managed_by":"sluice"}}`
	if err := put(ctx, b, "/_index_template/"+url.PathEscape(index), template, nil); err != nil {
		return fmt.Errorf("put index template: %w", err)
	}
	exists := func(status int, body string) bool {
		return status == http.StatusBadRequest && strings.Contains(body, "resource_already_exists_exception")
	}
	if err := put(ctx, b, "/_data_stream/"+url.PathEscape(index), "", exists); err != nil {
		return fmt.Errorf("create data stream: %w", err)
	}
	return nil
}

var errSetup = errors.New("unexpected answer")

func quote(s string) string {
	return string(record.AppendJSONString(nil, s))
}

func put(ctx context.Context, b bulker, path, body string, ok func(status int, body string) bool) error {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, path, rd)
	if err != nil {
		return err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.perform(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, io.LimitReader(resp.Body, 4096))
	if resp.StatusCode/100 == 2 || (ok != nil && ok(resp.StatusCode, buf.String())) {
		return nil
	}
	return fmt.Errorf("%w: PUT %s: status %d: %s", errSetup, path, resp.StatusCode, strings.TrimSpace(buf.String()))
}
