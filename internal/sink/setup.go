package sink

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/cespare/xxhash/v2"
)

// Index templates, lifecycle policies and data streams the sink creates on
// start (SetupTemplates), idempotently: a policy is written only when
// missing or different from Sluice's (a hash of its body in its metadata
// says which), a template is PUT as is, an existing data stream is fine.
//
// The streams are named <prefix>-<tenant>, outside Elasticsearch's
// built-in logs-*-* pattern, so that the built-in template (priority 100)
// keeps governing every stream it governed and none of Sluice's: the
// templates never overlap it. One catch-all template (<prefix>-*,
// priority 200) with the default retention, and one per tenant with a
// retention of its own (its exact stream name, priority 201).

// lifecyclePlan is one template with its lifecycle policy (same name).
type lifecyclePlan struct {
	name      string // template and policy name
	streams   string // index pattern: <prefix>-* or one stream's name
	priority  int
	retention time.Duration // 0: keep for ever (no delete phase)
}

func (o *SearchSinkOptions) plans() []lifecyclePlan {
	ps := []lifecyclePlan{{name: o.DataStreamPrefix, streams: o.DataStreamPrefix + "-*", priority: 200, retention: o.Retention}}
	tenants := make([]string, 0, len(o.TenantRetention))
	for t := range o.TenantRetention {
		tenants = append(tenants, t)
	}
	slices.Sort(tenants)
	for _, t := range tenants {
		name := StreamName(o.DataStreamPrefix, t)
		ps = append(ps, lifecyclePlan{name: name, streams: name, priority: 201, retention: o.TenantRetention[t]})
	}
	return ps
}

// setup creates or updates every policy and template, then the data
// streams of the default tenant and of the tenants with a retention of
// their own (others are created by the cluster on their first document).
func setup(ctx context.Context, b bulker, flavour string, o *SearchSinkOptions) error {
	for _, p := range o.plans() {
		var err error
		if flavour == "opensearch" {
			err = putISMPolicy(ctx, b, p, o)
		} else {
			err = putILMPolicy(ctx, b, p, o)
		}
		if err != nil {
			return err
		}
		if err := putTemplate(ctx, b, flavour, p); err != nil {
			return err
		}
	}
	streams := []string{StreamName(o.DataStreamPrefix, "")}
	for _, p := range o.plans()[1:] {
		streams = append(streams, p.name)
	}
	for _, s := range streams {
		_, body, status, err := do(ctx, b, http.MethodPut, "/_data_stream/"+url.PathEscape(s), nil)
		if err != nil {
			return fmt.Errorf("create data stream %s: %w", s, err)
		}
		if status/100 != 2 && !(status == http.StatusBadRequest && strings.Contains(body, "resource_already_exists_exception")) {
			return fmt.Errorf("create data stream %s: %w", s, answerError(status, body))
		}
	}
	return nil
}

// templateBody is the index template of p: a data stream, the mapping of
// Sluice's documents, and (Elasticsearch) the ILM policy.
func templateBody(flavour string, p lifecyclePlan) map[string]any {
	settings := map[string]any{"index.mapping.ignore_malformed": true}
	if flavour != "opensearch" {
		settings["index.lifecycle.name"] = p.name
	}
	return map[string]any{
		"index_patterns": []string{p.streams},
		"data_stream":    map[string]any{},
		"priority":       p.priority,
		"template":       map[string]any{"settings": settings, "mappings": documentMapping()},
		"_meta":          map[string]any{"managed_by": "sluice"},
	}
}

