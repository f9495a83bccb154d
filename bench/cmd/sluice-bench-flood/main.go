// Command sluice-bench-flood measures whether one tenant's flood raises
// another tenant's ingest latency: the real binary runs with auth on and
// two tenants, "steady" and "flood". The steady tenant sends small JSON-
// lines requests at a fixed rate, one at a time, and its latency is
// timed; the flood tenant sends large requests. Four phases, interleaved
// over several rounds so that a noisy machine affects each alike:
//
//	alone     the steady tenant by itself
//	at-quota  the flood tenant sends exactly its quota (-flood-quota, one
//	          request at a time, paced): the load it is entitled to
//	flood     the flood tenant sends from -flood-conns connections as fast
//	          as it is answered, retrying a 429 at once (an attacker), with
//	          the same quota
//	no-quota  the same flood on a server without quotas
//
// The bound (a flooding tenant raises another's latency by at most
// 20%) is flood against at-quota: what the flood adds beyond the share
// its quota grants. Against alone, the ratio also holds the cost of that
// share, which depends on the quota an operator sets and the machine.
//
// The flood runs in a process of its own at the lowest CPU priority (nice
// 19): on a real deployment the flooder's own CPU, and its kernel's work of
// sending bodies the server never reads, are on another machine; here they
// would otherwise take the cores the server and the steady tenant share.
//
//	go build -o bin/sluice ./cmd/sluice
//	go run ./bench/cmd/sluice-bench-flood -binary bin/sluice
//
// It prints each phase's median and p90 latency over all rounds, the
// median of the rounds' medians and its ratio to alone's and to
// at-quota's, the flood's requests accepted and refused, and the server's
// CPU seconds (utime+stime, median of the rounds).
package main

import (
	"bufio"
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/sluice-log/sluice/internal/config"
)

var phases = []string{"alone", "at-quota", "flood", "no-quota"}

func main() {
	var o options
	flag.StringVar(&o.binary, "binary", "./bin/sluice", "path of the sluice binary")
	flag.IntVar(&o.rounds, "rounds", 5, "rounds of the four phases")
	flag.DurationVar(&o.phase, "phase", 8*time.Second, "length of one phase")
	flag.IntVar(&o.rate, "rate", 20, "steady tenant's requests per second")
	flag.IntVar(&o.steadyRecords, "steady-records", 50, "records per steady request")
	flag.IntVar(&o.floodConns, "flood-conns", 8, "flood tenant's concurrent connections")
	flag.IntVar(&o.floodBytes, "flood-bytes", 4<<20, "bytes of one flood request (about)")
	quota := flag.String("flood-quota", "4MiB", "the flood tenant's quotas.tenants.flood.ingest_bytes_per_second")
	flag.IntVar(&o.maxHeld, "max-held", 0, "the servers' quotas.ingest_max_held (0: its default)")
	flag.DurationVar(&o.hold, "hold", 0, "the servers' quotas.ingest_hold (0: its default)")
	flag.DurationVar(&o.maxHold, "max-hold", 0, "the servers' quotas.ingest_max_hold (0: its default)")
	flag.StringVar(&o.profile, "profile", "", "write a CPU profile of the server during the first round's -profile-phase to this file (http.pprof, read with an admin key)")
	flag.StringVar(&o.trace, "trace", "", "write an execution trace of the server during the first round's -profile-phase to this file (go tool trace; -pprof=sched, sync, net)")
	flag.StringVar(&o.profilePhase, "profile-phase", "flood", "the phase -profile and -trace record (in the first round)")
	only := flag.String("phases", strings.Join(phases, ","), "the phases to run, comma-separated (for profiling one)")
	child := flag.String("flood-child", "", "internal: flood this URL (key on stdin) until stdin closes and print the counts")
	pace := flag.Float64("flood-pace", 0, "internal: with -flood-child, send one request at a time at this many bytes per second")
	flag.Parse()
	if *child != "" {
		floodChild(*child, o.floodConns, o.floodBytes, *pace)
		return
	}
	q, err := config.ParseByteSize(*quota)
	if err != nil || q <= 0 {
		fmt.Fprintln(os.Stderr, "sluice-bench-flood: -flood-quota:", *quota)
		os.Exit(2)
	}
	o.quota = int64(q)
	for _, ph := range strings.Split(*only, ",") {
		if !slices.Contains(phases, ph) {
			fmt.Fprintln(os.Stderr, "sluice-bench-flood: -phases: no phase", ph)
			os.Exit(2)
		}
	}
	phases = slices.DeleteFunc(phases, func(ph string) bool { return !slices.Contains(strings.Split(*only, ","), ph) })
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "sluice-bench-flood:", err)
		os.Exit(1)
	}
}

