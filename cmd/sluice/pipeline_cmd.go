package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/sluice-log/sluice/internal/agent"
	"github.com/sluice-log/sluice/internal/process"
	"github.com/sluice-log/sluice/internal/record"
)

func runPipeline(args []string, stdout, stderr io.Writer) error {
	return runPipelineWith(args, os.Stdin, stdout, stderr)
}

func runPipelineWith(args []string, stdin io.Reader, stdout, stderr io.Writer) error {
	fs := newFlagSet("pipeline", "pipeline test --config FILE [--json] < sample.log", `
'pipeline test' builds the processing pipeline of FILE (a pipeline file, as
the server's pipeline.file names, or an agent configuration), runs the
test cases the file carries and reports them on stderr, then reads lines
from the standard input (unless it is a terminal) and prints what each
becomes, one JSON object per record as queries return them. A record a
step dropped, and a step that could not process a record, are reported on
stderr. Each line is a record's message; with --json each line is a
record as test cases write one ({"_msg": …, "_time": …, "_stream": {…},
"field": …}). The exit status is 1 when a test case failed.

  sluice pipeline test --config pipeline.yaml < sample.log
  sluice pipeline test --config agent.yaml < /dev/null    # its tests only`, stderr)
	cfgPath := fs.String("config", "", "pipeline or agent configuration `file` (required)")
	asJSON := fs.Bool("json", false, "read each input line as a JSON record instead of a message")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 || pos[0] != "test" {
		return usagef("want 'pipeline test --config FILE'")
	}
	if *cfgPath == "" {
		return usagef("--config is required")
	}
	pc, err := loadPipelineConfig(*cfgPath)
	if err != nil {
		return err
	}
	p, err := pc.Build(process.Options{})
	if err != nil {
		return fmt.Errorf("%s: %w", *cfgPath, err)
	}
	results := pc.RunTests()
	failed := 0
	for _, r := range results {
		if r.Err != nil {
			failed++
			fmt.Fprintf(stderr, "FAIL %s\n     %v\n", r.Name, r.Err)
			continue
		}
		fmt.Fprintf(stderr, "ok   %s\n", r.Name)
	}
	fmt.Fprintf(stderr, "%d tests, %d failed; pipeline: %s\n", len(results), failed, p)

	if f, ok := stdin.(*os.File); !ok || !isTerminal(f) {
		if err := traceLines(p, stdin, *asJSON, stdout, stderr); err != nil {
			return err
		}
	}
	if failed > 0 {
		return fmt.Errorf("%d of %d tests failed", failed, len(results))
	}
	return nil
}

// loadPipelineConfig reads the pipeline part of a pipeline file or of an
// agent configuration.
func loadPipelineConfig(path string) (process.Config, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return process.Config{}, fmt.Errorf("read pipeline: %w", err)
	}
	var top map[string]yaml.Node
	if yaml.Unmarshal(b, &top) == nil {
		if _, ok := top["inputs"]; ok {
			c, err := agent.Load(path)
			return c.Pipeline, err
		}
	}
	return process.LoadConfig(path)
}

func isTerminal(f *os.File) bool {
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

// traceLines runs every input line through p and prints what comes out.
func traceLines(p *process.Pipeline, in io.Reader, asJSON bool, stdout, stderr io.Writer) error {
	sc := bufio.NewScanner(in)
	sc.Buffer(make([]byte, 64<<10), 16<<20)
	w := bufio.NewWriter(stdout)
	defer w.Flush()
	var buf []byte
	for n := 1; sc.Scan(); n++ {
		line := sc.Bytes()
		r := record.Record{Time: time.Now().UnixNano(), Message: string(line)}
		if asJSON {
			var err error
			if r, err = process.ParseRecord(line, time.Now()); err != nil {
				fmt.Fprintf(stderr, "line %d: %v\n", n, err)
				continue
			}
		}
		kept, droppedBy, failed := p.Trace(&r)
		for _, step := range failed {
			fmt.Fprintf(stderr, "line %d: step %s could not process it\n", n, step)
		}
		if !kept {
			fmt.Fprintf(stderr, "line %d: dropped by step %s\n", n, droppedBy)
			continue
		}
		buf = append(record.AppendJSON(buf[:0], &r), '\n')
		if _, err := w.Write(buf); err != nil {
			return err
		}
	}
	return sc.Err()
}
