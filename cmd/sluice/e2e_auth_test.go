package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"

	"github.com/sluice-log/sluice/internal/testutil/fluentclient"
	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

// sluiceRun runs a client command of the binary (no --server added) and
// returns its stdout.
func sluiceRun(t *testing.T, env []string, args ...string) string {
	t.Helper()
	cmd := exec.Command(binPath, args...)
	cmd.Env = append(os.Environ(), env...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		t.Fatalf("sluice %s: %v\n%s", strings.Join(args, " "), err, stderr.String())
	}
	return stdout.String()
}

// authReq sends one request with an optional key and tenant header and
// returns the status and body.
func authReq(t *testing.T, method, u, key, tenantHdr string, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequest(method, u, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if method == http.MethodPost && strings.Contains(u, "/api/") {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if key != "" {
		req.Header.Set("Authorization", "Bearer "+key)
	}
	if tenantHdr != "" {
		req.Header.Set("X-Scope-OrgID", tenantHdr)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, u, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestE2EAuth runs the real binary with auth on and two tenants, acme and
// beta, each shipping through its own shippers' auth schemes: _bulk with
// ApiKey and with basic, fluent-logger-golang through the forward
// handshake with a shared key and a user, util-linux logger through
// rsyslog over mutual TLS (the tenant from the client certificate), and
// the OpenTelemetry exporters with an authorization header. Each tenant's
// key then sees its own records only, through the API and the CLI, and
// every crossing attempt is refused with 401/403 and audited.
func TestE2EAuth(t *testing.T) {
	needBinary(t)
	t.Parallel()
	dir := t.TempDir()
	keys := filepath.Join(dir, "keys.json")
	mk := func(name, tenants, roles string) string {
		return strings.TrimSpace(sluiceRun(t, nil, "keys", "create", "--keys-file", keys, "--name", name, "--tenant", tenants, "--role", roles))
	}
	ingest := map[string]string{"acme": mk("acme-ship", "acme", "ingest"), "beta": mk("beta-ship", "beta", "ingest")}
	read := map[string]string{"acme": mk("acme-read", "acme", "query"), "beta": mk("beta-read", "beta", "query")}
	ops := mk("ops", "*", "query,admin")
	old := mk("old", "acme", "ingest,query")

	ca := testcert.NewCA(t)
	srvCert := ca.Issue(t, "127.0.0.1")
	certFile, keyFile := srvCert.WriteFiles(t, t.TempDir())
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	fwdAddr, tlsAddr, grpcAddr, metricsAddr := freeAddr(t), freeAddr(t), freeAddr(t), freeAddr(t)
	s := startServer(t, t.TempDir(), fmt.Sprintf(`
auth: {enabled: true, keys_file: %q}
http: {metrics_addr: %q, pprof: true}
quotas: {tenants: {acme: {query_max_concurrent: 3, query_max_scanned_records: 1000000}}}
forward:
  addr: %q
  shared_key: fwd-secret
  users:
    - {username: alice, password: pw-a, tenant: acme}
    - {username: bob, password: pw-b, tenant: beta}
syslog:
  udp_addr: ""
  tcp_addr: ""
  tls_addr: %q
  tls: {cert_file: %q, key_file: %q, client_ca_file: %q}
otlp: {grpc_addr: %q}
`, keys, metricsAddr, fwdAddr, tlsAddr, certFile, keyFile, caFile, grpcAddr))

	// 1. _bulk: acme with ApiKey base64(id:key), beta with basic (user:key).
	bulk := func(tenant, authz string) {
		t.Helper()
		var body strings.Builder
		for i := range 5 {
			fmt.Fprintf(&body, "{\"create\":{\"_index\":\"logs\"}}\n{\"message\":\"bulk %s %d\",\"src\":\"bulk\"}\n", tenant, i)
		}
		code, ans, _ := s.post("/_bulk", "application/x-ndjson", []byte(body.String()), "Authorization", authz)
		if code != 200 || strings.Contains(ans, `"errors":true`) {
			t.Fatalf("_bulk %s: %d %s", tenant, code, ans)
		}
	}
	bulk("acme", "ApiKey "+base64.StdEncoding.EncodeToString([]byte("acme-ship:"+ingest["acme"])))
	bulk("beta", "Basic "+base64.StdEncoding.EncodeToString([]byte("filebeat:"+ingest["beta"])))

	// 2. forward: fluent-logger-golang through the handshake, a user each.
	for tenant, user := range map[string]fluentclient.Auth{
		"acme": {SharedKey: "fwd-secret", Username: "alice", Password: "pw-a"},
		"beta": {SharedKey: "fwd-secret", Username: "bob", Password: "pw-b"},
	} {
		addr, _ := fluentclient.Relay(t, fwdAddr, user)
		fluentclient.Send(t, addr, fluentclient.Options{N: 4, Tag: "fwd." + tenant, Ack: true})
	}
	// A wrong password is refused by the handshake.
	conn, err := net.Dial("tcp", fwdAddr)
	if err != nil {
		t.Fatal(err)
	}
	if err := fluentclient.Handshake(conn, fluentclient.Auth{SharedKey: "fwd-secret", Username: "alice", Password: "guess"}); err == nil {
		t.Error("forward handshake with a wrong password succeeded")
	}
	conn.Close()

	// 3. syslog over mutual TLS: logger → rsyslog → Sluice, the tenant
	// from the client certificate's CN.
	syslogSent := syslogMTLS(t, ca, tlsAddr)

	// 4. OTLP with an authorization header: gRPC for acme, HTTP for beta.
	ctx := context.Background()
	gexp, err := otlploggrpc.New(ctx, otlploggrpc.WithEndpoint(grpcAddr), otlploggrpc.WithInsecure(),
		otlploggrpc.WithHeaders(map[string]string{"authorization": "Bearer " + ingest["acme"]}))
	if err != nil {
		t.Fatal(err)
	}
	otlpEmit(t, gexp, "otel-acme", 3, otellog.SeverityInfo)
	hexp, err := otlploghttp.New(ctx, otlploghttp.WithEndpointURL(s.url+"/v1/logs"),
		otlploghttp.WithHeaders(map[string]string{"Authorization": "Bearer " + ingest["beta"]}))
	if err != nil {
		t.Fatal(err)
	}
	otlpEmit(t, hexp, "otel-beta", 3, otellog.SeverityInfo)

	// Each tenant sees its own records only: 5 bulk, 4 forward, 3 OTLP
	// and the syslog lines, through the CLI with its key.
	want := 5 + 4 + 3 + syslogSent
	for tenant, key := range read {
		env := []string{"SLUICE_API_KEY=" + key}
		var rows []string
		deadline := time.Now().Add(15 * time.Second)
		for {
			out := sluiceRun(t, env, "query", "*", "--json", "--limit", "1000", "--server", s.url)
			rows = strings.Split(strings.TrimSpace(out), "\n")
			if len(rows) >= want || time.Now().After(deadline) {
				break
			}
			time.Sleep(200 * time.Millisecond)
		}
		other := map[string]string{"acme": "beta", "beta": "acme"}[tenant]
		if len(rows) != want {
			t.Errorf("%s: %d records, want %d:\n%s", tenant, len(rows), want, strings.Join(rows, "\n"))
		}
		for _, r := range rows {
			if !strings.Contains(r, `"_tenant":"`+tenant+`"`) || strings.Contains(r, other) {
				t.Errorf("%s sees a record not its own: %s", tenant, r)
			}
		}
	}

	// Every crossing attempt is refused: the other tenant's key, no key,
	// a revoked key, a forged header, a path, a long name, and an empty
	// name that must not reach the default tenant.
	sluiceRun(t, nil, "keys", "revoke", "--keys-file", keys, "old")
	waitRefused(t, s.url+"/api/v1/query", old)
	endpoints := []struct{ method, path, body string }{
		{"POST", "/api/v1/query", "query=*"},
		{"GET", "/api/v1/hits?query=*", ""},
		{"GET", "/api/v1/field_names?query=*", ""},
		{"POST", "/api/v1/explain", "query=*"},
		{"POST", "/api/v1/context", "_stream={}&_time=" + url.QueryEscape(time.Now().UTC().Format(time.RFC3339Nano))},
		{"GET", "/api/v1/tail?query=*", ""},
		{"POST", "/insert/jsonline", `{"_msg":"crossing"}`},
		{"POST", "/_bulk", "{\"create\":{}}\n{\"message\":\"crossing\"}\n"},
		{"POST", "/loki/api/v1/push", `{"streams":[{"stream":{"job":"x"},"values":[["1","crossing"]]}]}`},
		{"POST", "/v1/logs", `{"resourceLogs":[]}`},
		{"GET", "/debug/pprof/cmdline", ""},
		{"GET", "/loki/api/v1/query_range?query=" + url.QueryEscape(`{job="x"}`), ""},
		{"GET", "/loki/api/v1/labels", ""},
		{"GET", "/api/v1/dashboards", ""},
		{"GET", "/api/v1/rules", ""},
		{"POST", "/api/v1/rules", `{"name":"crossing","query":"* | stats count() as n","condition":"n > 0"}`},
		{"DELETE", "/api/v1/rules/acme-errors", ""},
		{"GET", "/api/v1/saved_searches", ""},
		{"GET", "/api/v1/flows", ""},
		{"POST", "/internal/force_flush", ""},
		{"GET", "/api/v1/quarantine", ""},
	}
	attempts := []struct {
		name, key, tenant string
		code              int
	}{
		{"other tenant's key", read["beta"], "acme", 403},
		{"no key", "", "acme", 401},
		{"revoked key", old, "acme", 401},
		{"unknown key", "sluice_" + strings.Repeat("A", 43), "", 401},
		{"forged header", read["acme"], "beta", 403},
		{"path as tenant", read["acme"], "../x", 403},
		{"long tenant", read["acme"], strings.Repeat("a", 500<<10), 403},
		{"audit trail without admin", read["acme"], "_audit", 403},
	}
	refusals := 0
	for _, e := range endpoints {
		for _, a := range attempts {
			key := a.key
			// Ingest routes are tried with the ingest keys: the other
			// tenant's, and acme's own with a forged header.
			if !strings.HasPrefix(e.path, "/api/") && !strings.HasPrefix(e.path, "/debug/") {
				for tenant, k := range read {
					if key == k {
						key = ingest[tenant]
					}
				}
			}
			code, body := authReq(t, e.method, s.url+e.path, key, a.tenant, e.body)
			if code != a.code {
				t.Errorf("%s %s, %s: %d, want %d: %.200s", e.method, e.path, a.name, code, a.code, body)
			}
			if strings.Contains(body, "bulk beta") || strings.Contains(body, "bulk acme") {
				t.Errorf("%s %s, %s: the refusal carries records: %.200s", e.method, e.path, a.name, body)
			}
			refusals++
		}
	}
	// Rules made through the API and saved searches are their tenant's:
	// the other tenant neither sees nor deletes them, an ingest key makes
	// none.
	rule := `{"name":"acme-errors","query":"level:error | stats count() as n","condition":"n > 100","every":"1m"}`
	if code, body := authReq(t, "POST", s.url+"/api/v1/rules", read["acme"], "", rule); code != 200 || !strings.Contains(body, `"runtime":true`) {
		t.Errorf("acme makes a rule: %d %s", code, body)
	}
	if code, _ := authReq(t, "POST", s.url+"/api/v1/rules", ingest["acme"], "", rule); code != 403 {
		t.Errorf("an ingest key makes a rule: %d, want 403", code)
	}
	if code, body := authReq(t, "POST", s.url+"/api/v1/saved_searches", read["acme"], "", `{"name":"acme-saved","query":"level:error","from":"now-1h","to":"now"}`); code != 200 {
		t.Errorf("acme saves a search: %d %s", code, body)
	}
	for _, path := range []string{"/api/v1/rules", "/api/v1/alerts", "/api/v1/saved_searches"} {
		if code, body := authReq(t, "GET", s.url+path, read["beta"], "", ""); code != 200 || strings.Contains(body, "acme-") {
			t.Errorf("beta reads %s: %d %s", path, code, body)
		}
		if code, body := authReq(t, "GET", s.url+path, read["acme"], "", ""); code != 200 || !strings.Contains(body, "acme-") {
			t.Errorf("acme reads %s: %d %s", path, code, body)
		}
	}
	if code, _ := authReq(t, "DELETE", s.url+"/api/v1/rules/acme-errors", read["beta"], "", ""); code != 404 {
		t.Errorf("beta deletes acme's rule: %d, want 404", code)
	}
	if code, _ := authReq(t, "DELETE", s.url+"/api/v1/rules/acme-errors", read["acme"], "", ""); code != 200 {
		t.Errorf("acme deletes its rule: %d", code)
	}
	// A forged _tenant in a record's body is refused, not stored.
	if code, ans, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(`{"_msg":"INJECTED","_tenant":"beta"}`),
		"Authorization", "Bearer "+ingest["acme"]); code != 400 || !strings.Contains(ans, "_tenant") {
		t.Errorf("a _tenant field: %d %s", code, ans)
	}
	// A cross-origin text/plain POST (what a page elsewhere can send) is refused.
	if code, _, _ := s.post("/insert/jsonline", "text/plain", []byte(`{"_msg":"csrf"}`), "Authorization", "Bearer "+ingest["acme"],
		"Origin", "http://evil.example", "Sec-Fetch-Site", "cross-site"); code != 403 {
		t.Errorf("cross-origin write: %d, want 403", code)
	}
	// The status a tenant's key sees names its tenant only; /metrics
	// needs an admin key.
	if code, body := authReq(t, "GET", s.url+"/api/v1/status", read["acme"], "", ""); code != 200 || strings.Contains(body, "beta") || strings.Contains(body, "wal_fill") {
		t.Errorf("status for acme: %d %s", code, body)
	}
	if code, _ := authReq(t, "GET", s.url+"/metrics", read["acme"], "", ""); code != 403 {
		t.Errorf("/metrics with a query key: %d, want 403", code)
	}
	if code, body := authReq(t, "GET", s.url+"/metrics", ops, "", ""); code != 200 || !strings.Contains(body, `sluice_tenant_ingest_records_total{tenant="acme"}`) {
		t.Errorf("/metrics with the admin key: %d, per-tenant figures missing", code)
	}
	// The profiler needs an admin key too.
	if code, _ := authReq(t, "GET", s.url+"/debug/pprof/cmdline", ops, "", ""); code != 200 {
		t.Errorf("/debug/pprof/cmdline with the admin key: %d", code)
	}
	// http.metrics_addr: metrics and probes without a key, per-tenant
	// figures (the query quotas' among them) but no record, and nothing
	// else.
	murl := "http://" + metricsAddr
	if code, body := authReq(t, "GET", murl+"/metrics", "", "", ""); code != 200 ||
		!strings.Contains(body, `sluice_tenant_query_scanned_records_total{tenant="acme"}`) || strings.Contains(body, "bulk acme") {
		t.Errorf("metrics_addr /metrics without a key: %d, per-tenant query cost missing or records present", code)
	}
	for path, want := range map[string]int{"/readyz": 200, "/healthz": 200, "/api/v1/query?query=*": 404, "/debug/pprof/cmdline": 404} {
		if code, _ := authReq(t, "GET", murl+path, "", "", ""); code != want {
			t.Errorf("metrics_addr %s without a key: %d, want %d", path, code, want)
		}
	}
	// The status shows acme's query quotas.
	var st struct {
		Tenants []struct {
			Tenant             string `json:"tenant"`
			QueryMaxConcurrent int    `json:"quota_query_max_concurrent"`
			QueryMaxScanned    int64  `json:"quota_query_max_scanned_records"`
			QueryScanned       int64  `json:"query_scanned_records_total"`
		} `json:"tenants"`
	}
	_, body := authReq(t, "GET", s.url+"/api/v1/status", read["acme"], "", "")
	if err := json.Unmarshal([]byte(body), &st); err != nil || len(st.Tenants) != 1 || st.Tenants[0].Tenant != "acme" ||
		st.Tenants[0].QueryMaxConcurrent != 3 || st.Tenants[0].QueryMaxScanned != 1000000 || st.Tenants[0].QueryScanned == 0 {
		t.Errorf("acme's status: %+v (%v)", st.Tenants, err)
	}

	// The audit trail holds every refusal and the revocation; only the
	// admin key reads it.
	env := []string{"SLUICE_API_KEY=" + ops}
	deadline := time.Now().Add(10 * time.Second)
	for {
		out := sluiceRun(t, env, "query", "action:refused | stats count() as n", "--tenant", "_audit", "--json", "--server", s.url)
		var row struct{ N int }
		_ = json.Unmarshal([]byte(out), &row)
		if row.N >= refusals {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit trail: %s refusals, want at least %d", strings.TrimSpace(out), refusals)
		}
		time.Sleep(300 * time.Millisecond)
	}
	if out := sluiceRun(t, env, "query", "action:key_revoked key:old", "--tenant", "_audit", "--json", "--server", s.url); !strings.Contains(out, `"key":"old"`) {
		t.Errorf("revocation not audited: %s", out)
	}
	if out := sluiceRun(t, env, "query", "action:refused AND method:forward", "--tenant", "_audit", "--json", "--server", s.url); !strings.Contains(out, "username/password mismatch") {
		t.Errorf("forward refusal not audited: %s", out)
	}
	s.stop()
}

// waitRefused waits until the server refuses key (the keys file is
// re-read within auth.reload_interval).
func waitRefused(t *testing.T, u, key string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		code, _ := authReq(t, "POST", u, key, "", "query=*")
		if code == 401 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("revoked key still answered %d after 5s", code)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// syslogMTLS sends 3 lines per tenant (acme, beta) to Sluice's syslog TLS
// listener with a client certificate whose CN is the tenant: util-linux
// logger writes to rsyslog, whose omfwd forwards over TLS with the
// tenant's certificate (rsyslog's ossl driver), or, where rsyslog or its
// ossl module is not installed, a Go TLS client does. A certificate whose
// CN is not a tenant name is refused. It returns the lines per tenant.
func syslogMTLS(t *testing.T, ca testcert.Cert, tlsAddr string) int {
	t.Helper()
	const n = 3
	dir := t.TempDir()
	caFile := filepath.Join(dir, "ca.pem")
	if err := os.WriteFile(caFile, ca.PEM(), 0o600); err != nil {
		t.Fatal(err)
	}
	certs := map[string][2]string{}
	for _, tenant := range []string{"acme", "beta"} {
		c, k := ca.Issue(t, tenant).WriteFiles(t, t.TempDir())
		certs[tenant] = [2]string{c, k}
	}
	rsyslogd, rerr := exec.LookPath("rsyslogd")
	loggerBin, lerr := exec.LookPath("logger")
	_, oerr := os.Stat("/usr/lib/x86_64-linux-gnu/rsyslog/lmnsd_ossl.so")
	if rerr != nil || lerr != nil || oerr != nil {
		t.Log("rsyslog with its ossl module or logger is not installed (Debian packages rsyslog, rsyslog-openssl, bsdutils): syslog over mutual TLS is sent by a Go TLS client; CI installs them")
		for tenant := range certs {
			cert := ca.Issue(t, tenant)
			c, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{cert.TLS}})
			if err != nil {
				t.Fatal(err)
			}
			for i := range n {
				msg := fmt.Sprintf("<14>1 %s host syslog-%s - - - syslog %s line %d", time.Now().UTC().Format(time.RFC3339Nano), tenant, tenant, i)
				fmt.Fprintf(c, "%d %s", len(msg), msg)
			}
			c.Close()
		}
	} else {
		host, port, _ := net.SplitHostPort(tlsAddr)
		in := map[string]string{"acme": freeAddr(t), "beta": freeAddr(t)}
		var conf strings.Builder
		fmt.Fprintf(&conf, "global(workDirectory=%q)\nmodule(load=\"imtcp\")\n", dir)
		for tenant, addr := range in {
			_, p, _ := net.SplitHostPort(addr)
			fmt.Fprintf(&conf, `input(type="imtcp" address="127.0.0.1" port=%q ruleset=%q)
ruleset(name=%q) {
  action(type="omfwd" target=%q port=%q protocol="tcp" TCP_Framing="octet-counted" template="RSYSLOG_SyslogProtocol23Format"
         StreamDriver="ossl" StreamDriverMode="1" StreamDriverAuthMode="x509/certvalid"
         StreamDriver.CAFile=%q StreamDriver.CertFile=%q StreamDriver.KeyFile=%q)
}
`, p, tenant, tenant, host, port, caFile, certs[tenant][0], certs[tenant][1])
		}
		addrs := make([]string, 0, len(in))
		for _, addr := range in {
			addrs = append(addrs, addr)
		}
		startRsyslogd(t, rsyslogd, dir, conf.String(), addrs...)
		for tenant, addr := range in {
			_, p, _ := net.SplitHostPort(addr)
			var lines []string
			for i := range n {
				lines = append(lines, fmt.Sprintf("syslog %s line %d", tenant, i))
			}
			lg := exec.Command(loggerBin, "--server", "127.0.0.1", "--port", p, "--tcp", "--rfc5424", "-t", "syslog-"+tenant)
			lg.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
			if o, err := lg.CombinedOutput(); err != nil {
				t.Fatalf("logger: %v\n%s", err, o)
			}
		}
	}
	// A certificate from the same CA whose CN is not a tenant name: the
	// connection is closed and nothing of it stored.
	bad := ca.Issue(t, "../x")
	c, err := tls.Dial("tcp", tlsAddr, &tls.Config{RootCAs: ca.Pool, Certificates: []tls.Certificate{bad.TLS}})
	if err == nil {
		msg := "<14>1 - host bad - - - bad cert line"
		fmt.Fprintf(c, "%d %s", len(msg), msg)
		_ = c.SetReadDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Read(make([]byte, 1)); err == nil {
			t.Error("a certificate whose CN is not a tenant name kept its connection")
		}
		c.Close()
	}
	return n
}
