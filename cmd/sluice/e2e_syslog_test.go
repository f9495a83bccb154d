package main

import (
	"crypto/tls"
	"crypto/x509"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sluice-log/sluice/internal/testutil/testcert"
)

// TestE2ESyslog sends syslog through real clients (util-linux logger over
// UDP and TCP, rsyslog forwarding over octet-counted TCP, a Go TLS client)
// into the real binary and checks exact counts and fields.
func TestE2ESyslog(t *testing.T) {
	needBinary(t)
	t.Parallel()
	loggerBin, err := exec.LookPath("logger")
	if err != nil {
		t.Skip("util-linux logger is not installed (Debian package bsdutils); CI installs it")
	}
	dir := t.TempDir()
	tc := testcert.New(t)
	certFile, keyFile := tc.WriteFiles(t, dir)
	pool := tc.Pool
	udpAddr, tcpAddr, tlsAddr := freeUDPAddr(t), freeAddr(t), freeAddr(t)
	s := startServer(t, t.TempDir(), fmt.Sprintf(`
forward: {enabled: false}
otlp: {enabled: false}
syslog:
  udp_addr: %s
  tcp_addr: %s
  tls_addr: %s
  tls: {cert_file: %s, key_file: %s}
`, udpAddr, tcpAddr, tlsAddr, certFile, keyFile))

	logger := func(addr string, args []string, lines []string) {
		t.Helper()
		host, port, _ := net.SplitHostPort(addr)
		cmd := exec.Command(loggerBin, append([]string{"--server", host, "--port", port}, args...)...)
		cmd.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("logger %v: %v\n%s", args, err, out)
		}
	}
	numbered := func(prefix string, n int) []string {
		var out []string
		for i := range n {
			out = append(out, fmt.Sprintf("%s line %d", prefix, i))
		}
		return out
	}

	logger(udpAddr, []string{"--udp", "--rfc3164", "-t", "udpapp", "-p", "local3.warning"}, numbered("udp", 5))
	logger(tcpAddr, []string{"--tcp", "--rfc5424", "--octet-count", "-t", "tcpapp", "-p", "user.err",
		"--msgid", "M1", "--sd-id", "test@32473", "--sd-param", `k="v w"`}, numbered("tcp5424", 7))
	logger(tcpAddr, []string{"--tcp", "--rfc3164", "-t", "tcp3164", "-p", "daemon.info"}, numbered("tcp3164", 3))
	sendTLS(t, tlsAddr, pool, 4)

	want := map[string]int{"udpapp": 5, "tcpapp": 7, "tcp3164": 3, "tlsapp": 4}
	if rsyslogd, err := exec.LookPath("rsyslogd"); err == nil {
		viaRsyslog(t, rsyslogd, loggerBin, tcpAddr)
		want["viarsyslog"] = 20
	} else {
		t.Log("rsyslogd is not installed (Debian package rsyslog): the rsyslog part is skipped; CI installs it")
	}

	waitAppCounts(t, s, want)

	// One query for all rows keeps the test fast on a loaded machine.
	byApp := map[string][]map[string]any{}
	for _, row := range s.queryRows("*") {
		app := fmt.Sprint(row["app_name"])
		byApp[app] = append(byApp[app], row)
	}
	checkFields := func(app string, fields map[string]string) {
		t.Helper()
		rows := byApp[app]
		if len(rows) != want[app] {
			t.Fatalf("app_name:%s: %d rows, want %d", app, len(rows), want[app])
		}
		for _, row := range rows {
			for k, v := range fields {
				if got := fmt.Sprint(row[k]); got != v {
					t.Errorf("app_name:%s: field %s = %q, want %q (row %v)", app, k, got, v, row)
				}
			}
			if msg := fmt.Sprint(row["_msg"]); !strings.Contains(msg, " line ") {
				t.Errorf("app_name:%s: message %q", app, msg)
			}
		}
	}
	checkFields("udpapp", map[string]string{"facility": "local3", "severity": "warning", "level": "warn", "priority": "156"})
	checkFields("tcpapp", map[string]string{"facility": "user", "severity": "err", "level": "error", "severity_code": "3",
		"msg_id": "M1", "sd.test@32473.k": "v w"})
	checkFields("tcp3164", map[string]string{"facility": "daemon", "severity": "info", "level": "info"})
	checkFields("tlsapp", map[string]string{"facility": "local7", "severity": "notice", "hostname": "tls-client", "proc_id": "77"})
	if want["viarsyslog"] > 0 {
		checkFields("viarsyslog", map[string]string{"facility": "local0", "severity": "notice", "level": "info"})
	}
	if n := s.count("severity:err"); n != 7 {
		t.Errorf("severity:err: %d records, want 7", n)
	}
	// One vocabulary of levels whatever the protocol: a JSON line's
	// WARNING is level warn (severity_text keeps it), found with syslog's
	// warnings by level:warn.
	warnBefore := s.count("level:warn")
	if code, body, _ := s.post("/insert/jsonline", "application/x-ndjson", []byte(`{"app_name":"jsonapp","level":"WARNING","_msg":"disk almost full"}`+"\n")); code != 200 {
		t.Fatalf("jsonline: %d %s", code, body)
	}
	for deadline := time.Now().Add(10 * time.Second); s.count("app_name:jsonapp") == 0 && time.Now().Before(deadline); {
		time.Sleep(50 * time.Millisecond)
	}
	if n := s.count("level:warn"); n != warnBefore+1 {
		t.Errorf("level:warn: %d records, want %d (syslog warnings and the JSON WARNING)", n, warnBefore+1)
	}
	if n := s.count(`level:warn AND severity_text:="WARNING" AND app_name:jsonapp`); n != 1 {
		t.Errorf("the JSON line's original level: %d records with severity_text WARNING, want 1", n)
	}
	s.stop()
}