type options struct {
	binary                                      string
	rounds                                      int
	phase                                       time.Duration
	rate, steadyRecords, floodConns, floodBytes int
	quota                                       int64
	profile, trace, profilePhase                string
	maxHeld                                     int
	hold, maxHold                               time.Duration
}

// server is one running `sluice serve`.
type server struct {
	cmd  *exec.Cmd
	done chan error
	url  string
}

func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

func start(binary, dir, config string) (*server, error) {
	addr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	cfgPath := filepath.Join(dir, "sluice.yaml")
	if err := os.WriteFile(cfgPath, []byte(config), 0o644); err != nil {
		return nil, err
	}
	logf, err := os.Create(filepath.Join(dir, "server.log"))
	if err != nil {
		return nil, err
	}
	defer logf.Close()
	s := &server{url: "http://" + addr, done: make(chan error, 1)}
	s.cmd = exec.Command(binary, "serve", "--data-dir", filepath.Join(dir, "data"), "--http-addr", addr, "--config", cfgPath)
	s.cmd.Stdout, s.cmd.Stderr = logf, logf
	if err := s.cmd.Start(); err != nil {
		return nil, err
	}
	go func() { s.done <- s.cmd.Wait() }()
	for deadline := time.Now().Add(60 * time.Second); time.Now().Before(deadline); {
		if resp, err := http.Get(s.url + "/readyz"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s, nil
			}
		}
		select {
		case err := <-s.done:
			return nil, fmt.Errorf("server exited (%v); log in %s", err, dir)
		case <-time.After(50 * time.Millisecond):
		}
	}
	s.stop()
	return nil, fmt.Errorf("server not ready; log in %s", dir)
}

func (s *server) stop() {
	_ = s.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-s.done:
	case <-time.After(60 * time.Second):
		_ = s.cmd.Process.Kill()
		<-s.done
	}
}

// cpuSeconds is the utime+stime of the server so far.
func (s *server) cpuSeconds() float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", s.cmd.Process.Pid))
	if err != nil {
		return 0
	}
	// After the command's closing parenthesis: state is field 3 of the
	// line, utime and stime fields 14 and 15.
	f := strings.Fields(string(b[bytes.LastIndexByte(b, ')')+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ
}

func createKey(binary, keys, name, tenant, roles string) (string, error) {
	out, err := exec.Command(binary, "keys", "create", "--keys-file", keys, "--name", name, "--tenant", tenant, "--role", roles).Output()
	if err != nil {
		return "", fmt.Errorf("sluice keys create: %w", err)
	}
	return strings.TrimSpace(string(out)), nil
}

// body is about size bytes of JSON lines.
func body(tenant string, size int) []byte {
	var b bytes.Buffer
	for i := 0; b.Len() < size; i++ {
		fmt.Fprintf(&b, `{"service":"%s","host":"h%d","level":"info","_msg":"GET /api/v1/orders/%08d 200 in %d ms from 10.0.%d.%d user agent curl/8.5.0 trace %016x"}`+"\n",
			tenant, i%8, i, i%997, i%250, i%200, uint64(i)*0x9e3779b97f4a7c15)
	}
	return b.Bytes()
}

func post(ctx context.Context, url, key string, b []byte) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url+"/insert/jsonline", bytes.NewReader(b))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, nil
}

// steady sends one request every 1/rate seconds for d and returns the
// latency of each (a request that is late starts at once after the one
// before).
func steady(url, key string, b []byte, rate int, d time.Duration) ([]time.Duration, error) {
	var lat []time.Duration
	tick := time.NewTicker(time.Second / time.Duration(rate))
	defer tick.Stop()
	end := time.Now().Add(d)
	for time.Now().Before(end) {
		<-tick.C
		t0 := time.Now()
		code, err := post(context.Background(), url, key, b)
		if err != nil {
			return nil, err
		}
		if code != http.StatusOK {
			return nil, fmt.Errorf("steady tenant answered %d", code)
		}
		lat = append(lat, time.Since(t0))
	}
	return lat, nil
}

