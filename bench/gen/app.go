package gen

import (
	"math"
	"strconv"
)

// appendApp appends the fields of a JSON application log record: a request
// handled by one of the services, with its trace, HTTP fields and latency.
func (g *Generator) appendApp(dst []byte, rare bool) ([]byte, meta) {
	svc := g.appSvc.pick(g.rng)
	level := g.appLevel.pick(g.rng)
	method := httpMethods[g.methods.pick(g.rng)]
	resource := g.pickString(apiResources[:])
	id := g.rng.IntN(900000) + 100000
	status := g.pickInt(statusOK)
	switch level {
	case levelWarn:
		status = g.pickInt(statusClientError)
	case levelError:
		status = g.pickInt(statusServerError)
	}
	// Latencies are log-normal around 20 ms, a long tail that real services
	// have; timeouts below override them with their deadline.
	latencyUs := int64(20000 * math.Exp(1.3*g.rng.NormFloat64()))
	latencyUs = min(max(latencyUs, 50), 120_000_000)

	g.msg = g.msg[:0]
	switch level {
	case levelInfo:
		switch g.rng.IntN(5) {
		case 0:
			g.msg = append(g.msg, "handled "...)
			g.msg = append(g.msg, method...)
			g.msg = append(g.msg, ' ')
			g.msg = appendPath(g.msg, resource, id)
			g.msg = append(g.msg, " status="...)
			g.msg = strconv.AppendInt(g.msg, int64(status), 10)
			g.msg = append(g.msg, " in "...)
			g.msg = appendMillis(g.msg, latencyUs)
			g.msg = append(g.msg, "ms"...)
		case 1:
			g.msg = append(g.msg, "user u_"...)
			g.msg = strconv.AppendInt(g.msg, int64(id), 10)
			g.msg = append(g.msg, " signed in from "...)
			g.msg = g.appendIP(g.msg)
		case 2:
			g.msg = append(g.msg, "order ord_"...)
			g.msg = appendHexN(g.msg, g.rng.Uint64(), 8)
			g.msg = append(g.msg, " created for user u_"...)
			g.msg = strconv.AppendInt(g.msg, int64(id), 10)
			g.msg = append(g.msg, " total="...)
			g.msg = appendMillis(g.msg, int64(g.rng.IntN(500000)+100))
			g.msg = append(g.msg, " EUR"...)
		case 3:
			g.msg = append(g.msg, "published "...)
			g.msg = strconv.AppendInt(g.msg, int64(g.rng.IntN(50)+1), 10)
			g.msg = append(g.msg, " events to topic "...)
			g.msg = append(g.msg, resource...)
			g.msg = append(g.msg, ".updated"...)
		default:
			g.msg = append(g.msg, "request completed"...)
		}
	case levelDebug:
		switch g.rng.IntN(3) {
		case 0:
			g.msg = append(g.msg, "cache miss for key "...)
			g.msg = append(g.msg, resource...)
			g.msg = append(g.msg, ':')
			g.msg = strconv.AppendInt(g.msg, int64(id), 10)
		case 1:
			g.msg = append(g.msg, "sql query on "...)
			g.msg = append(g.msg, resource...)
			g.msg = append(g.msg, " took "...)
			g.msg = appendMillis(g.msg, latencyUs/4)
			g.msg = append(g.msg, "ms rows="...)
			g.msg = strconv.AppendInt(g.msg, int64(g.rng.IntN(200)), 10)
		default:
			g.msg = append(g.msg, "feature flag new_checkout evaluated to "...)
			g.msg = strconv.AppendBool(g.msg, g.rng.IntN(2) == 0)
			g.msg = append(g.msg, " for user u_"...)
			g.msg = strconv.AppendInt(g.msg, int64(id), 10)
		}
	case levelWarn:
		switch g.rng.IntN(5) {
		case 0:
			deadline := int64(g.rng.IntN(5)+1) * 1000
			latencyUs = deadline * 1000
			g.msg = append(g.msg, "retry "...)
			g.msg = strconv.AppendInt(g.msg, int64(g.rng.IntN(4)+1), 10)
			g.msg = append(g.msg, "/5 calling "...)
			g.msg = append(g.msg, g.pickString(upstreams)...)
			g.msg = append(g.msg, ": upstream timeout after "...)
			g.msg = strconv.AppendInt(g.msg, deadline, 10)
			g.msg = append(g.msg, "ms"...)
		case 1:
			latencyUs = int64(g.rng.IntN(4000)+1000)*1000 + int64(g.rng.IntN(1000))
			g.msg = append(g.msg, "slow request "...)
			g.msg = append(g.msg, method...)
			g.msg = append(g.msg, ' ')
			g.msg = appendPath(g.msg, resource, id)
			g.msg = append(g.msg, " took "...)
			g.msg = appendMillis(g.msg, latencyUs)
			g.msg = append(g.msg, "ms"...)
		case 2:
			status = 429
			g.msg = append(g.msg, "rate limit exceeded for user u_"...)
			g.msg = strconv.AppendInt(g.msg, int64(id), 10)
			g.msg = append(g.msg, ", returning 429"...)
		case 3:
			g.msg = append(g.msg, "retrying call to "...)
			g.msg = append(g.msg, g.pickString(upstreams)...)
			g.msg = append(g.msg, " after connection refused (attempt "...)
			g.msg = strconv.AppendInt(g.msg, int64(g.rng.IntN(4)+1), 10)
			g.msg = append(g.msg, ')')
		default:
			g.msg = append(g.msg, "deprecated API version v1 used by client mobile-ios/5.2.1"...)
		}
	default:
		switch g.rng.IntN(5) {
		case 0:
			g.msg = append(g.msg, "call to "...)
			g.msg = append(g.msg, g.pickString(upstreams)...)
			g.msg = append(g.msg, " failed: dial tcp "...)
			g.msg = g.appendIP(g.msg)
			g.msg = append(g.msg, ":8080: connect: connection refused"...)
		case 1:
			deadline := int64(g.rng.IntN(10)+1) * 1000
			latencyUs = deadline*1000 + int64(g.rng.IntN(5000))
			g.msg = append(g.msg, "database timeout after "...)
			g.msg = strconv.AppendInt(g.msg, deadline, 10)
			g.msg = append(g.msg, "ms on query "...)
			g.msg = append(g.msg, resource...)
			g.msg = append(g.msg, ".find_by_user"...)
		case 2:
			g.msg = append(g.msg, "payment declined for order ord_"...)
			g.msg = appendHexN(g.msg, g.rng.Uint64(), 8)
			g.msg = append(g.msg, ": card_expired"...)
		case 3:
			g.msg = append(g.msg, "unhandled error: context deadline exceeded"...)
		default:
			g.msg = append(g.msg, "failed to publish event to kafka: broker timeout, giving up after 5 retries"...)
		}
	}

	dst, msg := g.appendCommon(dst, svc, g.pickHost(svc), level)
	dst = append(dst, `,"trace_id":"`...)
	if rare {
		dst = append(dst, g.rareID[:]...)
	} else {
		dst = appendHex(dst, g.rng.Uint64(), g.rng.Uint64())
	}
	dst = append(dst, `","method":"`...)
	dst = append(dst, method...)
	dst = append(dst, `","path":"`...)
	dst = appendPath(dst, resource, id)
	dst = append(dst, `","status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"latency_ms":`...)
	dst = appendMillis(dst, latencyUs)
	return dst, meta{service: svc, msg: msg, level: level, latencyUs: latencyUs, status: status, traced: true, rare: rare}
}

// appendPath appends a REST path; most requests address one item.
func appendPath(dst []byte, resource string, id int) []byte {
	dst = append(dst, "/api/v1/"...)
	dst = append(dst, resource...)
	if id%4 != 0 {
		dst = append(dst, '/')
		dst = strconv.AppendInt(dst, int64(id), 10)
	}
	return dst
}

// appendMillis appends us microseconds as milliseconds with three decimals,
// the way services report latencies.
func appendMillis(dst []byte, us int64) []byte {
	dst = strconv.AppendInt(dst, us/1000, 10)
	frac := us % 1000
	return append(dst, '.', byte('0'+frac/100), byte('0'+frac/10%10), byte('0'+frac%10))
}

// appendIP appends a private IPv4 address.
func (g *Generator) appendIP(dst []byte) []byte {
	v := g.rng.Uint32()
	dst = append(dst, "10."...)
	dst = strconv.AppendInt(dst, int64(v>>16&0xff), 10)
	dst = append(dst, '.')
	dst = strconv.AppendInt(dst, int64(v>>8&0xff), 10)
	dst = append(dst, '.')
	return strconv.AppendInt(dst, int64(v&0xff|1), 10)
}
