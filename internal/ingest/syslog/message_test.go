package syslog

import (
	"errors"
	"reflect"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/sluice-log/sluice/internal/record"
)

func mustTime(t *testing.T, s string) int64 {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		t.Fatal(err)
	}
	return ts.UnixNano()
}

func TestParse(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	tm := func(s string) int64 { return mustTime(t, s) }
	tests := []struct {
		name string
		in   string
		want Message
	}{
		{"rfc5424 example 1", `<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - ` + "\xEF\xBB\xBF" + `'su root' failed for lonvick on /dev/pts/8`,
			Message{Format: RFC5424, Priority: 34, Time: tm("2003-10-11T22:14:15.003Z"), Hostname: "mymachine.example.com", AppName: "su", MsgID: "ID47",
				Text: "'su root' failed for lonvick on /dev/pts/8"}},
		{"rfc5424 offset and microseconds", `<165>1 2003-08-24T05:14:15.000003-07:00 192.0.2.1 myproc 8710 - - %% It's time to make the do-nuts.`,
			Message{Format: RFC5424, Priority: 165, Time: tm("2003-08-24T12:14:15.000003Z"), Hostname: "192.0.2.1", AppName: "myproc", ProcID: "8710",
				Text: "%% It's time to make the do-nuts."}},
		{"rfc5424 structured data", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3" eventSource="Application" eventID="1011"] An application event log entry...`,
			Message{Format: RFC5424, Priority: 165, Time: tm("2003-10-11T22:14:15.003Z"), Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
				SD:   []record.Field{{Name: "sd.exampleSDID@32473.iut", Value: "3"}, {Name: "sd.exampleSDID@32473.eventSource", Value: "Application"}, {Name: "sd.exampleSDID@32473.eventID", Value: "1011"}},
				Text: "An application event log entry..."}},
		{"rfc5424 two SD elements, no message", `<165>1 2003-10-11T22:14:15.003Z mymachine.example.com evntslog - ID47 [exampleSDID@32473 iut="3"][examplePriority@32473 class="high"]`,
			Message{Format: RFC5424, Priority: 165, Time: tm("2003-10-11T22:14:15.003Z"), Hostname: "mymachine.example.com", AppName: "evntslog", MsgID: "ID47",
				SD: []record.Field{{Name: "sd.exampleSDID@32473.iut", Value: "3"}, {Name: "sd.examplePriority@32473.class", Value: "high"}}}},
		{"rfc5424 SD escapes", `<14>1 2026-11-25T10:00:00Z h a 1 m [x k="a \"q\" \\ \] \n"] msg`,
			Message{Format: RFC5424, Priority: 14, Time: tm("2026-11-25T10:00:00Z"), Hostname: "h", AppName: "a", ProcID: "1", MsgID: "m",
				SD: []record.Field{{Name: "sd.x.k", Value: `a "q" \ ] \n`}}, Text: "msg"}},
		{"rfc5424 all NILVALUE", `<0>1 - - - - - -`, Message{Format: RFC5424, Priority: 0}},
		{"rfc5424 repeated param keeps last", `<14>1 - h a - - [x k="1" k="2"] m`,
			Message{Format: RFC5424, Priority: 14, Hostname: "h", AppName: "a", SD: []record.Field{{Name: "sd.x.k", Value: "2"}}, Text: "m"}},
		{"rfc5424 bad time is arrival time", `<14>1 2026-13-45T99:00:00Z h a - - - m`,
			Message{Format: RFC5424, Priority: 14, Hostname: "h", AppName: "a", Text: "m"}},
		{"rfc5424 logger util-linux", `<13>1 2026-11-25T17:07:17.123456+00:00 myhost myapp 4242 - [timeQuality tzKnown="1" isSynced="1" syncAccuracy="72500"] hello world`,
			Message{Format: RFC5424, Priority: 13, Time: tm("2026-11-25T17:07:17.123456Z"), Hostname: "myhost", AppName: "myapp", ProcID: "4242",
				SD:   []record.Field{{Name: "sd.timeQuality.tzKnown", Value: "1"}, {Name: "sd.timeQuality.isSynced", Value: "1"}, {Name: "sd.timeQuality.syncAccuracy", Value: "72500"}},
				Text: "hello world"}},
		{"rfc5424 trailing newline", "<14>1 - h a - - - m\n", Message{Format: RFC5424, Priority: 14, Hostname: "h", AppName: "a", Text: "m"}},
		{"rfc3164 classic", `<13>Oct 11 22:14:15 host app[123]: msg`,
			Message{Format: RFC3164, Priority: 13, Time: tm("2026-10-11T22:14:15Z"), Hostname: "host", AppName: "app", ProcID: "123", Text: "msg"}},
		{"rfc3164 RFC example", `<34>Oct 11 22:14:15 mymachine su: 'su root' failed for lonvick on /dev/pts/8`,
			Message{Format: RFC3164, Priority: 34, Time: tm("2026-10-11T22:14:15Z"), Hostname: "mymachine", AppName: "su", Text: "'su root' failed for lonvick on /dev/pts/8"}},
		{"rfc3164 padded day, no hostname", `<30>Nov  5 01:02:03 systemd[1]: Started foo.service.`,
			Message{Format: RFC3164, Priority: 30, Time: tm("2026-11-05T01:02:03Z"), AppName: "systemd", ProcID: "1", Text: "Started foo.service."}},
		{"rfc3164 December in January is last year", `<13>Dec 31 23:59:59 h a: m`,
			Message{Format: RFC3164, Priority: 13, Time: tm("2025-12-31T23:59:59Z"), Hostname: "h", AppName: "a", Text: "m"}},
		{"rfc3164 with year", `<13>Oct 11 2024 22:14:15 h a: m`,
			Message{Format: RFC3164, Priority: 13, Time: tm("2024-10-11T22:14:15Z"), Hostname: "h", AppName: "a", Text: "m"}},
		{"rfc3164 fractional seconds", `<13>Oct 11 22:14:15.250 h a: m`,
			Message{Format: RFC3164, Priority: 13, Time: tm("2026-10-11T22:14:15.25Z"), Hostname: "h", AppName: "a", Text: "m"}},
		{"rfc3164 rsyslog RFC 3339 time", `<86>2026-11-25T17:07:17.5+01:00 web1 sshd[99]: Accepted publickey`,
			Message{Format: RFC3164, Priority: 86, Time: tm("2026-11-25T16:07:17.5Z"), Hostname: "web1", AppName: "sshd", ProcID: "99", Text: "Accepted publickey"}},
		{"cisco ios", `<189>123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: Configured from console by vty0`,
			Message{Format: RFC3164, Priority: 189, Time: tm("2026-03-01T00:01:02.345Z"), AppName: "%SYS-5-CONFIG_I", Text: "Configured from console by vty0"}},
		{"cisco with colon after time", `<187>Mar  1 00:01:02: %LINK-3-UPDOWN: Interface up`,
			Message{Format: RFC3164, Priority: 187, Time: tm("2026-03-01T00:01:02Z"), AppName: "%LINK-3-UPDOWN", Text: "Interface up"}},
		{"rfc3164 no time", `<13>app: hello`, Message{Format: RFC3164, Priority: 13, AppName: "app", Text: "hello"}},
		{"rfc3164 no tag", `<13>Oct 11 22:14:15 host just some words`,
			Message{Format: RFC3164, Priority: 13, Time: tm("2026-10-11T22:14:15Z"), Hostname: "host", Text: "just some words"}},
		{"rfc3164 bare text", `<13>hello world`, Message{Format: RFC3164, Priority: 13, Text: "hello world"}},
		{"rfc3164 impossible date is arrival time", `<13>Feb 30 22:14:15 h a: m`,
			Message{Format: RFC3164, Priority: 13, Hostname: "h", AppName: "a", Text: "m"}},
		{"rfc3164 empty message", `<13>`, Message{Format: RFC3164, Priority: 13}},
		{"rfc3164 pid tag without colon", `<13>Oct 11 22:14:15 h app[7] m`,
			Message{Format: RFC3164, Priority: 13, Time: tm("2026-10-11T22:14:15Z"), Hostname: "h", AppName: "app", ProcID: "7", Text: "m"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := now
			if tt.name == "rfc3164 December in January is last year" {
				n = time.Date(2026, 1, 1, 0, 5, 0, 0, time.UTC)
			}
			got, err := Parse(tt.in, n, time.UTC)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse(%q)\n got %+v\nwant %+v", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"", ErrNoPriority},
		{"hello", ErrNoPriority},
		{"<>x", ErrNoPriority},
		{"<192>x", ErrNoPriority},
		{"<1234>x", ErrNoPriority},
		{"<13", ErrNoPriority},
		{"GET / HTTP/1.1", ErrNoPriority},
		{"<13>1 2026-11-25T10:00:00Z host", ErrRFC5424},
		{"<13>1 2026-11-25T10:00:00Z  host a - - - m", ErrRFC5424},
		{"<13>1 - h a - - x", ErrRFC5424},
		{`<13>1 - h a - - [x k="v"`, ErrRFC5424},
		{`<13>1 - h a - - [x k=v] m`, ErrRFC5424},
		{`<13>1 - h a - - [x k="v] m`, ErrRFC5424},
		{`<13>1 - h a - - [ k="v"] m`, ErrRFC5424},
		{`<13>1 - h a - - [x k="v"]m`, ErrRFC5424},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in, time.Now(), time.UTC)
		if !errors.Is(err, tt.want) {
			t.Errorf("Parse(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestParseBytesInvalidUTF8(t *testing.T) {
	m, err := ParseBytes([]byte("<13>Oct 11 22:14:15 h a: bad \xff\xfe byte"), time.Now(), time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	if want := "bad \uFFFD byte"; m.Text != want {
		t.Errorf("text %q, want %q", m.Text, want)
	}
}

func TestRecord(t *testing.T) {
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	m, err := Parse(`<11>1 - web1 nginx 42 ID7 [req id="abc"] boom`, now, time.UTC)
	if err != nil {
		t.Fatal(err)
	}
	c := newConverter([]string{"hostname", "app_name", "app_name"}, "t1", nil)
	got := c.record(&m, now)
	want := record.Record{
		Time: now.UnixNano(), Tenant: "t1", Message: "boom",
		Stream: []record.Field{{Name: "app_name", Value: "nginx"}, {Name: "hostname", Value: "web1"}},
		Fields: []record.Field{
			{Name: "priority", Value: "11"}, {Name: "facility", Value: "user"}, {Name: "facility_code", Value: "1"},
			{Name: "severity", Value: "err"}, {Name: "severity_code", Value: "3"}, {Name: "level", Value: "error"},
			{Name: "proc_id", Value: "42"}, {Name: "msg_id", Value: "ID7"}, {Name: "sd.req.id", Value: "abc"},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("record\n got %+v\nwant %+v", got, want)
	}
}

func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - msg`,
		`<165>1 2003-10-11T22:14:15.003Z h evntslog - ID47 [a@1 iut="3" x="\"\]"][b c="d"] An entry`,
		`<13>Oct 11 22:14:15 host app[123]: msg`,
		`<189>123: *Mar  1 00:01:02.345 UTC: %SYS-5-CONFIG_I: Configured`,
		`<13>Oct 11 2024 22:14:15 h a: m`,
		`<86>2026-11-25T17:07:17.5+01:00 web1 sshd[99]: ok`,
		"<0>1 - - - - - -", "<13>", "x",
	} {
		f.Add(s)
	}
	now := time.Date(2026, 11, 25, 17, 0, 0, 0, time.UTC)
	conv := newConverter([]string{"hostname", "app_name"}, "", nil)
	f.Fuzz(func(t *testing.T, s string) {
		m, err := ParseBytes([]byte(s), now, time.UTC)
		if err != nil {
			return
		}
		if m.Priority < 0 || m.Priority > maxPriority {
			t.Fatalf("priority %d out of range", m.Priority)
		}
		r := conv.record(&m, now)
		if !utf8.ValidString(r.Message) {
			t.Fatalf("invalid UTF-8 in message %q", r.Message)
		}
		seen := map[string]bool{}
		for _, f := range append(append([]record.Field(nil), r.Stream...), r.Fields...) {
			if !utf8.ValidString(f.Name) || !utf8.ValidString(f.Value) {
				t.Fatalf("invalid UTF-8 in field %q=%q", f.Name, f.Value)
			}
			if seen[f.Name] {
				t.Fatalf("field %q twice in %+v", f.Name, r)
			}
			seen[f.Name] = true
		}
	})
}
