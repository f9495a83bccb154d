package grok

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// match compiles pattern over the default library and returns the first
// value of each field, or nil when it does not match.
func match(t *testing.T, pattern, s string) map[string]string {
	t.Helper()
	p, err := Compile(pattern, Default)
	if err != nil {
		t.Fatalf("Compile(%q): %v", pattern, err)
	}
	got := map[string]string{}
	if !p.Match(s, func(c Capture, v string) {
		if _, ok := got[c.Field]; !ok {
			got[c.Field] = v + typeSuffix(c.Type)
		}
	}) {
		return nil
	}
	return got
}

func TestLibraryCompiles(t *testing.T) {
	for _, name := range slices.Sorted(maps.Keys(Default)) {
		if _, err := Compile("%{"+name+"}", Default); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestCompositePatterns(t *testing.T) {
	for _, tc := range []struct {
		name, pattern, in string
		want              map[string]string
	}{
		{"combined apache", "%{COMBINEDAPACHELOG}",
			`203.0.113.9 - frank [10/Oct/2000:13:55:36 -0700] "GET /apache_pb.gif?a=1 HTTP/1.0" 200 2326 "http://www.example.com/start.html" "Mozilla/4.08 [en] (Win98; I ;Nav)"`,
			map[string]string{"clientip": "203.0.113.9", "ident": "-", "auth": "frank", "timestamp": "10/Oct/2000:13:55:36 -0700",
				"verb": "GET", "request": "/apache_pb.gif?a=1", "httpversion": "1.0", "response": "200", "bytes": "2326",
				"referrer": "http://www.example.com/start.html", "agent": "Mozilla/4.08 [en] (Win98; I ;Nav)"}},
		{"combined nginx, ipv6 client, no bytes, escaped quote in agent", "%{COMBINEDAPACHELOG}",
			`2001:db8::7 - - [02/Jan/2026:03:04:05 +0000] "POST /api/v1/items HTTP/2.0" 201 - "-" "curl/8.5 \"x\""`,
			map[string]string{"clientip": "2001:db8::7", "ident": "-", "auth": "-", "timestamp": "02/Jan/2026:03:04:05 +0000",
				"verb": "POST", "request": "/api/v1/items", "httpversion": "2.0", "response": "201", "referrer": "-", "agent": `curl/8.5 \"x\"`}},
		{"common apache, raw request", "^%{COMMONAPACHELOG}$",
			`web-1.example.com - - [02/Jan/2026:03:04:05 +0000] "\x16\x03\x01" 400 0`,
			map[string]string{"clientip": "web-1.example.com", "ident": "-", "auth": "-", "timestamp": "02/Jan/2026:03:04:05 +0000",
				"rawrequest": `\x16\x03\x01`, "response": "400", "bytes": "0"}},
		{"syslog line", "%{SYSLOGLINE}",
			"Jan  2 03:04:05 host-7 sshd[4242]: Accepted publickey for alice from 10.0.0.1 port 51234",
			map[string]string{"timestamp": "Jan  2 03:04:05", "logsource": "host-7", "program": "sshd", "pid": "4242",
				"message": "Accepted publickey for alice from 10.0.0.1 port 51234"}},
		{"syslog line, rfc3339 time, no pid", "%{SYSLOGLINE}",
			"2026-01-02T03:04:05.123+01:00 db1 kernel: Out of memory: Killed process 42",
			map[string]string{"timestamp": "2026-01-02T03:04:05.123+01:00", "logsource": "db1", "program": "kernel",
				"message": "Out of memory: Killed process 42"}},
		{"syslog with facility", "%{SYSLOGBASE}",
			"Dec 31 23:59:60 <4.3> 192.0.2.1 cron[1]:",
			map[string]string{"timestamp": "Dec 31 23:59:60", "facility": "4", "priority": "3", "logsource": "192.0.2.1", "program": "cron", "pid": "1"}},
		{"iso timestamp and level", `^%{TIMESTAMP_ISO8601:ts} +%{LOGLEVEL:level} %{GREEDYDATA:msg}$`,
			"2026-01-02 03:04:05,678 WARNING disk almost full",
			map[string]string{"ts": "2026-01-02 03:04:05,678", "level": "WARNING", "msg": "disk almost full"}},
		{"java frame", "%{JAVASTACKTRACEPART}", "\tat com.example.shop.Cart.<init>(Cart.java:42)",
			map[string]string{"class": "com.example.shop.Cart", "method": "<init>", "file": "Cart.java", "line": "42"}},
		{"typed captures", `took=%{NUMBER:ms:int}ms ratio=%{NUMBER:r:float}`, "took=12.7ms ratio=0.50",
			map[string]string{"ms": "12.7:int", "r": "0.50:float"}},
		{"bracketed field names", `%{IP:[source][ip]}:%{INT:[source][port]:int}`, "from 10.1.2.3:0443",
			map[string]string{"source.ip": "10.1.2.3", "source.port": "0443:int"}},
		{"own named groups", `user=(?P<user>\w+) %{EMAILADDRESS:email}`, "user=bob bob.smith+x@mail.example.org",
			map[string]string{"user": "bob", "email": "bob.smith+x@mail.example.org"}},
		{"uri", "%{URI:u}", "see https://alice:pw@api.example.com:8443/v1/x?y=1&z=[2] now",
			map[string]string{"u": "https://alice:pw@api.example.com:8443/v1/x?y=1&z=[2]"}},
		{"mac and uuid", "%{MAC:mac} %{UUID:id}", "00:1A:2b:3c:4D:5e 123e4567-e89b-12d3-a456-426614174000",
			map[string]string{"mac": "00:1A:2b:3c:4D:5e", "id": "123e4567-e89b-12d3-a456-426614174000"}},
		{"no match", "%{COMBINEDAPACHELOG}", "not an access log line", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := match(t, tc.pattern, tc.in)
			if tc.want == nil {
				if got != nil {
					t.Fatalf("matched %q: %v", tc.in, got)
				}
				return
			}
			if !maps.Equal(got, tc.want) {
				t.Fatalf("got  %v\nwant %v", got, tc.want)
			}
		})
	}
}

func TestAddresses(t *testing.T) {
	for _, tc := range []struct {
		pattern, in string
		ok          bool
	}{
		{"^%{IPV4}$", "192.168.0.255", true},
		{"^%{IPV4}$", "0.0.0.0", true},
		{"^%{IPV4}$", "256.1.1.1", false},
		{"^%{IPV4}$", "1.2.3", false},
		{"^%{IPV4}$", "01.2.3.4", false},
		{"^%{IPV6}$", "::", true},
		{"^%{IPV6}$", "::1", true},
		{"^%{IPV6}$", "fe80::1%eth0", true},
		{"^%{IPV6}$", "2001:db8:0:0:1:0:0:1", true},
		{"^%{IPV6}$", "2001:db8::1:0:0:1", true},
		{"^%{IPV6}$", "::ffff:192.0.2.128", true},
		{"^%{IPV6}$", "1:2:3:4:5:6:7:8:9", false},
		{"^%{IPV6}$", "1::2::3", false},
		{"^%{IPV6}$", "12345::1", false},
		{"^%{HOSTNAME}$", "a-b.example.com", true},
		{"^%{HOSTNAME}$", "-bad.example.com", false},
		{"^%{HOSTPORT}$", "db.internal:5432", true},
		{"^%{TIMESTAMP_ISO8601}$", "2026-01-02T03:04:05Z", true},
		{"^%{TIMESTAMP_ISO8601}$", "2026-13-02T03:04:05Z", false},
		{"^%{HTTPDATE}$", "02/Jan/2026:03:04:05 +0000", true},
		{"^%{LOGLEVEL}$", "Err", true},
		{"^%{LOGLEVEL}$", "verbose", false},
	} {
		if got := match(t, tc.pattern, tc.in) != nil; got != tc.ok {
			t.Errorf("%s on %q: matched %v, want %v", tc.pattern, tc.in, got, tc.ok)
		}
	}
}

func TestCompileErrors(t *testing.T) {
	lib := Default.With(map[string]string{"LOOP": "a%{LOOP2}", "LOOP2": "%{LOOP}", "BAD": "(unclosed"})
	for _, tc := range []struct{ pattern, want string }{
		{"%{NOPE}", "unknown pattern NOPE"},
		{"%{WORD", "not closed"},
		{"%{LOOP}", "refers to itself"},
		{"%{BAD}", "missing closing )"},
		{"%{WORD:x:bool}", `type "bool"`},
		{"%{WORD:}", "empty field name"},
		{"%{a-b}", "letters, digits and _ only"},
		{"%{}", "want %{NAME}"},
	} {
		_, err := Compile(tc.pattern, lib)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Compile(%q) = %v, want an error containing %q", tc.pattern, err, tc.want)
		}
	}
	// A library that doubles at every level stops at the size bound
	// rather than expanding to gigabytes.
	boom := Library{"L0": "x"}
	for i := 1; i <= 30; i++ {
		boom["L"+itoa(i)] = "%{L" + itoa(i-1) + "}%{L" + itoa(i-1) + "}"
	}
	if _, err := Compile("%{L30}", boom); err == nil || !strings.Contains(err.Error(), "expands to more than") {
		t.Errorf("exponential library: %v", err)
	}
}

