package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"strconv"
	"time"

	"github.com/sluice-log/sluice/bench/gen"
)

const (
	queryPath   = "/api/v1/query"
	explainPath = "/api/v1/explain"
)

// query runs q over [from, to) and returns the NDJSON answer's rows and how
// long the whole exchange took, reading the answer included.
func (c *client) query(ctx context.Context, q string, from, to time.Time, limit int) ([]map[string]string, time.Duration, error) {
	form := c.sys.queryForm(q, from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano), strconv.Itoa(limit))
	start := time.Now()
	body, retries, err := c.post(ctx, c.sys.queryPath(), "application/x-www-form-urlencoded", []byte(form.Encode()))
	took := time.Since(start)
	c.queryRetries.Add(int64(retries))
	if err != nil {
		return nil, took, fmt.Errorf("query %q: %w", q, err)
	}
	rows, err := decodeRows(bytes.NewReader(body))
	if err != nil {
		return nil, took, fmt.Errorf("query %q: %w", q, err)
	}
	return rows, took, nil
}

// explainCost is the store's account of one search as Sluice's explain
// answers it (the plan's "cost"): what the index let it skip and what it
// read.
type explainCost struct {
	Parts              int64 `json:"parts"`
	PartsSkipped       int64 `json:"parts_skipped"`
	Blocks             int64 `json:"blocks"`
	BlocksSkippedTime  int64 `json:"blocks_skipped_time"`
	BlocksSkippedIndex int64 `json:"blocks_skipped_index"`
	BlocksRead         int64 `json:"blocks_read"`
	BytesRead          int64 `json:"bytes_read"`
	HeadRecords        int64 `json:"head_records"`
	RecordsMatched     int64 `json:"records_matched"`
}

// explain runs q through Sluice's explain endpoint over [from, to) and
// returns the cost the store measured.
func (c *client) explain(ctx context.Context, q string, from, to time.Time) (*explainCost, error) {
	form := c.sys.queryForm(q, from.UTC().Format(time.RFC3339Nano), to.UTC().Format(time.RFC3339Nano), strconv.Itoa(statsLimit))
	body, _, err := c.post(ctx, explainPath, formContentType, []byte(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("explain %q: %w", q, err)
	}
	// The plan's cost is store.SearchStats, whose JSON names are its Go
	// field names; decoding matches them regardless of case.
	var plan struct {
		Cost *struct {
			Parts, PartsSkipped, Blocks, BlocksSkippedTime, BlocksSkippedIndex int64
			BlocksRead, BytesRead, HeadRecords, RecordsMatched                 int64
		} `json:"cost"`
	}
	if err := json.Unmarshal(body, &plan); err != nil {
		return nil, fmt.Errorf("explain %q: decode plan: %w", q, err)
	}
	if plan.Cost == nil {
		return nil, fmt.Errorf("explain %q: plan has no cost: %s", q, snippet(body))
	}
	k := plan.Cost
	return &explainCost{
		Parts: k.Parts, PartsSkipped: k.PartsSkipped, Blocks: k.Blocks,
		BlocksSkippedTime: k.BlocksSkippedTime, BlocksSkippedIndex: k.BlocksSkippedIndex,
		BlocksRead: k.BlocksRead, BytesRead: k.BytesRead, HeadRecords: k.HeadRecords, RecordsMatched: k.RecordsMatched,
	}, nil
}

// decodeRows reads a stream of JSON objects (one per line) and turns every
// value into text: strings as they are, numbers as written, anything else
// as its JSON.
func decodeRows(r io.Reader) ([]map[string]string, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var rows []map[string]string
	for {
		var obj map[string]any
		err := dec.Decode(&obj)
		if errors.Is(err, io.EOF) {
			return rows, nil
		}
		if err != nil {
			return nil, fmt.Errorf("decode answer row %d: %w", len(rows), err)
		}
		if obj == nil {
			return nil, fmt.Errorf("decode answer row %d: not an object", len(rows))
		}
		row := make(map[string]string, len(obj))
		for k, v := range obj {
			switch v := v.(type) {
			case string:
				row[k] = v
			case json.Number:
				row[k] = v.String()
			default:
				b, err := json.Marshal(v)
				if err != nil {
					return nil, fmt.Errorf("decode answer row %d field %s: %w", len(rows), k, err)
				}
				row[k] = string(b)
			}
		}
		rows = append(rows, row)
	}
}

// queryResult is how one bench query fared over its repetitions.
type queryResult struct {
	Name     string `json:"name"`
	Query    string `json:"query"`
	MedianMs figure `json:"median_ms"`
	// P90Ms and MaxMs are the 90th percentile and the slowest of the
	// repetitions, NaN (null) below tailRepeats of them.
	P90Ms   figure `json:"p90_ms"`
	MaxMs   figure `json:"max_ms"`
	Correct bool   `json:"correct"`
	Want    string `json:"want"`
	Error   string `json:"error,omitempty"`
	// Explain is Sluice's explain cost of one more run of the query; nil
	// for VictoriaLogs, which has no such figures, or when explain failed
	// (ExplainError). It does not decide correctness.
	Explain      *explainCost `json:"explain,omitempty"`
	ExplainError string       `json:"explain_error,omitempty"`
}

// tailRepeats is the fewest repetitions of a query whose 90th percentile
// and maximum are reported: of fewer, the tail is one or two draws.
const tailRepeats = 10

// statsLimit is the row limit sent with stats queries: above any row count
// the bench queries produce (the histogram's 1440 buckets).
const statsLimit = 10000

// runQueries runs every query repeat times and checks every answer.
func runQueries(ctx context.Context, c *client, qs []gen.Query, from, to time.Time, repeat int) []queryResult {
	var out []queryResult
	for _, q := range qs {
		text := q.Sluice
		if c.sys.vlogs {
			text = q.LogsQL
		}
		res := queryResult{Name: q.Name, Query: text, Want: q.Want.String(), Correct: true}
		var ms []float64
		for range repeat {
			rows, took, err := c.query(ctx, text, from, to, statsLimit)
			if err == nil {
				ms = append(ms, float64(took)/float64(time.Millisecond))
				err = q.Want.Check(rows)
			}
			if err != nil {
				res.Correct = false
				res.Error = err.Error()
				break
			}
		}
		res.MedianMs, res.P90Ms, res.MaxMs = figure(median(ms)), figure(math.NaN()), figure(math.NaN())
		if len(ms) >= tailRepeats {
			res.P90Ms, res.MaxMs = figure(percentile(ms, 90)), figure(percentile(ms, 100))
		}
		if !c.sys.vlogs {
			cost, err := c.explain(ctx, text, from, to)
			if err != nil {
				res.ExplainError = err.Error()
			}
			res.Explain = cost
		}
		out = append(out, res)
	}
	return out
}
