package grok

// The common patterns under the names grok users know. Each definition is
// written here from the grammar it names (RFC 3986 for hosts, IP
// addresses and URIs, RFC 3164 for BSD syslog, RFC 3339 for ISO 8601
// times, Apache's log format documentation for its access logs) in Go's
// RE2 syntax. Composite patterns fill the customary field names (clientip,
// verb, request, response, bytes, … for Apache; timestamp, logsource,
// program, pid, message for syslog), so that configurations written for
// other grok implementations keep their field names.
//
// Alternations are ordered so that a longer form is tried first where a
// shorter one is its prefix: Go's leftmost-first matching takes the first
// alternative that lets the whole pattern match.

// ipv6 follows RFC 3986's IPv6address rule, one alternative per row of it,
// with h16 a group of 1-4 hex digits and ls32 two groups or an IPv4
// address; an optional zone (%eth0) follows.
const (
	h16  = `[0-9A-Fa-f]{1,4}`
	ls32 = `(?:` + h16 + `:` + h16 + `|%{IPV4})`
	ipv6 = `(?:` +
		`(?:` + h16 + `:){6}` + ls32 +
		`|::(?:` + h16 + `:){5}` + ls32 +
		`|(?:` + h16 + `)?::(?:` + h16 + `:){4}` + ls32 +
		`|(?:(?:` + h16 + `:){0,1}` + h16 + `)?::(?:` + h16 + `:){3}` + ls32 +
		`|(?:(?:` + h16 + `:){0,2}` + h16 + `)?::(?:` + h16 + `:){2}` + ls32 +
		`|(?:(?:` + h16 + `:){0,3}` + h16 + `)?::` + h16 + `:` + ls32 +
		`|(?:(?:` + h16 + `:){0,4}` + h16 + `)?::` + ls32 +
		`|(?:(?:` + h16 + `:){0,5}` + h16 + `)?::` + h16 +
		`|(?:(?:` + h16 + `:){0,6}` + h16 + `)?::` +
		`)(?:%[0-9A-Za-z.]+)?`
	// decOctet is RFC 3986's dec-octet, longest forms first.
	decOctet = `(?:25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])`
	// hostLabel is an RFC 1123 label: letters, digits and inner hyphens.
	hostLabel = `[0-9A-Za-z](?:[0-9A-Za-z-]{0,61}[0-9A-Za-z])?`
)