// floodChild floods url with the key read from stdin until stdin closes,
// then prints the requests accepted and refused (a 429, or a connection
// the server closed on a body it did not read). With pace > 0 it sends one
// request at a time, pace bytes per second.
func floodChild(url string, conns, size int, pace float64) {
	in := bufio.NewReader(os.Stdin)
	key, err := in.ReadString('\n')
	if err != nil {
		os.Exit(1)
	}
	key = strings.TrimSpace(key)
	b := body("flood", size)
	ctx, cancel := context.WithCancel(context.Background())
	var ok, refused atomic.Int64
	send := func() {
		code, err := post(ctx, url, key, b)
		switch {
		case ctx.Err() != nil:
		case err == nil && code == http.StatusOK:
			ok.Add(1)
		default:
			refused.Add(1)
		}
	}
	var wg sync.WaitGroup
	if pace > 0 {
		conns = 1
	}
	for range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if pace <= 0 {
				for ctx.Err() == nil {
					send()
				}
				return
			}
			tick := time.NewTicker(time.Duration(float64(len(b)) / pace * float64(time.Second)))
			defer tick.Stop()
			for ctx.Err() == nil {
				send()
				select {
				case <-ctx.Done():
				case <-tick.C:
				}
			}
		}()
	}
	_, _ = io.Copy(io.Discard, in) // the parent closes stdin to stop
	cancel()
	wg.Wait()
	fmt.Println(ok.Load(), refused.Load())
}

// startFlood runs the flood in a child process at nice 19; stop ends it
// and returns its counts.
func startFlood(url, key string, o options, pace int64) (stop func() (ok, refused int64, err error), err error) {
	self, err := os.Executable()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command("nice", "-n", "19", self, "-flood-child", url, "-flood-conns", strconv.Itoa(o.floodConns),
		"-flood-bytes", strconv.Itoa(o.floodBytes), "-flood-pace", strconv.FormatInt(pace, 10))
	stdin, err := cmd.StdinPipe()
	if err != nil {
		return nil, err
	}
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, os.Stderr
	if err := cmd.Start(); err != nil {
		return nil, err
	}
	if _, err := io.WriteString(stdin, key+"\n"); err != nil {
		return nil, err
	}
	return func() (int64, int64, error) {
		stdin.Close()
		if err := cmd.Wait(); err != nil {
			return 0, 0, fmt.Errorf("flood: %w", err)
		}
		var ok, refused int64
		if _, err := fmt.Sscan(out.String(), &ok, &refused); err != nil {
			return 0, 0, fmt.Errorf("flood printed %q", out.String())
		}
		return ok, refused, nil
	}, nil
}

