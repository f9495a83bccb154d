package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"sort"
	"time"
)

// rec is one generated record, parsed once before any timing so that every
// receiver sends the same records and the clients' work is only encoding
// their protocol.
type rec struct {
	line   []byte  // the JSON line as generated, without the newline
	time   int64   // _time, Unix ns
	msg    string  // _msg
	fields []field // the other fields, sorted by name; numbers as their text
}

type field struct{ name, value string }

// get returns the value of the named field, or "".
func (r *rec) get(name string) string {
	for _, f := range r.fields {
		if f.name == name {
			return f.value
		}
	}
	return ""
}

// parseLines parses JSON lines of flat objects with _time (RFC 3339) and
// _msg, as bench/gen writes them.
func parseLines(data []byte) ([]rec, error) {
	var out []rec
	for n := 1; len(data) > 0; n++ {
		line := data
		if i := bytes.IndexByte(data, '\n'); i >= 0 {
			line, data = data[:i], data[i+1:]
		} else {
			data = nil
		}
		if len(line) == 0 {
			continue
		}
		r, err := parseLine(line)
		if err != nil {
			return nil, fmt.Errorf("parse generated line %d: %w", n, err)
		}
		out = append(out, r)
	}
	return out, nil
}

func parseLine(line []byte) (rec, error) {
	d := json.NewDecoder(bytes.NewReader(line))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		return rec{}, err
	}
	r := rec{line: line}
	ts, ok := m["_time"].(string)
	if !ok {
		return rec{}, fmt.Errorf("no string _time")
	}
	t, err := time.Parse(time.RFC3339Nano, ts)
	if err != nil {
		return rec{}, fmt.Errorf("_time: %w", err)
	}
	r.time = t.UnixNano()
	if r.msg, ok = m["_msg"].(string); !ok {
		return rec{}, fmt.Errorf("no string _msg")
	}
	for k, v := range m {
		if k == "_time" || k == "_msg" {
			continue
		}
		switch v := v.(type) {
		case string:
			r.fields = append(r.fields, field{k, v})
		case json.Number:
			r.fields = append(r.fields, field{k, v.String()})
		case bool:
			r.fields = append(r.fields, field{k, fmt.Sprint(v)})
		default:
			return rec{}, fmt.Errorf("field %q: %T values are not supported", k, v)
		}
	}
	sort.Slice(r.fields, func(i, j int) bool { return r.fields[i].name < r.fields[j].name })
	return r, nil
}

// batches splits recs into consecutive slices of at most size records.
func batches(recs []rec, size int) [][]rec {
	var out [][]rec
	for len(recs) > 0 {
		n := min(size, len(recs))
		out = append(out, recs[:n])
		recs = recs[n:]
	}
	return out
}
