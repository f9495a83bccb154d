package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"text/tabwriter"
	"time"

	"github.com/sluice-log/sluice/internal/api"
	"github.com/sluice-log/sluice/internal/config"
)

// clientFlags are the flags every command that talks to a server shares.
type clientFlags struct {
	server string
	tenant string
	json   bool
	// keyFile holds the API key to send (else SLUICE_API_KEY).
	keyFile string
	// TLS: the client certificate a server with http.tls_client_ca_file
	// asks for, and the CA of a server whose certificate the system does
	// not trust.
	tlsCert, tlsKey, tlsCA string
	client                 *http.Client
}

func (c *clientFlags) register(fs *flag.FlagSet) {
	def := os.Getenv("SLUICE_SERVER")
	if def == "" {
		def = "http://" + config.DefaultHTTPAddr
	}
	fs.StringVar(&c.server, "server", def, "`URL` of the Sluice server (or set SLUICE_SERVER)")
	fs.StringVar(&c.tenant, "tenant", "", "`tenant` to query (sent as X-Scope-OrgID); empty is the default tenant, or the key's first tenant")
	fs.StringVar(&c.keyFile, "api-key-file", "", "`file` holding the API key to send (or set SLUICE_API_KEY); for servers with auth.enabled")
	fs.BoolVar(&c.json, "json", false, "print the server's NDJSON unchanged, for machines")
	fs.StringVar(&c.tlsCert, "tls-cert", os.Getenv("SLUICE_TLS_CERT"), "PEM client certificate `file` for a server that requires one (or set SLUICE_TLS_CERT)")
	fs.StringVar(&c.tlsKey, "tls-key", os.Getenv("SLUICE_TLS_KEY"), "PEM private key `file` of --tls-cert (or set SLUICE_TLS_KEY)")
	fs.StringVar(&c.tlsCA, "tls-ca", os.Getenv("SLUICE_TLS_CA"), "PEM CA `file` that signed the server's certificate, when the system does not trust it (or set SLUICE_TLS_CA)")
}