// documentMapping maps what appendDocument writes: the ECS fields with
// their types, numbers as long or double, strings that look like dates
// (strict_date_optional_time: RFC 3339 and its shorter forms) as dates,
// other strings as keywords. Malformed values (a word in a long field) are
// kept in _source and left unindexed (index.mapping.ignore_malformed)
// rather than refusing the document.
func documentMapping() map[string]any {
	props := map[string]any{}
	set := func(dotted string, m map[string]any) {
		parts := strings.Split(dotted, ".")
		cur := props
		for _, p := range parts[:len(parts)-1] {
			next, ok := cur[p].(map[string]any)
			if !ok {
				next = map[string]any{"properties": map[string]any{}}
				cur[p] = next
			}
			cur = next["properties"].(map[string]any)
		}
		cur[parts[len(parts)-1]] = m
	}
	for _, name := range ecsNames {
		set(name, map[string]any{"type": "keyword", "ignore_above": 1024})
	}
	for name, typ := range ecsTypes {
		set(name, map[string]any{"type": typ})
	}
	set(docStream, map[string]any{"type": "keyword"})
	set(docTenant, map[string]any{"type": "keyword"})
	return map[string]any{
		"date_detection":       true,
		"dynamic_date_formats": []string{"strict_date_optional_time"},
		"dynamic_templates": []any{
			map[string]any{"sluice_longs": map[string]any{"match_mapping_type": "long", "mapping": map[string]any{"type": "long"}}},
			map[string]any{"sluice_doubles": map[string]any{"match_mapping_type": "double", "mapping": map[string]any{"type": "double"}}},
			map[string]any{"sluice_dates": map[string]any{"match_mapping_type": "date", "mapping": map[string]any{"type": "date"}}},
			map[string]any{"sluice_strings": map[string]any{"match_mapping_type": "string", "mapping": map[string]any{"type": "keyword", "ignore_above": 1024}}},
		},
		"properties": props,
	}
}

func putTemplate(ctx context.Context, b bulker, flavour string, p lifecyclePlan) error {
	_, body, status, err := do(ctx, b, http.MethodPut, "/_index_template/"+url.PathEscape(p.name), templateBody(flavour, p))
	if err == nil && status/100 != 2 {
		err = answerError(status, body)
	}
	if err != nil {
		return fmt.Errorf("put index template %s: %w", p.name, err)
	}
	return nil
}

// esDuration renders d in the largest unit ILM and ISM take that divides it
// (d, h, m, else s).
func esDuration(d time.Duration) string {
	for _, u := range []struct {
		d    time.Duration
		name string
	}{{24 * time.Hour, "d"}, {time.Hour, "h"}, {time.Minute, "m"}} {
		if d%u.d == 0 {
			return strconv.FormatInt(int64(d/u.d), 10) + u.name
		}
	}
	return strconv.FormatInt(int64(d/time.Second), 10) + "s"
}

// bodyHash is what the metadata of a policy says it was made from.
func bodyHash(v any) string {
	b, _ := json.Marshal(v)
	return strconv.FormatUint(xxhash.Sum64(b), 16)
}

// ilmPolicy: roll over at RolloverMaxAge or RolloverMaxPrimaryShardSize,
// delete an index its retention after its rollover (so no record is
// deleted before it is that old; the newest of an index is).
func ilmPolicy(p lifecyclePlan, o *SearchSinkOptions) map[string]any {
	phases := map[string]any{
		"hot": map[string]any{"min_age": "0ms", "actions": map[string]any{"rollover": map[string]any{
			"max_age": esDuration(o.RolloverMaxAge), "max_primary_shard_size": strconv.FormatInt(o.RolloverMaxPrimaryShardSize, 10) + "b",
		}}},
	}
	if p.retention > 0 {
		phases["delete"] = map[string]any{"min_age": esDuration(p.retention), "actions": map[string]any{"delete": map[string]any{}}}
	}
	pol := map[string]any{"phases": phases}
	pol["_meta"] = map[string]any{"managed_by": "sluice", "hash": bodyHash(pol)}
	return map[string]any{"policy": pol}
}

func putILMPolicy(ctx context.Context, b bulker, p lifecyclePlan, o *SearchSinkOptions) error {
	want := ilmPolicy(p, o)
	path := "/_ilm/policy/" + url.PathEscape(p.name)
	_, body, status, err := do(ctx, b, http.MethodGet, path, nil)
	if err != nil {
		return fmt.Errorf("get ILM policy %s: %w", p.name, err)
	}
	if status == http.StatusOK {
		var got map[string]struct {
			Policy struct {
				Meta struct {
					Hash string `json:"hash"`
				} `json:"_meta"`
			} `json:"policy"`
		}
		if json.Unmarshal([]byte(body), &got) == nil && got[p.name].Policy.Meta.Hash == want["policy"].(map[string]any)["_meta"].(map[string]any)["hash"] {
			return nil // as Sluice would write it
		}
	} else if status != http.StatusNotFound {
		return fmt.Errorf("get ILM policy %s: %w", p.name, answerError(status, body))
	}
	_, body, status, err = do(ctx, b, http.MethodPut, path, want)
	if err == nil && status/100 != 2 {
		err = answerError(status, body)
	}
	if err != nil {
		return fmt.Errorf("put ILM policy %s: %w", p.name, err)
	}
	return nil
}