// fetchProfile writes a profile (kind profile: CPU, or trace) of d from
// the server at url to path.
func fetchProfile(url, key, kind string, d time.Duration, path string) error {
	req, err := http.NewRequest(http.MethodGet, fmt.Sprintf("%s/debug/pprof/%s?seconds=%d", url, kind, int(d.Seconds())), nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("profile: %s", resp.Status)
	}
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

type phaseResult struct {
	lat               []time.Duration
	medians           []time.Duration
	cpu               []float64
	floodOK, floodRef int64
}

func run(o options) error {
	dir, err := os.MkdirTemp("", "sluice-bench-flood")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	keys := filepath.Join(dir, "keys.json")
	var steadyKey, floodKey, adminKey string
	for _, k := range []struct {
		key                 *string
		name, tenant, roles string
	}{{&steadyKey, "steady", "steady", "ingest"}, {&floodKey, "flood", "flood", "ingest"}, {&adminKey, "admin", "*", "admin"}} {
		if *k.key, err = createKey(o.binary, keys, k.name, k.tenant, k.roles); err != nil {
			return err
		}
	}
	base := fmt.Sprintf("auth: {enabled: true, keys_file: %s}\nforward: {enabled: false}\nsyslog: {enabled: false}\notlp: {enabled: false}\n", keys)
	if o.profile != "" || o.trace != "" {
		base += "http: {pprof: true}\n"
	}
	withQuota := base + fmt.Sprintf("quotas:\n  tenants:\n    flood: {ingest_bytes_per_second: %d}\n", o.quota)
	if o.maxHeld > 0 {
		withQuota += fmt.Sprintf("  ingest_max_held: %d\n", o.maxHeld)
	}
	if o.hold > 0 {
		withQuota += fmt.Sprintf("  ingest_hold: %s\n", o.hold)
	}
	if o.maxHold > 0 {
		withQuota += fmt.Sprintf("  ingest_max_hold: %s\n", o.maxHold)
	}
	steadyBody := body("steady", o.steadyRecords*160)
	results := map[string]*phaseResult{}
	for _, ph := range phases {
		results[ph] = &phaseResult{}
	}
	for r := range o.rounds {
		for _, ph := range phases {
			if err := runPhase(o, dir, r, ph, map[bool]string{true: base, false: withQuota}[ph == "no-quota"],
				steadyKey, floodKey, adminKey, steadyBody, results[ph]); err != nil {
				return fmt.Errorf("%s round %d: %w", ph, r+1, err)
			}
		}
	}
	fmt.Printf("steady tenant: %d requests/s of %d bytes; flood: %d connections of %d-byte requests, retrying a 429 at once; flood quota %d bytes/s (at-quota: paced at it); %d rounds of %v\n",
		o.rate, len(steadyBody), o.floodConns, len(body("flood", o.floodBytes)), o.quota, o.rounds, o.phase)
	fmt.Printf("%-9s %9s %9s %11s %9s %11s %15s %12s\n", "phase", "median", "p90", "med.rounds", "/alone", "/at-quota", "flood 200/refused", "server CPU s")
	ratio := func(m time.Duration, ph string) float64 {
		if r := results[ph]; r != nil && len(r.medians) > 0 {
			return float64(m) / float64(median(r.medians))
		}
		return 0
	}
	for _, ph := range phases {
		pr := results[ph]
		m := median(pr.medians)
		slices.Sort(pr.cpu)
		fmt.Printf("%-9s %9v %9v %11v %9.2f %11.2f %9d/%-7d %12.2f\n", ph, pct(pr.lat, 50).Round(10*time.Microsecond), pct(pr.lat, 90).Round(10*time.Microsecond),
			m.Round(10*time.Microsecond), ratio(m, "alone"), ratio(m, "at-quota"), pr.floodOK, pr.floodRef, pr.cpu[len(pr.cpu)/2])
	}
	return nil
}

func runPhase(o options, dir string, r int, ph, cfg, steadyKey, floodKey, adminKey string, steadyBody []byte, pr *phaseResult) error {
	sdir := filepath.Join(dir, fmt.Sprintf("%s-%d", ph, r))
	if err := os.MkdirAll(sdir, 0o755); err != nil {
		return err
	}
	s, err := start(o.binary, sdir, cfg)
	if err != nil {
		return err
	}
	defer s.stop()
	var stopFlood func() (int64, int64, error)
	if ph != "alone" {
		pace := int64(0)
		if ph == "at-quota" {
			pace = o.quota
		}
		if stopFlood, err = startFlood(s.url, floodKey, o, pace); err != nil {
			return err
		}
		time.Sleep(time.Second) // the flood is under way
	}
	profiled := make(chan error, 1)
	switch {
	case ph != o.profilePhase || r != 0:
		profiled <- nil
	case o.profile != "":
		go func() { profiled <- fetchProfile(s.url, adminKey, "profile", o.phase-time.Second, o.profile) }()
	case o.trace != "":
		go func() { profiled <- fetchProfile(s.url, adminKey, "trace", o.phase-time.Second, o.trace) }()
	default:
		profiled <- nil
	}
	cpu0 := s.cpuSeconds()
	lat, err := steady(s.url, steadyKey, steadyBody, o.rate, o.phase)
	cpu := s.cpuSeconds() - cpu0
	if perr := <-profiled; err == nil {
		err = perr
	}
	if stopFlood != nil {
		ok, ref, ferr := stopFlood()
		if err == nil {
			err = ferr
		}
		pr.floodOK += ok
		pr.floodRef += ref
	}
	if err != nil {
		return err
	}
	pr.lat = append(pr.lat, lat...)
	pr.medians = append(pr.medians, pct(lat, 50))
	pr.cpu = append(pr.cpu, cpu)
	fmt.Fprintf(os.Stderr, "round %d %-8s median %v p90 %v (%d requests), server CPU %.2fs\n", r+1, ph,
		pct(lat, 50).Round(10*time.Microsecond), pct(lat, 90).Round(10*time.Microsecond), len(lat), cpu)
	return nil
}

func pct(d []time.Duration, p int) time.Duration {
	if len(d) == 0 {
		return 0
	}
	s := slices.Clone(d)
	slices.Sort(s)
	return s[(len(s)-1)*p/100]
}

func median(d []time.Duration) time.Duration { return pct(d, 50) }
