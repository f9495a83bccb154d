package gen

import "strconv"

// appendJava appends an uncaught exception from a Java service: a
// multi-line message with the stack trace, as a log shipper joins it.
func (g *Generator) appendJava(dst []byte) ([]byte, meta) {
	j := g.javaSvc.pick(g.rng)
	svc := javaIndex + j
	thread := g.rng.IntN(16) + 1

	g.msg = append(g.msg[:0], `Exception in thread "worker-`...)
	g.msg = strconv.AppendInt(g.msg, int64(thread), 10)
	g.msg = append(g.msg, `" `...)
	g.msg = append(g.msg, g.pickString(javaExceptions)...)
	// The top frame is the application's own code; the rest are anywhere.
	frames := g.javaFrames[j]
	g.msg = append(g.msg, "\n\tat "...)
	g.msg = append(g.msg, frames[g.rng.IntN(numAppFrames)]...)
	for range g.rng.IntN(8) + 2 {
		g.msg = append(g.msg, "\n\tat "...)
		g.msg = append(g.msg, g.pickString(frames)...)
	}
	if g.rng.IntN(3) == 0 {
		g.msg = append(g.msg, "\n\t... "...)
		g.msg = strconv.AppendInt(g.msg, int64(g.rng.IntN(40)+1), 10)
		g.msg = append(g.msg, " more"...)
	}

	dst, msg := g.appendCommon(dst, svc, g.pickHost(svc), levelError)
	dst = append(dst, `,"trace_id":"`...)
	dst = appendHex(dst, g.rng.Uint64(), g.rng.Uint64())
	dst = append(dst, `","thread":"worker-`...)
	dst = strconv.AppendInt(dst, int64(thread), 10)
	dst = append(dst, '"')
	return dst, meta{service: svc, msg: msg, level: levelError, latencyUs: -1, traced: true}
}
