package gen

import (
	"math"
	"strconv"
	"time"
)

// nginxTimeLayout is the $time_local format of nginx's combined log.
const nginxTimeLayout = "02/Jan/2006:15:04:05 -0700"

// appendNginx appends an nginx access record: the combined log line as the
// message, with its status and body size as fields.
func (g *Generator) appendNginx(dst []byte, t int64) ([]byte, meta) {
	level := levelInfo
	status := g.pickInt(statusOK)
	switch r := g.rng.IntN(100); {
	case r < 5:
		level, status = levelError, g.pickInt(statusServerError)
	case r < 15:
		level, status = levelWarn, g.pickInt(statusClientError)
	}
	bytes := int64(0)
	if status != 204 && status != 304 {
		bytes = int64(2000 * math.Exp(g.rng.NormFloat64()))
	}
	method := httpMethods[g.methods.pick(g.rng)]

	g.msg = g.appendIP(g.msg[:0])
	g.msg = append(g.msg, " - - ["...)
	g.msg = time.Unix(0, t).UTC().AppendFormat(g.msg, nginxTimeLayout)
	g.msg = append(g.msg, `] "`...)
	g.msg = append(g.msg, method...)
	g.msg = append(g.msg, ' ')
	g.msg = appendPath(g.msg, g.pickString(apiResources[:]), g.rng.IntN(900000)+100000)
	g.msg = append(g.msg, ` HTTP/1.1" `...)
	g.msg = strconv.AppendInt(g.msg, int64(status), 10)
	g.msg = append(g.msg, ' ')
	g.msg = strconv.AppendInt(g.msg, bytes, 10)
	g.msg = append(g.msg, ` "`...)
	g.msg = append(g.msg, g.pickString(referers)...)
	g.msg = append(g.msg, `" "`...)
	g.msg = append(g.msg, g.pickString(userAgents)...)
	g.msg = append(g.msg, '"')

	dst, msg := g.appendCommon(dst, nginxIndex, g.pickHost(nginxIndex), level)
	dst = append(dst, `,"status":`...)
	dst = strconv.AppendInt(dst, int64(status), 10)
	dst = append(dst, `,"bytes":`...)
	dst = strconv.AppendInt(dst, bytes, 10)
	return dst, meta{service: nginxIndex, msg: msg, level: level, latencyUs: -1, status: status}
}
