package syslog

import "strconv"

// Facility and severity keywords as RFC 5424 section 6.2.1 and the
// syslog.conf tradition spell them, so that queries such as severity:err
// match what operators type in rsyslog filters.
var facilityNames = [24]string{
	"kern", "user", "mail", "daemon", "auth", "syslog", "lpr", "news",
	"uucp", "cron", "authpriv", "ftp", "ntp", "security", "console", "solaris-cron",
	"local0", "local1", "local2", "local3", "local4", "local5", "local6", "local7",
}

var severityNames = [8]string{"emerg", "alert", "crit", "err", "warning", "notice", "info", "debug"}

// levelNames are the severities as the level names of every receiver's
// records, OpenTelemetry's (ingest.NormalLevel: warning → warn, notice →
// info, critical, alert and emergency → fatal), so that one query finds
// warnings whatever protocol they came in by; the severity field keeps
// syslog's own name.
var levelNames = [8]string{"fatal", "fatal", "fatal", "error", "warn", "info", "info", "debug"}

// maxPriority is the largest valid PRI value: facility 23, severity 7.
const maxPriority = 23*8 + 7

// priorityCodes caches the decimal text of every PRI, facility and severity
// value, so that building a record allocates no number strings.
var priorityCodes = func() (s [maxPriority + 1]string) {
	for i := range s {
		s[i] = strconv.Itoa(i)
	}
	return s
}()