// Default is the library every grok pattern is expanded over; a
// processor's pattern_definitions add to it.
var Default = Library{
	// Words, numbers and strings.
	"WORD":         `\b\w+\b`,
	"NOTSPACE":     `\S+`,
	"SPACE":        `\s*`,
	"DATA":         `.*?`,
	"GREEDYDATA":   `.*`,
	"INT":          `[+-]?[0-9]+`,
	"POSINT":       `\b[1-9][0-9]*\b`,
	"NONNEGINT":    `\b[0-9]+\b`,
	"BASE10NUM":    `[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?`,
	"NUMBER":       `%{BASE10NUM}`,
	"BASE16NUM":    `[+-]?(?:0[xX])?[0-9A-Fa-f]+`,
	"BASE16FLOAT":  `[+-]?(?:0[xX])?(?:[0-9A-Fa-f]+(?:\.[0-9A-Fa-f]*)?|\.[0-9A-Fa-f]+)`,
	"QUOTEDSTRING": `"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`(?:[^`\\\\]|\\\\.)*`",
	"QS":           `%{QUOTEDSTRING}`,
	// QSTEXT is what lies between double quotes, escapes allowed.
	"QSTEXT": `(?:[^"\\]|\\.)*`,
	"UUID":   `[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}`,
	"URN":    `urn:[0-9A-Za-z][0-9A-Za-z-]{0,31}:(?:%[0-9A-Fa-f]{2}|[0-9A-Za-z()+,.:=@;$_!*'/?#-])+`,

	// Network addresses.
	"CISCOMAC":   `(?:[0-9A-Fa-f]{4}\.){2}[0-9A-Fa-f]{4}`,
	"WINDOWSMAC": `(?:[0-9A-Fa-f]{2}-){5}[0-9A-Fa-f]{2}`,
	"COMMONMAC":  `(?:[0-9A-Fa-f]{2}:){5}[0-9A-Fa-f]{2}`,
	"MAC":        `%{CISCOMAC}|%{WINDOWSMAC}|%{COMMONMAC}`,
	"IPV4":       `\b(?:` + decOctet + `\.){3}` + decOctet + `\b`,
	"IPV6":       ipv6,
	"IP":         `%{IPV6}|%{IPV4}`,
	"HOSTNAME":   `\b` + hostLabel + `(?:\.` + hostLabel + `)*\.?`,
	"HOST":       `%{HOSTNAME}`,
	"IPORHOST":   `%{IP}|%{HOSTNAME}`,
	"HOSTPORT":   `%{IPORHOST}:%{POSINT}`,

	// Users and e-mail (RFC 5322's dot-atom local part).
	"USERNAME":       `[a-zA-Z0-9._-]+`,
	"USER":           `%{USERNAME}`,
	"EMAILLOCALPART": `[a-zA-Z0-9!#$%&'*+/=?^_{|}~-]+(?:\.[a-zA-Z0-9!#$%&'*+/=?^_{|}~-]+)*`,
	"EMAILADDRESS":   `%{EMAILLOCALPART}@%{HOSTNAME}`,
	"HTTPDUSER":      `%{EMAILADDRESS}|%{USER}`,

	// Paths and URIs (RFC 3986: a path segment's pchar set, a query's).
	"UNIXPATH":     `(?:/[\w%!$@:.,+~=-]*)+`,
	"WINPATH":      `(?:[A-Za-z]+:|\\)(?:\\[^\\?*]*)+`,
	"PATH":         `%{UNIXPATH}|%{WINPATH}`,
	"TTY":          `/dev/(?:pts|tty[pq])?\w*/?[0-9]+`,
	"URIPROTO":     `[A-Za-z][A-Za-z0-9+.-]*`,
	"URIHOST":      `%{IPORHOST}(?::%{POSINT})?`,
	"URIPATH":      `(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_-]*)+`,
	"URIQUERY":     `[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\[\]<>^-]*`,
	"URIPARAM":     `\?%{URIQUERY}`,
	"URIPATHPARAM": `%{URIPATH}(?:\?%{URIQUERY})?`,
	"URI":          `%{URIPROTO}://(?:%{USER}(?::[^@]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?`,

	// Dates and times.
	"MONTH":            `\b(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|[Mm]ay|[Jj]une?|[Jj]uly?|[Aa]ug(?:ust)?|[Ss]ep(?:t(?:ember)?)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)\b`,
	"MONTHNUM":         `1[0-2]|0?[1-9]`,
	"MONTHNUM2":        `0[1-9]|1[0-2]`,
	"MONTHDAY":         `3[01]|[12][0-9]|0?[1-9]`,
	"DAY":              `\b(?:Mon(?:day)?|Tue(?:sday)?|Wed(?:nesday)?|Thu(?:rsday)?|Fri(?:day)?|Sat(?:urday)?|Sun(?:day)?)\b`,
	"YEAR":             `(?:[0-9]{2}){1,2}`,
	"HOUR":             `2[0-3]|[01]?[0-9]`,
	"MINUTE":           `[0-5][0-9]`,
	"SECOND":           `(?:60|[0-5]?[0-9])(?:[.,][0-9]+)?`,
	"TIME":             `%{HOUR}:%{MINUTE}(?::%{SECOND})?`,
	"DATE_US":          `%{MONTHNUM}[/-]%{MONTHDAY}[/-]%{YEAR}`,
	"DATE_EU":          `%{MONTHDAY}[./-]%{MONTHNUM}[./-]%{YEAR}`,
	"DATE":             `%{DATE_US}|%{DATE_EU}`,
	"DATESTAMP":        `%{DATE}[- ]%{TIME}`,
	"TZ":               `\b(?:UTC|GMT|[ECMPA][SD]T)\b`,
	"ISO8601_TIMEZONE": `Z|[+-]%{HOUR}(?::?%{MINUTE})?`,
	"ISO8601_SECOND":   `%{SECOND}`,
	// TIMESTAMP_ISO8601 is RFC 3339's date-time, with a space allowed for
	// the T and the zone and the seconds optional, as logs write it.
	"TIMESTAMP_ISO8601": `%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?`,
	"DATESTAMP_RFC822":  `%{DAY} %{MONTH} %{MONTHDAY} %{YEAR} %{TIME} %{TZ}`,
	"DATESTAMP_RFC2822": `%{DAY}, %{MONTHDAY} %{MONTH} %{YEAR} %{TIME} %{ISO8601_TIMEZONE}`,
	"DATESTAMP_OTHER":   `%{DAY} %{MONTH} %{MONTHDAY} %{TIME} %{TZ} %{YEAR}`,
	// HTTPDATE is Apache's %t: 10/Oct/2000:13:55:36 -0700.
	"HTTPDATE": `%{MONTHDAY}/%{MONTH}/%{YEAR}:%{TIME} %{INT}`,
	// SYSLOGTIMESTAMP is RFC 3164's TIMESTAMP: Mmm dd hh:mm:ss, the day
	// padded with a space.
	"SYSLOGTIMESTAMP": `%{MONTH} +%{MONTHDAY} %{TIME}`,

	// Log levels, in any case.
	"LOGLEVEL": `\b(?i:trace|debug|info(?:rmation)?|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?|alert|fatal|severe|emerg(?:ency)?|panic)\b`,

	// BSD syslog (RFC 3164) as syslog daemons write it to files: time,
	// optional <facility.priority>, host, program[pid]: message. An RFC
	// 3339 time is accepted in place of the BSD one.
	"PROG":           `[^\s:\[\]]+`,
	"SYSLOGPROG":     `%{PROG:program}(?:\[%{POSINT:pid}\])?`,
	"SYSLOGHOST":     `%{IPORHOST}`,
	"SYSLOGFACILITY": `<%{NONNEGINT:facility}.%{NONNEGINT:priority}>`,
	"SYSLOGBASE":     `(?:%{SYSLOGTIMESTAMP:timestamp}|%{TIMESTAMP_ISO8601:timestamp}) (?:%{SYSLOGFACILITY} )?%{SYSLOGHOST:logsource} %{SYSLOGPROG}:`,
	"SYSLOGLINE":     `%{SYSLOGBASE} ?%{GREEDYDATA:message}`,

	// Apache's common and combined log formats (nginx's default access
	// log is the combined one). A request that is not METHOD URI
	// HTTP/x.y is kept whole as rawrequest; referrer and agent are the
	// text between their quotes.
	"COMMONAPACHELOG":   `%{IPORHOST:clientip} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \[%{HTTPDATE:timestamp}\] "(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" (?:-|%{NUMBER:response}) (?:-|%{NUMBER:bytes})`,
	"COMBINEDAPACHELOG": `%{COMMONAPACHELOG} "%{QSTEXT:referrer}" "%{QSTEXT:agent}"`,

	// Java stack frames: at com.example.Foo.bar(Foo.java:42).
	"JAVACLASS":          `(?:[a-zA-Z$_][a-zA-Z$_0-9]*\.)*[a-zA-Z$_][a-zA-Z$_0-9]*`,
	"JAVAMETHOD":         `<init>|<clinit>|[a-zA-Z$_][a-zA-Z$_0-9]*`,
	"JAVAFILE":           `[a-zA-Z$_0-9. -]+`,
	"JAVASTACKTRACEPART": `at %{JAVACLASS:class}\.%{JAVAMETHOD:method}\(%{JAVAFILE:file}(?::%{INT:line})?\)`,
}
