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