// typeSuffix shows a capture's type in the expected values.
func typeSuffix(typ string) string {
	if typ == "" {
		return ""
	}
	return ":" + typ
}

func itoa(i int) string { return strconv.Itoa(i) }

// FuzzCompile: any pattern text compiles or fails with an error, never
// panics, and a compiled pattern matches any input without panicking.
func FuzzCompile(f *testing.F) {
	for _, s := range []string{"%{COMBINEDAPACHELOG}", "%{IP:a}-%{INT:b:int}", "%{", "%{X:y:z:w}", "(?P<a>x)%{WORD:a}", `\`, "%{%{WORD}}"} {
		f.Add(s, "10.0.0.1-42 GET / HTTP/1.1")
	}
	f.Fuzz(func(t *testing.T, pattern, in string) {
		p, err := Compile(pattern, Default)
		if err != nil {
			return
		}
		p.Match(in, func(Capture, string) {})
	})
}

// FuzzMatch runs the composite patterns over arbitrary lines: no panic,
// and every capture is a piece of the line.
func FuzzMatch(f *testing.F) {
	pats := []*Pattern{}
	for _, s := range []string{"%{COMBINEDAPACHELOG}", "%{SYSLOGLINE}", "%{TIMESTAMP_ISO8601:t} %{LOGLEVEL:l} %{GREEDYDATA:m}", "%{URI:u}", "%{IP:ip}"} {
		p, err := Compile(s, Default)
		if err != nil {
			f.Fatal(err)
		}
		pats = append(pats, p)
	}
	f.Add(`1.2.3.4 - - [02/Jan/2026:03:04:05 +0000] "GET / HTTP/1.1" 200 5 "-" "x"`)
	f.Add("Jan  2 03:04:05 h p[1]: m")
	f.Add("2026-01-02T03:04:05Z INFO ok")
	f.Add("http://[::1]:80/x?y")
	f.Fuzz(func(t *testing.T, in string) {
		for _, p := range pats {
			p.Match(in, func(c Capture, v string) {
				if !strings.Contains(in, v) {
					t.Fatalf("%s: capture %s=%q is not in %q", p, c.Field, v, in)
				}
			})
		}
	})
}
