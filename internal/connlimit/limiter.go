package connlimit

import (
	"container/list"
	"crypto/tls"
	"errors"
	"net"
	"sync"
	"sync/atomic"
	"time"
)

// Limiter bounds the connections of one listener. At the bound, a new
// connection makes room by closing an idle one (waiting for its client):
// the one idle the longest among those that never completed a request or
// message, else the one idle the longest among the others, passing over
// those whose client's bytes wait unread in the socket (the server is
// behind, not the client) while another can go (see victimLocked). Only
// when every connection is busy (the server is serving it) is the new one
// refused.
//
// So a crowd of connections that never send anything whole (slowloris:
// nothing, or a byte now and then) cannot lock a listener: each new client
// displaces the stalest of them, and a client that did send requests is
// displaced only once no such connection is left, even while the crowd
// reconnects as fast as it is shed. A refused or shed connection is closed
// without an answer; what it had sent and not been answered for was not
// acknowledged, so a client loses nothing it was told is stored.
//
// The listener's server says what a connection is doing (Conn.Served,
// Conn.Idle, Conn.Busy, Conn.Touch); a new connection starts idle.
type Limiter struct {
	name   string
	max    int
	m      *Metrics
	onRead bool
	mu     sync.Mutex
	n      int
	// fresh and served hold the idle connections, the longest idle first:
	// those that never completed a request or message, and the others.
	fresh, served list.List
}

// Options configure a Limiter.
type Options struct {
	// Name labels the listener's metrics (http, forward, syslog_tcp …).
	Name string
	// Max bounds the open connections; 0 or less means no bound.
	Max int
	// TouchOnRead counts every read that returns data as the connection's
	// activity (Touch), for listeners whose server has no hook for the
	// end of a request (gRPC).
	TouchOnRead bool
}

// New returns a limiter; m may be nil.
func New(o Options, m *Metrics) *Limiter {
	l := &Limiter{name: o.Name, max: o.Max, m: m, onRead: o.TouchOnRead}
	m.setMax(o.Name, o.Max)
	return l
}

// Max is the bound, 0 when there is none.
func (l *Limiter) Max() int { return max(l.max, 0) }

// Listener wraps ln: every connection it accepts is a *Conn counted by l.
func (l *Limiter) Listener(ln net.Listener) net.Listener {
	return &listener{Listener: ln, l: l}
}

type listener struct {
	net.Listener
	l *Limiter
}

// Accept returns the next connection admitted; connections refused at the
// bound are closed and not returned.
func (ln *listener) Accept() (net.Conn, error) {
	for {
		c, err := ln.Listener.Accept()
		if err != nil {
			return nil, err
		}
		if lc := ln.l.admit(c); lc != nil {
			return lc, nil
		}
	}
}

// admit counts c in, shedding the longest idle connection when at the
// bound; nil when c was refused (and closed).
func (l *Limiter) admit(c net.Conn) *Conn {
	lc := &Conn{Conn: c, l: l}
	var shed *Conn
	l.mu.Lock()
	if l.max > 0 && l.n >= l.max {
		e := l.victimLocked()
		if e == nil {
			l.mu.Unlock()
			l.m.refused(l.name)
			_ = c.Close()
			return nil
		}
		shed = e.Value.(*Conn)
		shed.list().Remove(e)
		shed.elem = nil
		shed.shed = true
	} else {
		l.n++
	}
	// The shed connection's slot passes to c: n stays.
	lc.markIdle(time.Now())
	l.mu.Unlock()
	if shed != nil {
		l.m.shedOne(l.name)
		_ = shed.Conn.Close()
	} else {
		l.m.opened(l.name, 1)
	}
	return lc
}

// maxProbes bounds the connections of each idle list that admit looks at
// for unread bytes, so that the lock is held for a few system calls at
// most.
const maxProbes = 32

// victimLocked picks the connection to shed for a new one, nil when none
// may be (every one is busy): the longest idle of those that never
// completed a request or message, else of the others, passing over any
// with bytes waiting unread in its socket while one without is found
// among the first maxProbes of either list. Such a connection's client
// did send something, and it is idle only because the server has not yet
// had the CPU to read it (a sender that writes its lines and closes at
// once, under load): shedding it would lose what it sent, while a
// slowloris connection, whose few bytes the server reads as they come,
// has none waiting, and shedding an idle proven one loses nothing. A
// connection held unread on purpose (IdleWhile) is not passed over. When
// every one probed has bytes unread (a server starved of CPU), the
// longest idle goes all the same: refusing the new connection instead
// would lock out every new client while the server catches up. l.mu is
// held.
func (l *Limiter) victimLocked() *list.Element {
	for _, idle := range []*list.List{&l.fresh, &l.served} {
		probes := 0
		for e := idle.Front(); e != nil && probes < maxProbes; e = e.Next() {
			c := e.Value.(*Conn)
			if c.held || !unread(c.Conn) {
				return e
			}
			probes++
		}
	}
	if e := l.fresh.Front(); e != nil {
		return e
	}
	return l.served.Front()
}