// httpClient is the client the TLS flags ask for.
func (c *clientFlags) httpClient() (*http.Client, error) {
	if c.client != nil {
		return c.client, nil
	}
	if c.tlsCert == "" && c.tlsKey == "" && c.tlsCA == "" {
		c.client = http.DefaultClient
		return c.client, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if c.tlsCert != "" || c.tlsKey != "" {
		cert, err := tls.LoadX509KeyPair(c.tlsCert, c.tlsKey)
		if err != nil {
			return nil, fmt.Errorf("load --tls-cert and --tls-key: %w", err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	if c.tlsCA != "" {
		pem, err := os.ReadFile(c.tlsCA)
		if err != nil {
			return nil, fmt.Errorf("read --tls-ca: %w", err)
		}
		tc.RootCAs = x509.NewCertPool()
		if !tc.RootCAs.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("--tls-ca %s holds no PEM certificate", c.tlsCA)
		}
	}
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.TLSClientConfig = tc
	c.client = &http.Client{Transport: tr}
	return c.client, nil
}

// apiKey is the key to send: --api-key-file's, else SLUICE_API_KEY's
// (never a flag's value, which other users could read in the process
// list).
func (c *clientFlags) apiKey() (string, error) {
	if c.keyFile == "" {
		return strings.TrimSpace(os.Getenv("SLUICE_API_KEY")), nil
	}
	b, err := os.ReadFile(c.keyFile)
	if err != nil {
		return "", fmt.Errorf("--api-key-file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

func (c *clientFlags) request(ctx context.Context, path string, form url.Values) (*http.Response, error) {
	u := strings.TrimSuffix(c.server, "/") + path
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, u, strings.NewReader(form.Encode()))
	if err != nil {
		return nil, fmt.Errorf("bad --server %q: %w", c.server, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	if c.tenant != "" {
		req.Header.Set("X-Scope-OrgID", c.tenant)
	}
	key, err := c.apiKey()
	if err != nil {
		return nil, err
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	client, err := c.httpClient()
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, fmt.Errorf("cannot reach Sluice at %s: %w (is 'sluice serve' running? use --server)", c.server, err)
	}
	if resp.StatusCode != http.StatusOK {
		defer resp.Body.Close()
		body, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		var e struct {
			Error string `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error != "" {
			return nil, errors.New(e.Error)
		}
		return nil, fmt.Errorf("server answered %s: %s", resp.Status, strings.TrimSpace(string(body)))
	}
	return resp, nil
}

func runQuery(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("query", "query [flags] QUERY", `
Runs QUERY against a running server and prints the results: records newest
first, or one row per group for a stats query. See docs/query.md.

Examples:
  sluice query 'level:error' --since 1h
  sluice query 'service:payments AND status:>=500' --limit 20
  sluice query '"connection refused"' --from 2024-05-01T00:00:00Z --to 2024-05-02T00:00:00Z
  sluice query 'level:error | stats count() as n by service | sort by n desc | limit 10'
  sluice query '* | stats count() as n by _time:1h' --json
  sluice query 'level:error' --context 5     (each hit with 5 records before and after in its stream)
  sluice query 'service:api | stats count() by level' --explain

Without --since or --from every stored record is searched (all time), up to
now unless --to says otherwise; a search prints the newest --limit records
(100), newest first. The total (records or rows printed, and how many
matched in all when the limit cut the answer) goes to stderr, so stdout
holds only the results.`, stderr)
	var c clientFlags
	c.register(fs)
	since := fs.String("since", "", "only records newer than this `duration` ago, e.g. 15m, 1h, 7d")
	from := fs.String("from", "", "start `time`: RFC 3339, now-1h, now-1d/d, or Unix seconds (default: all time)")
	to := fs.String("to", "", "end `time` (exclusive): RFC 3339, now, now/d, or Unix seconds (default: now)")
	limit := fs.Int("limit", 100, "most `records` to print for a search (stats queries return every group)")
	explain := fs.Bool("explain", false, "print the query's plan and its cost (parts and blocks read and skipped) instead of its rows")
	contextN := fs.Int("context", 0, "print each hit with this many `records` before and after it in its stream")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("want exactly one QUERY argument (quote it), got %d", len(pos))
	}
	if *since != "" {
		if *from != "" {
			return usagef("--since and --from exclude each other")
		}
		if _, err := config.ParseDuration(*since); err != nil {
			return usagef("--since: %v", err)
		}
		*from = "now-" + *since
	}
	form := url.Values{"query": {pos[0]}, "limit": {fmt.Sprint(*limit)}}
	if *from != "" {
		form.Set("from", *from)
	}
	if *to != "" {
		form.Set("to", *to)
	}
	if *contextN < 0 || *contextN > 1000 {
		return usagef("--context wants 0 to 1000 records, got %d", *contextN)
	}
	if *explain && *contextN > 0 {
		return usagef("--explain and --context exclude each other")
	}
	if *explain {
		form.Set("explain", "1")
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	resp, err := c.request(ctx, "/api/v1/query", form)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	lines := newAnswerLines(resp.Body)
	switch {
	case *explain && !c.json:
		partial, err := printPlan(resp.Body, stdout)
		return partialOr(partial, err)
	case *explain:
		var plan struct {
			Partial *api.Partial `json:"partial"`
		}
		body, err := io.ReadAll(resp.Body)
		if err == nil {
			_, err = stdout.Write(body)
			_ = json.Unmarshal(body, &plan)
		}
		return partialOr(plan.Partial, err)
	case *contextN > 0:
		partial, err := printWithContext(ctx, &c, lines, stdout, *contextN)
		return partialOr(lines.partial.Merge(partial), err)
	case c.json:
		for lines.keep = true; lines.scan(); {
			if _, err := fmt.Fprintf(stdout, "%s\n", lines.line); err != nil {
				return err
			}
		}
		return partialOr(lines.partial, lines.err())
	}
	records, rows, err := printRows(lines, stdout)
	if err == nil {
		printTotal(ctx, &c, stderr, form, records, rows, *limit)
	}
	return partialOr(lines.partial, err)
}

// partialError says that the server's answer was partial: what it lacks is
// printed on stderr, and the command exits with status 3 after printing
// the results.
type partialError struct{ p *api.Partial }

func (e partialError) Error() string { return e.p.String() }

// partialOr returns err, or a partialError when the answer was complete
// but for what p names.
func partialOr(p *api.Partial, err error) error {
	if err == nil && p != nil {
		return partialError{p}
	}
	return err
}

// answerLines reads an NDJSON answer line by line, setting aside its
// partial-answer line (see internal/api) unless keep is set.
type answerLines struct {
	sc      *bufio.Scanner
	line    []byte
	keep    bool
	partial *api.Partial
}

func newAnswerLines(r io.Reader) *answerLines {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	return &answerLines{sc: sc}
}

// scan moves to the next line that is not blank.
func (a *answerLines) scan() bool {
	for a.sc.Scan() {
		a.line = a.sc.Bytes()
		if len(bytes.TrimSpace(a.line)) == 0 {
			continue
		}
		if p, ok := api.ParsePartialLine(a.line); ok {
			a.partial = a.partial.Merge(p)
			if !a.keep {
				continue
			}
		}
		return true
	}
	return false
}

func (a *answerLines) err() error {
	if err := a.sc.Err(); err != nil {
		return fmt.Errorf("read answer: %w", err)
	}
	return nil
}

func runTail(args []string, stdout, stderr io.Writer) error {
	fs := newFlagSet("tail", "tail [flags] [QUERY]", `
Follows the server's newly ingested records that match QUERY (a filter
without pipes; default *) and prints them as they arrive, until interrupted.

With -n N it first prints the last N matching records already stored
(oldest first), as tail -n does, then follows.

Examples:
  sluice tail 'service:api'
  sluice tail -n 20 'level:error'
  sluice tail 'level:error AND NOT service:batch' --json`, stderr)
	var c clientFlags
	c.register(fs)
	last := fs.Int("n", 0, "first print the last `N` matching records already stored")
	pos, err := parseInterleaved(fs, args)
	if err != nil {
		return err
	}
	if len(pos) > 1 {
		return usagef("want at most one QUERY argument (quote it)")
	}
	q := "*"
	if len(pos) == 1 {
		q = pos[0]
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGINT, syscall.SIGTERM)
	defer stop()
	resp, err := c.request(ctx, "/api/v1/tail", url.Values{"query": {q}})
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	// The tail is subscribed once its answer started: the last N records
	// read now overlap it rather than leave a gap, and those it sends
	// again are skipped.
	var printed map[string]bool
	if *last > 0 {
		if printed, err = printLast(ctx, &c, stdout, q, *last); err != nil {
			return err
		}
	}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(make([]byte, 64<<10), 64<<20)
	for sc.Scan() {
		line := sc.Bytes()
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		if len(printed) > 0 && printed[string(line)] {
			delete(printed, string(line))
			continue
		}
		if c.json {
			fmt.Fprintf(stdout, "%s\n", line)
		}
		row, err := decodeRow(line)
		if err != nil {
			return err
		}
		if len(row) == 2 && row[0].key == "_dropped" {
			// The server let this client go for reading too slowly.
			return errors.New(row[1].val)
		}
		if !c.json {
			fmt.Fprintln(stdout, formatRecord(row))
		}
	}
	if ctx.Err() != nil {
		return nil
	}
	if err := sc.Err(); err != nil {
		return fmt.Errorf("live tail interrupted: %w", err)
	}
	return errors.New("the server ended the live tail (shutting down?)")
}

// printLast prints the newest n stored records that match q, oldest
// first, and returns their lines.
func printLast(ctx context.Context, c *clientFlags, stdout io.Writer, q string, n int) (map[string]bool, error) {
	if n < 0 || n > 10000 {
		return nil, usagef("-n wants 0 to 10000 records, got %d", n)
	}
	resp, err := c.request(ctx, "/api/v1/query", url.Values{"query": {q}, "limit": {strconv.Itoa(n)}})
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	lines := newAnswerLines(resp.Body)
	var recs [][]byte
	for lines.scan() {
		recs = append(recs, bytes.Clone(lines.line))
	}
	if err := lines.err(); err != nil {
		return nil, err
	}
	printed := map[string]bool{}
	for i := len(recs) - 1; i >= 0; i-- {
		printed[string(recs[i])] = true
		if c.json {
			fmt.Fprintf(stdout, "%s\n", recs[i])
			continue
		}
		row, err := decodeRow(recs[i])
		if err != nil {
			return nil, err
		}
		if len(row) > 0 && row[0].key == "error" {
			return nil, fmt.Errorf("reading the last %d records failed: %s", n, row[0].val)
		}
		fmt.Fprintln(stdout, formatRecord(row))
	}
	return printed, nil
}

// kv is one key and value of a result row, in the server's order.
type kv struct {
	key string
	val string
}

// decodeRow reads one NDJSON object keeping its key order.
func decodeRow(line []byte) ([]kv, error) {
	dec := json.NewDecoder(bytes.NewReader(line))
	dec.UseNumber()
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, fmt.Errorf("unexpected answer line %q", line)
	}
	var row []kv
	for dec.More() {
		k, err := dec.Token()
		if err != nil {
			return nil, fmt.Errorf("bad answer line %q: %w", line, err)
		}
		var v any
		if err := dec.Decode(&v); err != nil {
			return nil, fmt.Errorf("bad answer line %q: %w", line, err)
		}
		row = append(row, kv{key: fmt.Sprint(k), val: fmt.Sprint(v)})
	}
	return row, nil
}

// printRows prints records one per line, and stats rows as a table. It
// returns how many records, or else rows, it printed.
func printRows(lines *answerLines, w io.Writer) (records, rows int, err error) {
	var table [][]kv
	for lines.scan() {
		row, err := decodeRow(lines.line)
		if err != nil {
			return records, 0, err
		}
		if len(row) > 0 && row[0].key == "error" {
			return records, 0, fmt.Errorf("query failed midway: %s", row[0].val)
		}
		if isRecord(row) {
			fmt.Fprintln(w, formatRecord(row))
			records++
			continue
		}
		table = append(table, row)
	}
	if err := lines.err(); err != nil {
		return records, 0, err
	}
	if table != nil {
		return 0, len(table), printTable(table, w)
	}
	return records, 0, nil
}

// printTotal says on stderr (stdout stays data) how many records or rows
// the query printed; when a search printed as many records as its limit,
// it asks the server how many matched in all (/api/v1/hits).
func printTotal(ctx context.Context, c *clientFlags, stderr io.Writer, form url.Values, records, rows, limit int) {
	switch {
	case rows > 0:
		fmt.Fprintf(stderr, "%d rows\n", rows)
		return
	case records == 0:
		fmt.Fprintln(stderr, "no records matched")
		return
	case records == 1 && limit > 1:
		fmt.Fprintln(stderr, "1 record")
		return
	case records < limit:
		fmt.Fprintf(stderr, "%d records\n", records)
		return
	}
	total := int64(-1)
	hf := url.Values{"query": {form.Get("query")}, "from": {form.Get("from")}, "to": {form.Get("to")}}
	if hf.Get("from") == "" {
		hf.Set("from", "0") // the query's default: all time
	}
	if !strings.Contains(form.Get("query"), "|") {
		if resp, err := c.request(ctx, "/api/v1/hits", hf); err == nil {
			var h struct{ Total int64 }
			if resp.StatusCode == http.StatusOK && json.NewDecoder(resp.Body).Decode(&h) == nil {
				total = h.Total
			}
			resp.Body.Close()
		}
	}
	if total > int64(records) {
		fmt.Fprintf(stderr, "%d records (the newest %d of %d that matched; --limit shows more)\n", records, records, total)
		return
	}
	fmt.Fprintf(stderr, "%d records (the --limit; more may match)\n", records)
}

func isRecord(row []kv) bool {
	return len(row) >= 3 && row[0].key == "_time" && row[1].key == "_stream"
}

// formatRecord renders: time stream message key=value …
func formatRecord(row []kv) string {
	var b strings.Builder
	var extra []kv
	var ts, stream, msg string
	for _, f := range row {
		switch f.key {
		case "_time":
			ts = f.val
		case "_stream":
			stream = f.val
		case "_msg":
			msg = f.val
		default:
			extra = append(extra, f)
		}
	}
	if t, err := time.Parse(time.RFC3339Nano, ts); err == nil {
		ts = t.UTC().Format("2006-01-02T15:04:05.000Z")
	}
	b.WriteString(ts)
	b.WriteByte(' ')
	b.WriteString(stream)
	b.WriteByte(' ')
	b.WriteString(msg)
	for _, f := range extra {
		if strings.Contains(stream, f.key+`="`) {
			continue // already shown in the stream
		}
		b.WriteString("  ")
		b.WriteString(f.key)
		b.WriteByte('=')
		if strings.ContainsAny(f.val, " \t\"") {
			fmt.Fprintf(&b, "%q", f.val)
		} else {
			b.WriteString(f.val)
		}
	}
	return b.String()
}

func printTable(rows [][]kv, w io.Writer) error {
	var cols []string
	seen := map[string]bool{}
	for _, r := range rows {
		for _, f := range r {
			if !seen[f.key] {
				seen[f.key] = true
				cols = append(cols, f.key)
			}
		}
	}
	idx := map[string]int{}
	for i, c := range cols {
		idx[c] = i
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(cols, "\t"))
	for _, r := range rows {
		vals := make([]string, len(cols))
		for _, f := range r {
			vals[idx[f.key]] = f.val
		}
		fmt.Fprintln(tw, strings.Join(vals, "\t"))
	}
	return tw.Flush()
}

// printWithContext prints each hit between the n records before and after
// it in its stream. Among the records at the hit's time (the context
// answer's "at"), only those that matched the query are marked '>': with
// whole-second timestamps a second holds many records, most of them no
// hit. A hit already shown in an earlier block is not shown again.
func printWithContext(ctx context.Context, c *clientFlags, lines *answerLines, w io.Writer, n int) (*api.Partial, error) {
	var hits [][]kv
	matched := map[string]bool{} // the hits' JSON, as the context answer writes records
	for lines.scan() {
		row, err := decodeRow(lines.line)
		if err != nil {
			return nil, err
		}
		if len(row) > 0 && row[0].key == "error" {
			return nil, fmt.Errorf("query failed midway: %s", row[0].val)
		}
		if !isRecord(row) {
			return nil, fmt.Errorf("--context needs records, but the query returns rows (drop its stats, top or fields pipes)")
		}
		hits = append(hits, row)
		matched[string(lines.line)] = true
	}
	if err := lines.err(); err != nil {
		return nil, err
	}
	var partial *api.Partial
	shown := map[string]bool{}
	blocks := 0
	for _, row := range hits {
		if shown[formatRecord(row)] {
			continue
		}
		around, err := fetchContext(ctx, c, row[0].val, row[1].val, n)
		if err != nil {
			return partial, err
		}
		var parts struct {
			Before, At, After []json.RawMessage
			Partial           *api.Partial
		}
		if err := json.Unmarshal(around, &parts); err != nil {
			return partial, fmt.Errorf("read context answer: %w", err)
		}
		partial = partial.Merge(parts.Partial)
		if blocks++; blocks > 1 {
			fmt.Fprintln(w, "--")
		}
		if c.json {
			fmt.Fprintf(w, "%s\n", around)
			shown[formatRecord(row)] = true
			continue
		}
		for _, side := range [][]json.RawMessage{parts.Before, parts.At, parts.After} {
			for _, rec := range side {
				kvs, err := decodeRow(rec)
				if err != nil {
					return partial, err
				}
				line, mark := formatRecord(kvs), "  "
				if matched[string(rec)] {
					mark = "> "
					shown[line] = true
				}
				fmt.Fprintln(w, mark+line)
			}
		}
	}
	if len(hits) == 0 {
		fmt.Fprintln(os.Stderr, "no records matched")
	}
	return partial, nil
}

// fetchContext asks for the n records before and after a hit.
func fetchContext(ctx context.Context, c *clientFlags, ts, stream string, n int) ([]byte, error) {
	form := url.Values{"_time": {ts}, "_stream": {stream}, "before": {strconv.Itoa(n)}, "after": {strconv.Itoa(n)}}
	resp, err := c.request(ctx, "/api/v1/context", form)
	if err != nil {
		return nil, fmt.Errorf("context of the hit at %s: %w", ts, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("read context answer: %w", err)
	}
	return b, nil
}

// plan mirrors the server's explain answer.
type plan struct {
	Query  string   `json:"query"`
	Filter planNode `json:"filter"`
	From   string   `json:"from"`
	To     string   `json:"to"`
	Pipes  []struct {
		Pipe  string `json:"pipe"`
		Input string `json:"input"`
	} `json:"pipes"`
	Cost     map[string]int64 `json:"cost"`
	Rows     int64            `json:"rows"`
	Duration string           `json:"duration"`
	Partial  *api.Partial     `json:"partial"`
}

type planNode struct {
	Node     string     `json:"node"`
	Text     string     `json:"text"`
	Index    string     `json:"index"`
	Children []planNode `json:"children"`
}

// printPlan renders an explain answer for people and returns what the
// search behind it could not read.
// A querier answers the plan of each indexer's share instead.
func printPlan(r io.Reader, w io.Writer) (*api.Partial, error) {
	var p struct {
		plan
		Indexers []struct {
			URL        string          `json:"url"`
			Partitions []string        `json:"partitions"`
			Plan       json.RawMessage `json:"plan"`
		} `json:"indexers"`
	}
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("read explain answer: %w", err)
	}
	if p.Indexers == nil {
		writePlan(p.plan, w)
		return p.Partial, nil
	}
	fmt.Fprintf(w, "query:  %s\nacross %d indexers\n", p.Query, len(p.Indexers))
	for _, ix := range p.Indexers {
		var share plan
		if err := json.Unmarshal(ix.Plan, &share); err != nil {
			return nil, fmt.Errorf("read explain answer of %s: %w", ix.URL, err)
		}
		fmt.Fprintf(w, "\n== indexer %s, partitions %s\n", ix.URL, strings.Join(ix.Partitions, ","))
		writePlan(share, w)
	}
	return p.Partial, nil
}

// writePlan renders one store's plan.
func writePlan(p plan, w io.Writer) {
	from, to := p.From, p.To
	if from == "" {
		from = "the beginning"
	}
	if to == "" {
		to = "now"
	}
	fmt.Fprintf(w, "query:  %s\nrange:  %s to %s\nfilter:\n", p.Query, from, to)
	var walk func(n planNode, depth int)
	walk = func(n planNode, depth int) {
		fmt.Fprintf(w, "%*s%s %s    [index: %s]\n", 2+2*depth, "", n.Node, n.Text, n.Index)
		for _, c := range n.Children {
			walk(c, depth+1)
		}
	}
	walk(p.Filter, 0)
	if len(p.Pipes) > 0 {
		fmt.Fprintln(w, "pipes:")
		for i, pp := range p.Pipes {
			fmt.Fprintf(w, "  %d. %s    [input: %s]\n", i+1, pp.Pipe, pp.Input)
		}
	}
	c := p.Cost
	fmt.Fprintf(w, "cost:\n")
	fmt.Fprintf(w, "  partitions  %d, skipped by time %d\n", c["Partitions"], c["PartitionsSkipped"])
	fmt.Fprintf(w, "  parts       %d, skipped by time %d\n", c["Parts"], c["PartsSkipped"])
	fmt.Fprintf(w, "  blocks      %d, skipped by time/tenant %d, by index %d, by stream %d, read %d, counted unread %d\n", c["Blocks"], c["BlocksSkippedTime"], c["BlocksSkippedIndex"], c["BlocksSkippedStream"], c["BlocksRead"], c["BlocksCounted"])
	fmt.Fprintf(w, "  per block   %d wholly matching (no per-row filter), %d decided by one column without building rows, %d read but ruled out by their column undecoded\n", c["BlocksWhole"], c["BlocksByCode"], c["BlocksRejected"])
	fmt.Fprintf(w, "  bytes read  %d\n", c["BytesRead"])
	fmt.Fprintf(w, "  in memory   %d records scanned (not yet in parts)\n", c["HeadRecords"])
	fmt.Fprintf(w, "  matched     %d records (%d counted in bulk)\n", c["RecordsMatched"], c["RecordsCounted"])
	fmt.Fprintf(w, "rows: %d   time: %s\n", p.Rows, p.Duration)
}
