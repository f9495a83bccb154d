package connlimit

import (
	"context"
	"io"
	"net"
	"net/http"
)

// ServeHTTP makes srv tell l what its connections do: a connection is idle
// while it waits for a request (http.StateNew, StateIdle: served) and
// while its handler waits for more of a request's body, busy otherwise. So
// a connection that trickles its headers or its body is shed before one
// whose requests arrive whole, and a running request is never cut. It sets
// srv.ConnState and srv.ConnContext and wraps srv.Handler; call it before
// serving srv on l.Listener(…).
func ServeHTTP(srv *http.Server, l *Limiter) {
	srv.ConnState = func(c net.Conn, s http.ConnState) {
		lc := Of(c)
		if lc == nil {
			return
		}
		switch s {
		case http.StateActive:
			lc.Busy()
		case http.StateIdle:
			lc.Served()
		}
	}
	srv.ConnContext = func(ctx context.Context, c net.Conn) context.Context {
		if lc := Of(c); lc != nil {
			return context.WithValue(ctx, connKey{}, lc)
		}
		return ctx
	}
	next := srv.Handler
	srv.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// HTTP/2 runs several requests on one connection: one waiting
		// for its body does not make the connection idle.
		if lc, ok := r.Context().Value(connKey{}).(*Conn); ok && r.ProtoMajor == 1 && r.Body != nil && r.Body != http.NoBody {
			r.Body = &idleBody{ReadCloser: r.Body, c: lc}
		}
		next.ServeHTTP(w, r)
	})
}

type connKey struct{}

// IdleWhile marks the connection of the request with ctx idle until the
// returned function marks it busy again: a handler that waits on purpose
// for something other than its client (an ingest quota's hold) is then
// shed first at the bound, as a slow client would be, so that such
// waiting requests cannot take every connection slot. A no-op for a
// request the limiter does not know.
func IdleWhile(ctx context.Context) (busy func()) {
	lc, ok := ctx.Value(connKey{}).(*Conn)
	if !ok {
		return func() {}
	}
	lc.hold()
	return lc.Busy
}

// idleBody marks its connection idle while a read of the body waits for
// the client.
type idleBody struct {
	io.ReadCloser
	c *Conn
}

func (b *idleBody) Read(p []byte) (int, error) {
	b.c.Idle()
	n, err := b.ReadCloser.Read(p)
	b.c.Busy()
	return n, err
}