// Conn is a connection counted by a Limiter. Closing it gives its slot
// back (once, however often it is closed). Its methods do nothing on a nil
// *Conn, which Of returns for a connection no Limiter counts.
type Conn struct {
	net.Conn
	l *Limiter
	// elem is the connection's place in its idle list, nil while busy;
	// proven says it completed a request or message (its idle list is
	// l.served); held says the server leaves it unread on purpose
	// (IdleWhile); shed and closed say that its slot is already accounted
	// for. All five are guarded by l.mu.
	elem   *list.Element
	proven bool
	held   bool
	shed   bool
	closed bool
	// since is when the connection went idle, in Unix nanoseconds, and
	// wasServed says Served was called: Touch's throttle reads them
	// without the lock.
	since     atomic.Int64
	wasServed atomic.Bool
}

func (c *Conn) list() *list.List {
	if c.proven {
		return &c.l.served
	}
	return &c.l.fresh
}

// markIdle puts c at the fresh end of its idle list; l.mu is held.
func (c *Conn) markIdle(now time.Time) {
	if c.shed || c.closed {
		return
	}
	if c.elem != nil {
		c.list().Remove(c.elem)
	}
	c.elem = c.list().PushBack(c)
	c.held = false
	c.since.Store(now.UnixNano())
}

// Idle says that the server waits for more of the client: the connection
// may be shed, the longest idle first.
func (c *Conn) Idle() {
	if c == nil {
		return
	}
	c.l.mu.Lock()
	c.markIdle(time.Now())
	c.l.mu.Unlock()
}

// hold is Idle for a connection that the server leaves unread on purpose
// while it waits for something other than its client: shed in its turn
// even with the client's bytes unread (see victimLocked).
func (c *Conn) hold() {
	c.l.mu.Lock()
	c.markIdle(time.Now())
	c.held = !c.shed && !c.closed
	c.l.mu.Unlock()
}

// Served says that the client completed a request or message and the
// server now waits for its next one: Idle, and from now on shed only after
// every connection that never completed one.
func (c *Conn) Served() {
	if c == nil {
		return
	}
	c.l.mu.Lock()
	if !c.proven && c.elem != nil {
		c.l.fresh.Remove(c.elem)
		c.elem = nil
	}
	c.proven = true
	c.wasServed.Store(true)
	c.markIdle(time.Now())
	c.l.mu.Unlock()
}

// Busy says that the server is serving a request of the connection: it is
// not shed until Idle or Served.
func (c *Conn) Busy() {
	if c == nil {
		return
	}
	c.l.mu.Lock()
	if c.elem != nil {
		c.list().Remove(c.elem)
		c.elem = nil
	}
	c.l.mu.Unlock()
}

// touchEvery throttles Touch: a connection's place in the idle list needs
// no finer time than this.
const touchEvery = time.Second

// Touch is Served for protocols without answers, called for every message
// the client completes: cheap, since it moves the connection at most once
// per touchEvery.
func (c *Conn) Touch() {
	if c == nil {
		return
	}
	if c.wasServed.Load() && time.Now().UnixNano()-c.since.Load() < int64(touchEvery) {
		return
	}
	c.Served()
}

// Read reads from the connection; with Options.TouchOnRead, data read
// touches it.
func (c *Conn) Read(p []byte) (int, error) {
	n, err := c.Conn.Read(p)
	if n > 0 && c.l.onRead {
		c.Touch()
	}
	return n, err
}

// Close closes the connection and gives its slot back.
func (c *Conn) Close() error {
	c.l.mu.Lock()
	release := !c.closed && !c.shed
	c.closed = true
	if c.elem != nil {
		c.list().Remove(c.elem)
		c.elem = nil
	}
	if release {
		c.l.n--
	}
	c.l.mu.Unlock()
	if release {
		c.l.m.opened(c.l.name, -1)
	}
	return c.Conn.Close()
}

// Shed reports whether the limiter closed the connection to make room for
// a newer one (its reads then fail), for the server's log and metrics.
func (c *Conn) Shed() bool {
	c.l.mu.Lock()
	defer c.l.mu.Unlock()
	return c.shed
}

// Of finds the *Conn under c (a *tls.Conn over one included); nil when c
// is not counted by a Limiter.
func Of(c net.Conn) *Conn {
	for {
		switch x := c.(type) {
		case *Conn:
			return x
		case *tls.Conn:
			c = x.NetConn()
		default:
			return nil
		}
	}
}

// IsShed reports whether err is the error of a read or write on a
// connection the limiter shed.
func IsShed(c net.Conn, err error) bool {
	lc := Of(c)
	return lc != nil && errors.Is(err, net.ErrClosed) && lc.Shed()
}
