package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
)

// TestContextMarksOnlyMatches: with whole-second timestamps the records at
// a hit's time include records that did not match; only the matching ones
// are marked, and a second hit already shown is not shown again.
func TestContextMarksOnlyMatches(t *testing.T) {
	rec := func(msg string) string {
		return `{"_time":"2024-05-01T10:00:00Z","_stream":"{app=\"a\"}","_msg":"` + msg + `","app":"a"}`
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/context" {
			http.NotFound(w, r)
			return
		}
		_, _ = w.Write([]byte(`{"before":[` + strings.Replace(rec("before"), "10:00:00", "09:59:59", 1) + `],"at":[` +
			rec("other one") + `,` + rec("error one") + `,` + rec("other two") + `,` + rec("error two") + `],"after":[]}`))
	}))
	defer srv.Close()
	answer := rec("error two") + "\n" + rec("error one") + "\n"
	c := &clientFlags{server: srv.URL, client: srv.Client()}
	var out bytes.Buffer
	if _, err := printWithContext(context.Background(), c, newAnswerLines(strings.NewReader(answer)), &out, 1); err != nil {
		t.Fatal(err)
	}
	var marks []string
	for _, l := range strings.Split(strings.TrimRight(out.String(), "\n"), "\n") {
		for _, m := range []string{"before", "other one", "error one", "other two", "error two"} {
			if strings.Contains(l, m) {
				marks = append(marks, l[:1]+m)
			}
		}
	}
	want := []string{" before", " other one", ">error one", " other two", ">error two"}
	if strings.Join(marks, "|") != strings.Join(want, "|") {
		t.Errorf("got\n%s\nwant marks %q", out.String(), want)
	}
}

// TestTailLastN: tail -n prints the last N stored records oldest first,
// then the live ones, without repeating a record that is in both.
func TestTailLastN(t *testing.T) {
	rec := func(sec, msg string) string {
		return `{"_time":"2024-05-01T10:00:0` + sec + `Z","_stream":"{app=\"a\"}","_msg":"` + msg + `"}`
	}
	var queried url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		switch r.URL.Path {
		case "/api/v1/query": // newest first
			queried = r.Form
			_, _ = w.Write([]byte(rec("3", "three") + "\n" + rec("2", "two") + "\n"))
		case "/api/v1/tail": // "three" was stored after the tail subscribed
			_, _ = w.Write([]byte(rec("3", "three") + "\n" + rec("4", "four") + "\n"))
		}
	}))
	defer srv.Close()
	var out, errs bytes.Buffer
	err := runTail([]string{"-n", "2", "app:a", "--server", srv.URL}, &out, &errs)
	if err == nil || !strings.Contains(err.Error(), "ended the live tail") {
		t.Fatalf("runTail: %v, %s", err, errs.String())
	}
	var msgs []string
	for _, l := range strings.Split(strings.TrimSpace(out.String()), "\n") {
		msgs = append(msgs, l[strings.LastIndex(l, " ")+1:])
	}
	if strings.Join(msgs, " ") != "two three four" || queried.Get("limit") != "2" || queried.Get("query") != "app:a" {
		t.Errorf("printed %q (query %v), want two three four", msgs, queried)
	}
}

// TestPrintTotal: the total goes to stderr; a search cut by its limit
// asks the server how many matched in all.
func TestPrintTotal(t *testing.T) {
	var asked url.Values
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		asked = r.Form
		_, _ = w.Write([]byte(`{"step":"1d","total":57,"buckets":[]}`))
	}))
	defer srv.Close()
	c := &clientFlags{server: srv.URL, client: srv.Client()}
	for _, tt := range []struct {
		q                    string
		records, rows, limit int
		want                 string
	}{
		{"level:error", 2, 0, 2, "2 records (the newest 2 of 57 that matched; --limit shows more)\n"},
		{"level:error", 1, 0, 2, "1 record\n"},
		{"* | stats count() by level", 0, 3, 2, "3 rows\n"},
		{"nothing", 0, 0, 2, "no records matched\n"},
	} {
		var errs bytes.Buffer
		printTotal(context.Background(), c, &errs, url.Values{"query": {tt.q}}, tt.records, tt.rows, tt.limit)
		if errs.String() != tt.want {
			t.Errorf("%s: %q, want %q", tt.q, errs.String(), tt.want)
		}
	}
	if asked.Get("from") != "0" || asked.Get("query") != "level:error" {
		t.Errorf("hits asked with %v, want all time", asked)
	}
}
