package forward

import (
	"io"
	"net"
	"testing"
)

// helo is what a client learns from the server's HELO.
type helo struct {
	nonce, userSalt string
}

func readHelo(t *testing.T, c net.Conn) helo {
	t.Helper()
	r := &reader{p: readValue(t, c)}
	if h, err := r.next(); err != nil || h.kind != kArray || h.n != 2 {
		t.Fatalf("HELO: %v %v", h, err)
	}
	if s, err := r.str("HELO"); err != nil || string(s) != "HELO" {
		t.Fatalf("HELO: %q %v", s, err)
	}
	h, err := r.next()
	if err != nil || h.kind != kMap {
		t.Fatalf("HELO options: %v %v", h, err)
	}
	var out helo
	for range h.n {
		k, _ := r.str("key")
		vh, err := r.next()
		if err != nil {
			t.Fatal(err)
		}
		switch string(k) {
		case "nonce":
			out.nonce = string(r.bytes(vh))
		case "auth":
			out.userSalt = string(r.bytes(vh))
		default:
			if err := r.skip(vh, 0); err != nil {
				t.Fatal(err)
			}
		}
	}
	return out
}

// pong is the server's answer to PING.
type pong struct {
	ok             bool
	reason, digest string
	hostname       string
}

func readPong(t *testing.T, c net.Conn) pong {
	t.Helper()
	r := &reader{p: readValue(t, c)}
	if h, err := r.next(); err != nil || h.kind != kArray || h.n != 5 {
		t.Fatalf("PONG: %v %v", h, err)
	}
	if s, _ := r.str("PONG"); string(s) != "PONG" {
		t.Fatalf("PONG: got %q", s)
	}
	h, err := r.next()
	if err != nil || h.kind != kBool {
		t.Fatalf("PONG result: %v %v", h, err)
	}
	reason, _ := r.str("reason")
	host, _ := r.str("hostname")
	dig, _ := r.str("digest")
	return pong{ok: h.b, reason: string(reason), hostname: string(host), digest: string(dig)}
}

func TestHandshake(t *testing.T) {
	const key = "s3cret"
	users := map[string]string{"alice": "pw1"}
	tests := []struct {
		name       string
		users      map[string]string
		key        string
		user, pass string
		wantOK     bool
		wantReason string
	}{
		{name: "shared key", key: key, wantOK: true},
		{name: "wrong shared key", key: "guess", wantReason: "shared_key mismatch"},
		{name: "shared key and user", users: users, key: key, user: "alice", pass: "pw1", wantOK: true},
		{name: "wrong password", users: users, key: key, user: "alice", pass: "nope", wantReason: "username/password mismatch"},
		{name: "unknown user", users: users, key: key, user: "mallory", pass: "pw1", wantReason: "username/password mismatch"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ts := startTest(t, Config{SharedKey: key, Users: tc.users, Hostname: "sluice-host"}, &memSink{})
			c := dial(t, ts.Addr())
			h := readHelo(t, c)
			if (h.userSalt != "") != (len(tc.users) > 0) {
				t.Fatalf("HELO auth salt %q with users %v", h.userSalt, tc.users)
			}
			const salt, host = "client-salt", "client-host"
			ping := mp{}.arr(6).str("PING").str(host).str(salt).
				str(digest(salt, host, h.nonce, tc.key)).str(tc.user).str(digest(h.userSalt, tc.user, tc.pass))
			send(t, c, ping)
			p := readPong(t, c)
			if p.ok != tc.wantOK || p.reason != tc.wantReason {
				t.Fatalf("PONG ok=%v reason=%q, want ok=%v reason=%q", p.ok, p.reason, tc.wantOK, tc.wantReason)
			}
			if !tc.wantOK {
				// A failed login learns nothing derived from the key: a
				// digest over it would be crackable offline.
				if p.digest != "" || p.hostname != "" {
					t.Fatalf("failed PONG carries hostname %q and digest %q, want both empty", p.hostname, p.digest)
				}
				if _, err := c.Read(make([]byte, 1)); err != io.EOF {
					t.Fatalf("after failed auth: read err = %v, want EOF", err)
				}
				if v := value(t, ts.conns.refused.WithLabelValues("auth_failed")); v != 1 {
					t.Errorf("refused{auth_failed} = %v", v)
				}
				return
			}
			// The client checks that the server knows the key too.
			if p.hostname != "sluice-host" || p.digest != digest(salt, "sluice-host", h.nonce, key) {
				t.Fatalf("PONG digest does not prove the shared key: %+v", p)
			}
			send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "authed").chunk("h"))
			if got := readValue(t, c); string(got) != string(appendAck(nil, "h")) {
				t.Fatalf("ack = %q", got)
			}
			if recs := ts.sink.records(); len(recs) != 1 || recs[0].Message != "authed" {
				t.Fatalf("records = %s", dump(recs))
			}
		})
	}
}

// A client that skips the handshake is refused before anything is stored.
func TestHandshakeRequired(t *testing.T) {
	ts := startTest(t, Config{SharedKey: "k"}, &memSink{})
	c := dial(t, ts.Addr())
	readHelo(t, c)
	send(t, c, mp{}.arr(4).str("app").u32(sec).mapN(1).kv("message", "sneaky").chunk("x"))
	if _, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("read err = %v, want EOF", err)
	}
	if n := len(ts.sink.records()); n != 0 {
		t.Fatalf("stored %d records without a handshake", n)
	}
}
