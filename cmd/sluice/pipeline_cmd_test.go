package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestPipelineTestCommand(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.yaml")
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(good, []byte(`
processors:
  - {type: parse_logfmt}
  - {type: drop, name: nodebug, if: level:debug}
tests:
  - {name: pairs, input: 'level=info msg=hi', expect: {_msg: hi, level: info}}
`), 0o644)
	os.WriteFile(bad, []byte("processors: [{type: set, fields: {a: b}}]\ntests: [{name: wrong, input: x, expect: {_msg: y}}]\n"), 0o644)

	var out, errb bytes.Buffer
	in := strings.NewReader("level=warn msg=\"disk full\" pct=91\nlevel=debug msg=x\nplain text\n")
	if err := runPipelineWith([]string{"test", "--config", good}, in, &out, &errb); err != nil {
		t.Fatalf("%v\n%s", err, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], `"_msg":"disk full","level":"warn","pct":"91"`) || !strings.Contains(lines[1], `"_msg":"plain text"`) {
		t.Errorf("stdout:\n%s", out.String())
	}
	for _, want := range []string{"ok   pairs", "1 tests, 0 failed", "line 2: dropped by step nodebug", "line 3: step parse_logfmt could not process it"} {
		if !strings.Contains(errb.String(), want) {
			t.Errorf("stderr lacks %q:\n%s", want, errb.String())
		}
	}

	out.Reset()
	errb.Reset()
	in = strings.NewReader(`{"_msg":"level=info msg=from-json","_stream":{"app":"a"},"k":"v"}` + "\n")
	if err := runPipelineWith([]string{"test", "--json", "--config", good}, in, &out, &errb); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), `"_stream":"{app=\"a\"}","_msg":"from-json","app":"a","k":"v","level":"info"`) {
		t.Errorf("--json: %s", out.String())
	}

	errb.Reset()
	err := runPipelineWith([]string{"test", "--config", bad}, strings.NewReader(""), &out, &errb)
	if err == nil || !strings.Contains(err.Error(), "1 of 1 tests failed") || !strings.Contains(errb.String(), "FAIL wrong") {
		t.Errorf("failing tests: %v\n%s", err, errb.String())
	}
	if code := run([]string{"pipeline", "test"}, &out, &errb); code != 2 {
		t.Errorf("no --config: exit %d", code)
	}
}