// waitAppCounts polls until the records per app_name are exactly want;
// more than wanted is an error at once.
func waitAppCounts(t *testing.T, s *server, want map[string]int) {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		got := map[string]int{}
		for _, row := range s.queryRows("* | stats count() as n by app_name") {
			n, _ := row["n"].(float64)
			got[fmt.Sprint(row["app_name"])] = int(n)
		}
		done := true
		for app, n := range want {
			if got[app] > n {
				t.Fatalf("app_name:%s: %d records, want %d (all: %v)", app, got[app], n, got)
			}
			done = done && got[app] == n
		}
		if done && len(got) == len(want) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("records per app_name %v, want %v", got, want)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// viaRsyslog runs rsyslogd in the foreground with a TCP input that logger
// writes 20 lines to, and forwards them to Sluice over octet-counted TCP.
func viaRsyslog(t *testing.T, rsyslogd, loggerBin, sluiceTCP string) {
	t.Helper()
	dir := t.TempDir()
	inAddr := freeAddr(t)
	_, inPort, _ := net.SplitHostPort(inAddr)
	host, port, _ := net.SplitHostPort(sluiceTCP)
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port=%q)
if $programname == "viarsyslog" then {
  action(type="omfwd" target=%q port=%q protocol="tcp" TCP_Framing="octet-counted"
         template="RSYSLOG_SyslogProtocol23Format")
}
`, dir, inPort, host, port)
	startRsyslogd(t, rsyslogd, dir, conf, inAddr)
	var lines []string
	for i := range 20 {
		lines = append(lines, fmt.Sprintf("rsyslog line %d", i))
	}
	cmd2 := exec.Command(loggerBin, "--server", "127.0.0.1", "--port", inPort, "--tcp", "--rfc3164", "-t", "viarsyslog", "-p", "local0.notice")
	cmd2.Stdin = strings.NewReader(strings.Join(lines, "\n") + "\n")
	if o, err := cmd2.CombinedOutput(); err != nil {
		t.Fatalf("logger to rsyslog: %v\n%s", err, o)
	}
}

// sendTLS sends n octet-counted RFC 5424 messages over TLS (RFC 5425).
func sendTLS(t *testing.T, addr string, pool *x509.CertPool, n int) {
	t.Helper()
	c, err := tls.Dial("tcp", addr, &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"})
	if err != nil {
		t.Fatalf("TLS dial %s: %v", addr, err)
	}
	defer c.Close()
	for i := range n {
		msg := fmt.Sprintf("<189>1 %s tls-client tlsapp 77 - - tls line %d", time.Now().UTC().Format(time.RFC3339Nano), i)
		if _, err := fmt.Fprintf(c, "%d %s", len(msg), msg); err != nil {
			t.Fatalf("TLS write: %v", err)
		}
	}
}

// freeUDPAddr returns a free UDP port on the loopback interface.
func freeUDPAddr(t *testing.T) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	return pc.LocalAddr().String()
}

// startRsyslogd runs rsyslogd in the foreground with conf (written into
// dir) until the test ends, and waits until it accepts TCP connections on
// every address of listen. Its output is logged when the test fails.
func startRsyslogd(t *testing.T, rsyslogd, dir, conf string, listen ...string) {
	t.Helper()
	confPath := filepath.Join(dir, "rsyslog.conf")
	if err := os.WriteFile(confPath, []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(rsyslogd, "-n", "-f", confPath, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out syncBuffer
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatalf("start rsyslogd: %v", err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", out.String())
		}
	})
	for _, addr := range listen {
		deadline := time.Now().Add(10 * time.Second)
		for {
			c, err := net.Dial("tcp", addr)
			if err == nil {
				c.Close()
				break
			}
			if time.Now().After(deadline) {
				t.Fatalf("rsyslogd does not listen on %s: %v\n%s", addr, err, out.String())
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}
