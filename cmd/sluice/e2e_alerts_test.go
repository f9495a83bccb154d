package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/alert/notify"
	"github.com/sluice-log/sluice/internal/testutil/peerbin"
	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

// webhookSink is the test's webhook receiver: every Alertmanager webhook
// payload (version 4) posted to it, by Sluice directly or by Alertmanager.
type webhookSink struct {
	srv      *httptest.Server
	mu       sync.Mutex
	payloads []notify.WebhookPayload
}

func newWebhookSink(t *testing.T) *webhookSink {
	w := &webhookSink{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		var p notify.WebhookPayload
		if err := json.Unmarshal(b, &p); err != nil {
			t.Errorf("webhook body %s: %v", b, err)
		}
		w.mu.Lock()
		w.payloads = append(w.payloads, p)
		w.mu.Unlock()
	}))
	t.Cleanup(w.srv.Close)
	return w
}

// alerts returns status:label for every alert received, in order.
func (w *webhookSink) alerts(label string) []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	for _, p := range w.payloads {
		for _, a := range p.Alerts {
			out = append(out, a.Status+":"+a.Labels[label])
		}
	}
	return out
}

// waitFor polls cond every 100 ms until it holds or limit passes.
func waitFor(t *testing.T, limit time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(limit)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %s waiting for %s", limit, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func postLines(t *testing.T, s *server, lines []string) {
	t.Helper()
	if code, body, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(strings.Join(lines, "\n"))); code != 200 {
		t.Fatalf("ingest: %d %s", code, body)
	}
}

// getJSONInto GETs url and decodes its JSON answer into v.
func getJSONInto(t *testing.T, url string, v any) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		t.Fatalf("GET %s: %d %s", url, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, v); err != nil {
		t.Fatalf("GET %s: %v: %s", url, err, b)
	}
}

// TestE2EAlertFlowRestart: 1,000 orders start, 990 are paid, and the
// server is killed (kill -9) half way through the payments: the restarted
// server holds exactly the 10 unpaid orders open, and once their window
// has passed exactly those 10 fire, each once, and nothing else does.
//
// The window does not pass on the wall clock during the test, which would
// tie the test to how long a restart takes (a -race binary under load took
// more than the 12 s window this test once had, and it skipped): the two
// servers that take the records have a window of an hour, and a third
// start, after every record is in, has a window shorter than the time
// since the starts, so the flow's replay from the store on start finds
// them all past their deadline.
func TestE2EAlertFlowRestart(t *testing.T) {
	needBinary(t)
	t.Parallel()
	hook := newWebhookSink(t)
	config := func(within time.Duration) string {
		return fmt.Sprintf(`
alerts:
  group_wait: 0s
  group_interval: 1s
  notifiers:
    - {name: ops, type: webhook, url: %s}
  flows:
    - name: order-paid
      start: 'event:order_created'
      end: 'event:order_paid'
      key: order_id
      within: %s
      notify: [ops]
`, hook.srv.URL, within)
	}
	dir := t.TempDir()
	s := startServer(t, dir, config(time.Hour))
	now := time.Now()
	line := func(event string, i int) string {
		return fmt.Sprintf(`{"_time":%q,"service":"shop","event":%q,"order_id":"o-%04d"}`, now.Format(time.RFC3339Nano), event, i)
	}
	missing := map[string]bool{}
	for i := 0; i < 1000; i++ {
		if i%100 == 37 {
			missing[fmt.Sprintf("o-%04d", i)] = true
		}
	}
	var starts, endsA, endsB []string
	for i := 0; i < 1000; i++ {
		starts = append(starts, line("order_created", i))
		if missing[fmt.Sprintf("o-%04d", i)] {
			continue
		}
		if len(endsA) < 495 {
			endsA = append(endsA, line("order_paid", i))
		} else {
			endsB = append(endsB, line("order_paid", i))
		}
	}
	for i := 0; i < len(starts); i += 250 {
		postLines(t, s, starts[i:i+250])
	}
	postLines(t, s, endsA)
	time.Sleep(time.Second) // let the alert state be saved once
	s.kill()
	s = startServer(t, dir, config(time.Hour))
	postLines(t, s, endsB)
	// The restarted server replayed the starts and the first ends from the
	// store and took the rest live: exactly the 10 unpaid orders are open.
	type flowsView struct {
		Flows []struct {
			Open      int   `json:"open"`
			Violating int   `json:"violating"`
			Completed int64 `json:"completed"`
		} `json:"flows"`
	}
	var fv flowsView
	waitFor(t, 60*time.Second, "990 completed after the restart", func() bool {
		getJSONInto(t, s.url+"/api/v1/flows", &fv)
		return len(fv.Flows) == 1 && fv.Flows[0].Completed >= 990
	})
	if f := fv.Flows[0]; f.Completed != 990 || f.Open != 10 || f.Violating != 0 {
		t.Fatalf("after the restart: %+v, want 990 completed, 10 open", f)
	}
	s.stop()
	// The window now ends at most a second after this start: every start
	// is past its deadline once replayed. The replay reaches back within
	// before the point the last server checked (which is before now), so
	// it finds them all.
	within := time.Since(now).Truncate(time.Second) + time.Second
	s = startServer(t, dir, config(within))

	var fired []string
	waitFor(t, 60*time.Second, "10 alerts", func() bool {
		fired = fired[:0]
		for _, a := range hook.alerts("order_id") {
			if !slices.Contains(fired, a) {
				fired = append(fired, a)
			}
		}
		return len(fired) >= 10
	})
	time.Sleep(2 * time.Second) // anything more would come by now
	fired = fired[:0]
	for _, a := range hook.alerts("order_id") {
		if !slices.Contains(fired, a) {
			fired = append(fired, a)
		}
	}
	slices.Sort(fired)
	var want []string
	for k := range missing {
		want = append(want, "firing:"+k)
	}
	slices.Sort(want)
	if !slices.Equal(fired, want) {
		t.Fatalf("alerts received:\n%v\nwant exactly\n%v", fired, want)
	}

	// The alerts page's API and the flows view agree.
	var o struct {
		Alerts []struct {
			State  string            `json:"state"`
			Labels map[string]string `json:"labels"`
		} `json:"alerts"`
		Flows []struct {
			Violating int   `json:"violating"`
			Completed int64 `json:"completed"`
		} `json:"flows"`
	}
	getJSONInto(t, s.url+"/api/v1/alerts", &o)
	if len(o.Alerts) != 10 || len(o.Flows) != 1 || o.Flows[0].Violating != 10 {
		t.Fatalf("/api/v1/alerts: %+v", o)
	}
	for _, a := range o.Alerts {
		if a.State != "firing" || !missing[a.Labels["order_id"]] {
			t.Fatalf("alert %+v", a)
		}
	}
	// The same check ad hoc, over the history.
	rows := s.queryRows(`event:(order_created OR order_paid) | flow start=event:order_created end=event:order_paid key=order_id within=1m`)
	var gotMissing []string
	for _, r := range rows {
		if r["status"] == "missing" || r["status"] == "open" {
			gotMissing = append(gotMissing, r["order_id"].(string))
		}
	}
	if len(gotMissing) != 10 || rows[len(rows)-1]["completed"] != float64(990) {
		t.Fatalf("flow pipe: %d keys not completed (%v), summary %v", len(gotMissing), gotMissing, rows[len(rows)-1])
	}
}

