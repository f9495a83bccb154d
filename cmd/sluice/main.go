// Command sluice is the one Sluice binary: the server and the client
// commands that talk to it.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// version is set at build time with -ldflags "-X main.version=…".
var version = "dev"

type command struct {
	name    string
	summary string
	run     func(args []string, stdout, stderr io.Writer) error
}

func commands() []command {
	return []command{
		{"serve", "run the server: all-in-one (receivers, WAL, store, query API) or a scale-out role (--role)", runServe},
		{"query", "run a query against a server and print the results", runQuery},
		{"tail", "follow newly ingested records that match a query", runTail},
		{"verify", "check the integrity of a data directory's parts and manifest", runVerify},
		{"repair", "salvage damaged write-ahead log segments and parts from what is readable (server stopped)", runRepair},
		{"trust", "make the signing key that makes tampering with a data directory evident (trust keygen)", runTrust},
		{"quarantine", "list, drop or restore a server's quarantined (damaged) parts", runQuarantine},
		{"keys", "create, list or revoke API keys in a keys file (auth.keys_file)", runKeys},
		{"config", "print the default configuration or check a configuration file", runConfig},
		{"agent", "tail log files and containers' logs and ship them to a server (agent --config agent.yaml)", runAgent},
		{"pipeline", "test a processing pipeline: its own test cases, then what sample lines become", runPipeline},
		{"healthcheck", "probe a local server's /readyz or /healthz (the image's health check)", runHealthcheck},
		{"autoscale", "scale the indexers on lag, rate and trend; or score policies (autoscale simulate)", runAutoscale},
		{"dlq", "replay an indexer's dead-letter topic (dlq replay) once the cause is fixed", runDLQ},
		{"version", "print the version", func([]string, io.Writer, io.Writer) error { fmt.Println("sluice", version); return nil }},
	}
}

const usageHead = `Sluice is a log platform in one binary: it receives logs (JSON lines, the
Elasticsearch _bulk API, Fluentd forward, syslog, OTLP, Loki push), makes
them durable in a write-ahead log before acknowledging, stores them
compressed, indexed and tamper-evident, and answers queries from this CLI,
the HTTP API and the web UI at http://127.0.0.1:9280/.

Usage:
  sluice <command> [flags] [arguments]

Commands:
`

const usageTail = `
Examples:
  sluice serve                                  # data in ./sluice-data, HTTP on 127.0.0.1:9280
  sluice serve --config sluice.yaml --data-dir /var/lib/sluice
  curl -XPOST 127.0.0.1:9280/insert/jsonline --data-binary '{"service":"api","level":"error","_msg":"timeout"}'
  sluice query 'level:error' --since 1h
  sluice query '* | stats count() as n by level'
  sluice tail 'service:api'

Run 'sluice <command> --help' for a command's flags.
`

func usage(w io.Writer) {
	fmt.Fprint(w, usageHead)
	for _, c := range commands() {
		fmt.Fprintf(w, "  %-11s %s\n", c.name, c.summary)
	}
	fmt.Fprint(w, usageTail)
}

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

func run(args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "--help" || args[0] == "help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands() {
		if c.name != args[0] {
			continue
		}
		err := c.run(args[1:], stdout, stderr)
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		var ue usageError
		var pe partialError
		if errors.As(err, &pe) {
			// The results went out; what they lack goes to stderr.
			fmt.Fprintf(stderr, "sluice %s: %v\n", c.name, err)
			return 3
		}
		if errors.As(err, &ue) {
			fmt.Fprintf(stderr, "sluice %s: %v\nRun 'sluice %s --help' for usage.\n", c.name, err, c.name)
			return 2
		}
		if err != nil {
			fmt.Fprintf(stderr, "sluice %s: %v\n", c.name, err)
			return 1
		}
		return 0
	}
	fmt.Fprintf(stderr, "sluice: unknown command %q\n\n", args[0])
	usage(stderr)
	return 2
}

// usageError is a mistake in the command line (exit status 2).
type usageError struct{ error }

func usagef(format string, args ...any) error { return usageError{fmt.Errorf(format, args...)} }

// newFlagSet makes a flag set whose --help prints the command's description.
func newFlagSet(name, synopsis, description string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprintf(stderr, "Usage: sluice %s\n\n%s\n\nFlags:\n", synopsis, strings.TrimSpace(description))
		fs.PrintDefaults()
	}
	return fs
}

// parseInterleaved parses flags that may come before or after positional
// arguments (sluice query 'level:error' --since 1h) and returns the
// positional ones.
func parseInterleaved(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, err
			}
			return nil, usageError{err}
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if rest[0] == "--" {
			return append(pos, rest[1:]...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}