// ismPolicy is ilmPolicy for OpenSearch's Index State Management: a hot
// state that rolls over, a delete state reached its retention after the
// rollover, and an ism_template that attaches the policy to the streams'
// backing indices (.ds-<stream>-*) as they are created.
func ismPolicy(p lifecyclePlan, o *SearchSinkOptions) map[string]any {
	hot := map[string]any{
		"name": "hot",
		"actions": []any{map[string]any{"rollover": map[string]any{
			"min_index_age": esDuration(o.RolloverMaxAge), "min_primary_shard_size": strconv.FormatInt(o.RolloverMaxPrimaryShardSize, 10) + "b",
		}}},
		"transitions": []any{},
	}
	states := []any{hot}
	if p.retention > 0 {
		hot["transitions"] = []any{map[string]any{"state_name": "delete", "conditions": map[string]any{"min_rollover_age": esDuration(p.retention)}}}
		states = append(states, map[string]any{"name": "delete", "actions": []any{map[string]any{"delete": map[string]any{}}}, "transitions": []any{}})
	}
	backing := ".ds-" + p.streams // <prefix>-* covers the backing indices too
	if !strings.HasSuffix(backing, "*") {
		backing += "-*"
	}
	pol := map[string]any{
		"default_state": "hot",
		"states":        states,
		"ism_template":  []any{map[string]any{"index_patterns": []string{backing}, "priority": p.priority}},
	}
	pol["description"] = "Managed by Sluice (" + bodyHash(pol) + ")"
	return map[string]any{"policy": pol}
}

func putISMPolicy(ctx context.Context, b bulker, p lifecyclePlan, o *SearchSinkOptions) error {
	want := ismPolicy(p, o)
	path := "/_plugins/_ism/policies/" + url.PathEscape(p.name)
	_, body, status, err := do(ctx, b, http.MethodGet, path, nil)
	if err != nil {
		return fmt.Errorf("get ISM policy %s: %w", p.name, err)
	}
	switch status {
	case http.StatusOK:
		var got struct {
			SeqNo       int64 `json:"_seq_no"`
			PrimaryTerm int64 `json:"_primary_term"`
			Policy      struct {
				Description string `json:"description"`
			} `json:"policy"`
		}
		if err := json.Unmarshal([]byte(body), &got); err != nil {
			return fmt.Errorf("get ISM policy %s: %w", p.name, err)
		}
		if got.Policy.Description == want["policy"].(map[string]any)["description"] {
			return nil
		}
		// An update names the version it replaces (optimistic locking).
		path += "?if_seq_no=" + strconv.FormatInt(got.SeqNo, 10) + "&if_primary_term=" + strconv.FormatInt(got.PrimaryTerm, 10)
	case http.StatusNotFound:
	default:
		return fmt.Errorf("get ISM policy %s: %w", p.name, answerError(status, body))
	}
	_, body, status, err = do(ctx, b, http.MethodPut, path, want)
	if err == nil && status/100 != 2 {
		err = answerError(status, body)
	}
	if err != nil {
		return fmt.Errorf("put ISM policy %s: %w", p.name, err)
	}
	return nil
}

var errSetup = errors.New("unexpected answer")

func answerError(status int, body string) error {
	return fmt.Errorf("%w: status %d: %s", errSetup, status, strings.TrimSpace(body))
}

// do sends one JSON request through the client (its retries, auth and
// product check) and returns the answer's first 64 KiB.
func do(ctx context.Context, b bulker, method, path string, body any) (http.Header, string, int, error) {
	var rd io.Reader
	if body != nil {
		js, err := json.Marshal(body)
		if err != nil {
			return nil, "", 0, err
		}
		rd = bytes.NewReader(js)
	}
	req, err := http.NewRequestWithContext(ctx, method, path, rd)
	if err != nil {
		return nil, "", 0, err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := b.perform(req)
	if err != nil {
		return nil, "", 0, err
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = io.Copy(&buf, io.LimitReader(resp.Body, 64<<10))
	return resp.Header, buf.String(), resp.StatusCode, nil
}
