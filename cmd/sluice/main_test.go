package main

import (
	"bytes"
	"flag"
	"strings"
	"testing"
)

func TestRunUsage(t *testing.T) {
	tests := []struct {
		args     []string
		code     int
		inStdout string
		inStderr string
	}{
		{args: nil, code: 0, inStdout: "Commands:"},
		{args: []string{"--help"}, code: 0, inStdout: "sluice query 'level:error' --since 1h"},
		{args: []string{"frobnicate"}, code: 2, inStderr: `unknown command "frobnicate"`},
		{args: []string{"query"}, code: 2, inStderr: "want exactly one QUERY argument"},
		{args: []string{"query", "x", "--since", "soon"}, code: 2, inStderr: "--since"},
		{args: []string{"serve", "--help"}, code: 0, inStderr: "SIGTERM"},
		{args: []string{"config", "defaults"}, code: 0, inStdout: "max_size: 1GiB"},
		{args: []string{"config", "check", "/nonexistent.yaml"}, code: 1, inStderr: "open config"},
		{args: []string{"config"}, code: 2, inStderr: "want 'defaults' or 'check FILE'"},
		{args: []string{"query", "*", "--server", "http://127.0.0.1:1"}, code: 1, inStderr: "is 'sluice serve' running?"},
		{args: []string{"healthcheck", "--help"}, code: 0, inStderr: "HEALTHCHECK CMD"},
		{args: []string{"healthcheck", "--endpoint", "metrics"}, code: 2, inStderr: `unknown endpoint "metrics"`},
		{args: []string{"healthcheck", "--addr", "127.0.0.1:1"}, code: 1, inStderr: "GET http://127.0.0.1:1/readyz: dial tcp"},
		{args: []string{"healthcheck", "--config", "/nonexistent.yaml"}, code: 1, inStderr: "open config"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := run(tt.args, &stdout, &stderr)
			if code != tt.code || !strings.Contains(stdout.String(), tt.inStdout) || !strings.Contains(stderr.String(), tt.inStderr) {
				t.Errorf("exit %d (want %d)\nstdout: %s\nstderr: %s", code, tt.code, stdout.String(), stderr.String())
			}
		})
	}
}

func TestParseInterleaved(t *testing.T) {
	fs := flag.NewFlagSet("t", flag.ContinueOnError)
	since := fs.String("since", "", "")
	asJSON := fs.Bool("json", false, "")
	pos, err := parseInterleaved(fs, []string{"level:error", "--since", "1h", "--json", "--", "-literal"})
	if err != nil {
		t.Fatal(err)
	}
	if *since != "1h" || !*asJSON || len(pos) != 2 || pos[0] != "level:error" || pos[1] != "-literal" {
		t.Errorf("since=%q json=%v pos=%q", *since, *asJSON, pos)
	}
}

func TestFormatRecord(t *testing.T) {
	row, err := decodeRow([]byte(`{"_time":"2024-05-01T12:00:00.5Z","_stream":"{service=\"api\"}","_msg":"upstream timeout","service":"api","level":"error","path":"/a b"}`))
	if err != nil {
		t.Fatal(err)
	}
	got := formatRecord(row)
	want := `2024-05-01T12:00:00.500Z {service="api"} upstream timeout  level=error  path="/a b"`
	if got != want {
		t.Errorf("got  %s\nwant %s", got, want)
	}
}

func TestPrintTable(t *testing.T) {
	var out bytes.Buffer
	_, rows, err := printRows(newAnswerLines(strings.NewReader(`{"level":"error","n":12}`+"\n"+`{"level":"info","n":4031}`+"\n")), &out)
	if err != nil || rows != 2 {
		t.Fatal(rows, err)
	}
	want := "level  n\nerror  12\ninfo   4031\n"
	if out.String() != want {
		t.Errorf("got\n%s\nwant\n%s", out.String(), want)
	}
}