// TestE2EAlertNotifiers: one rule's alert goes to a real Prometheus
// Alertmanager (which routes it to a webhook), to a real SMTP server
// (mailpit, over STARTTLS) and to a webhook directly, then resolves;
// metrics from logs reach /metrics and a Graphite listener.
func TestE2EAlertNotifiers(t *testing.T) {
	needBinary(t)
	t.Parallel()
	amBin, err := peerbin.Alertmanager()
	if err != nil {
		t.Fatal(err)
	}
	mpBin, err := peerbin.Mailpit()
	if err != nil {
		t.Fatal(err)
	}
	tmp := t.TempDir()
	viaAM, direct := newWebhookSink(t), newWebhookSink(t)

	// Alertmanager routes everything to viaAM.
	amAddr := freeAddr(t)
	amCfg := filepath.Join(tmp, "alertmanager.yml")
	if err := os.WriteFile(amCfg, []byte(fmt.Sprintf(`
route:
  receiver: hook
  group_by: [alertname]
  group_wait: 0s
  group_interval: 1s
  repeat_interval: 1h
receivers:
  - name: hook
    webhook_configs:
      - url: %s
        send_resolved: true
`, viaAM.srv.URL)), 0o644); err != nil {
		t.Fatal(err)
	}
	runPeer(t, amBin, "--config.file="+amCfg, "--storage.path="+filepath.Join(tmp, "am"), "--web.listen-address="+amAddr, "--cluster.listen-address=")
	waitFor(t, 30*time.Second, "alertmanager ready", func() bool { return httpOK("http://" + amAddr + "/-/ready") })

	// mailpit takes mail over STARTTLS only.
	cert := testcert.New(t)
	certFile, keyFile := cert.WriteFiles(t, tmp)
	smtpAddr, mpHTTP := freeAddr(t), freeAddr(t)
	runPeer(t, mpBin, "--smtp", smtpAddr, "--listen", mpHTTP, "--smtp-tls-cert", certFile, "--smtp-tls-key", keyFile,
		"--smtp-require-starttls", "--smtp-disable-rdns", "--disable-version-check", "--database", filepath.Join(tmp, "mailpit.db"))
	waitFor(t, 30*time.Second, "mailpit ready", func() bool { return httpOK("http://" + mpHTTP + "/readyz") })

	// Graphite: a plain TCP listener, read line by line.
	gl, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer gl.Close()
	graphite := make(chan string, 10000)
	go func() {
		for {
			c, err := gl.Accept()
			if err != nil {
				return
			}
			go func() {
				sc := bufio.NewScanner(c)
				for sc.Scan() {
					select {
					case graphite <- sc.Text():
					default:
					}
				}
			}()
		}
	}()

	cfg := fmt.Sprintf(`
alerts:
  group_wait: 0s
  group_interval: 1s
  retries: 1
  notifiers:
    - {name: am, type: alertmanager, url: http://%s}
    - {name: hook, type: webhook, url: %s}
    - {name: mail, type: email, smtp_addr: %s, from: sluice@example.org, to: [ops@example.org], tls_ca_file: %s}
  rules:
    - name: payments-errors
      query: 'service:payments AND level:error | stats count() as n by service'
      every: 1s
      window: 4s
      condition: 'n > 5'
      labels: {team: payments, severity: page}
      notify: [am, hook, mail]
metrics:
  - name: http_errors
    query: 'status:>=500 | stats count() as n by service'
graphite:
  addr: %s
  prefix: sluice
  interval: 1s
`, amAddr, direct.srv.URL, smtpAddr, certFile, gl.Addr())
	s := startServer(t, t.TempDir(), cfg)
	var lines []string
	for i := 0; i < 10; i++ {
		lines = append(lines, fmt.Sprintf(`{"_time":%q,"service":"payments","level":"error","status":%d,"_msg":"card declined"}`, time.Now().Format(time.RFC3339Nano), 500+i%3))
	}
	lines = append(lines, `{"service":"web","status":502,"_msg":"bad gateway"}`, `{"service":"web","status":200,"_msg":"ok"}`)
	postLines(t, s, lines)

	// Metrics from logs: on /metrics and in Graphite.
	waitFor(t, 10*time.Second, "sluice_log_http_errors", func() bool {
		resp, err := http.Get(s.url + "/metrics")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return strings.Contains(string(b), `sluice_log_http_errors{service="payments"} 10`) && strings.Contains(string(b), `sluice_log_http_errors{service="web"} 1`)
	})
	waitFor(t, 15*time.Second, "the Graphite line of sluice_log_http_errors", func() bool {
		for {
			select {
			case l := <-graphite:
				f := strings.Fields(l)
				if len(f) == 3 && f[0] == "sluice.sluice_log_http_errors;service=payments" && f[1] == "10" {
					return true
				}
			default:
				return false
			}
		}
	})

	// Firing, through all three notifiers.
	hasAlert := func(w *webhookSink, status string) bool {
		return slices.Contains(w.alerts("service"), status+":payments")
	}
	waitFor(t, 30*time.Second, "the alert via Alertmanager and the webhook", func() bool {
		return hasAlert(viaAM, "firing") && hasAlert(direct, "firing")
	})
	viaAM.mu.Lock()
	p := viaAM.payloads[0]
	viaAM.mu.Unlock()
	if p.Receiver != "hook" || p.Alerts[0].Labels["alertname"] != "payments-errors" || p.Alerts[0].Labels["team"] != "payments" {
		t.Fatalf("Alertmanager's webhook payload: %+v", p)
	}
	waitFor(t, 30*time.Second, "the email in mailpit", func() bool {
		var msgs struct {
			Messages []struct {
				Subject string
			} `json:"messages"`
		}
		resp, err := http.Get("http://" + mpHTTP + "/api/v1/messages")
		if err != nil {
			return false
		}
		defer resp.Body.Close()
		if json.NewDecoder(resp.Body).Decode(&msgs) != nil {
			return false
		}
		for _, m := range msgs.Messages {
			if m.Subject == "[FIRING:1] payments-errors" {
				return true
			}
		}
		return false
	})
	// Resolved once the window holds no more errors.
	waitFor(t, 30*time.Second, "the resolved alert via Alertmanager and the webhook", func() bool {
		return hasAlert(viaAM, "resolved") && hasAlert(direct, "resolved")
	})
	if v := metric(t, s, `sluice_alert_notifications_failed_total{notifier="mail"}`); v != 0 {
		t.Fatalf("mail notifications failed: %v\n%s", v, s.logs.String())
	}
}

func httpOK(url string) bool {
	resp, err := http.Get(url)
	if err != nil {
		return false
	}
	resp.Body.Close()
	return resp.StatusCode == 200
}

// runPeer starts a third-party server for the test's duration.
func runPeer(t *testing.T, bin string, args ...string) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	logs := &syncBuffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("%s logs:\n%s", filepath.Base(bin), logs.String())
		}
	})
}
