package gen

import (
	"strconv"
	"time"
)

// Syslog facilities (RFC 3164) of the daemons, by syslogServices order.
var syslogFacilities = [len(syslogServices)]int{10, 9, 0}

var syslogFacilityNames = [len(syslogServices)]string{"authpriv", "cron", "kern"}

// Syslog severities of the levels.
var syslogSeverities = [numLevels]int{levelInfo: 6, levelDebug: 7, levelWarn: 4, levelError: 3}

// appendSyslog appends a syslog record whose message is the RFC 3164 line
// as the daemon wrote it.
func (g *Generator) appendSyslog(dst []byte, t int64) ([]byte, meta) {
	d := 0
	switch r := g.rng.IntN(10); {
	case r >= 8:
		d = 2
	case r >= 5:
		d = 1
	}
	svc := syslogIndex + d
	host := g.pickHost(svc)

	// The header's priority depends on the level of the text, so the text
	// is built first, aside.
	var level int
	g.aux, level = g.appendSyslogText(g.aux[:0], d)
	hdr := append(g.msg[:0], '<')
	hdr = strconv.AppendInt(hdr, int64(syslogFacilities[d]*8+syslogSeverities[level]), 10)
	hdr = append(hdr, '>')
	hdr = time.Unix(0, t).UTC().AppendFormat(hdr, time.Stamp)
	hdr = append(hdr, ' ')
	hdr = append(hdr, host...)
	hdr = append(hdr, ' ')
	hdr = append(hdr, syslogServices[d]...)
	if d != 2 {
		hdr = append(hdr, '[')
		hdr = strconv.AppendInt(hdr, int64(g.rng.IntN(60000)+300), 10)
		hdr = append(hdr, ']')
	}
	hdr = append(hdr, ": "...)
	g.msg = append(hdr, g.aux...)

	dst, msg := g.appendCommon(dst, svc, host, level)
	dst = append(dst, `,"facility":"`...)
	dst = append(dst, syslogFacilityNames[d]...)
	dst = append(dst, '"')
	return dst, meta{service: svc, msg: msg, level: level, latencyUs: -1}
}

// appendSyslogText appends the text of daemon d's line and says its level.
func (g *Generator) appendSyslogText(b []byte, d int) ([]byte, int) {
	user := g.pickString(sshUsers)
	switch d {
	case 0:
		switch g.rng.IntN(4) {
		case 0:
			b = append(b, "Accepted publickey for "...)
			b = append(b, user...)
			b = append(b, " from "...)
			b = g.appendIP(b)
			b = append(b, " port "...)
			b = strconv.AppendInt(b, int64(g.rng.IntN(30000)+32768), 10)
			b = append(b, " ssh2: ED25519 SHA256:"...)
			b = appendHex(b, g.rng.Uint64(), 0)
			return b, levelInfo
		case 1:
			b = append(b, "Failed password for invalid user "...)
			b = append(b, user...)
			b = append(b, " from "...)
			b = g.appendIP(b)
			b = append(b, " port "...)
			b = strconv.AppendInt(b, int64(g.rng.IntN(30000)+32768), 10)
			b = append(b, " ssh2"...)
			return b, levelWarn
		case 2:
			b = append(b, "pam_unix(sshd:session): session opened for user "...)
			b = append(b, user...)
			b = append(b, "(uid=1000) by (uid=0)"...)
			return b, levelInfo
		default:
			b = append(b, "Connection closed by "...)
			b = g.appendIP(b)
			b = append(b, " port "...)
			b = strconv.AppendInt(b, int64(g.rng.IntN(30000)+32768), 10)
			b = append(b, " [preauth]"...)
			return b, levelDebug
		}
	case 1:
		if g.rng.IntN(2) == 0 {
			b = append(b, "(root) CMD ("...)
			b = append(b, g.pickString(cronJobs)...)
			b = append(b, ')')
			return b, levelInfo
		}
		return append(b, "pam_unix(cron:session): session closed for user root"...), levelDebug
	}
	b = append(b, '[')
	b = strconv.AppendInt(b, int64(g.rng.IntN(9000000)+1000), 10)
	b = append(b, '.')
	b = appendDecimal6(b, g.rng.IntN(1000000))
	b = append(b, "] "...)
	switch g.rng.IntN(4) {
	case 0:
		b = append(b, "Out of memory: Killed process "...)
		b = strconv.AppendInt(b, int64(g.rng.IntN(60000)+300), 10)
		b = append(b, " (java) total-vm:8123456kB, anon-rss:4021312kB"...)
		return b, levelError
	case 1:
		return append(b, "TCP: request_sock_TCP: Possible SYN flooding on port 443. Sending cookies."...), levelWarn
	case 2:
		return append(b, "nf_conntrack: table full, dropping packet"...), levelWarn
	default:
		return append(b, "eth0: Link is Up - 10Gbps/Full - flow control off"...), levelInfo
	}
}

// appendDecimal6 appends v (< 1e6) with six digits, zero-padded.
func appendDecimal6(dst []byte, v int) []byte {
	for div := 100000; div > 0; div /= 10 {
		dst = append(dst, byte('0'+v/div%10))
	}
	return dst
}
