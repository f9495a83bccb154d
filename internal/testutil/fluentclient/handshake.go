package fluentclient

import (
	"crypto/sha512"
	"encoding/hex"
	"fmt"
	"io"
	"net"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"
)

// Auth is a forward client's credentials (Fluentd's out_forward
// <security> shared_key and <server> username/password).
type Auth struct {
	SharedKey, Username, Password string
	Hostname                      string // the client's self_hostname; "client" when empty
}

// Relay listens on loopback and forwards every connection to target after
// doing the client side of the forward handshake there with a: what
// fluent-logger-golang lacks (it has no shared-key support). The client
// then talks to Sluice through it byte for byte. This handshake is written
// by hand, after Fluentd's out_forward, since no Go client implements it;
// the server side it talks to is Sluice's. It returns the relay's address
// and, through refused, how many handshakes the server refused.
func Relay(t testing.TB, target string, a Auth) (addr string, refused func() int) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	failures := make(chan error, 64)
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				s, err := net.DialTimeout("tcp", target, 5*time.Second)
				if err != nil {
					failures <- err
					return
				}
				defer s.Close()
				if err := Handshake(s, a); err != nil {
					failures <- err
					return
				}
				go func() { _, _ = io.Copy(s, c); s.(*net.TCPConn).CloseWrite() }()
				_, _ = io.Copy(c, s)
			}()
		}
	}()
	return ln.Addr().String(), func() int { return len(failures) }
}

// Handshake does the client side of the forward protocol's handshake on
// conn: read HELO, send PING with the shared key's and the password's
// digests, read PONG and check the server's digest.
func Handshake(conn net.Conn, a Auth) error {
	_ = conn.SetDeadline(time.Now().Add(10 * time.Second))
	defer conn.SetDeadline(time.Time{})
	dec := msgpack.NewDecoder(conn)
	var helo []any
	if err := dec.Decode(&helo); err != nil || len(helo) != 2 || helo[0] != "HELO" {
		return fmt.Errorf("read HELO: %v %v", helo, err)
	}
	opts, _ := helo[1].(map[string]any)
	nonce := fmt.Sprint(opts["nonce"])
	if b, ok := opts["nonce"].([]byte); ok {
		nonce = string(b)
	}
	authSalt, _ := opts["auth"].(string)
	host := a.Hostname
	if host == "" {
		host = "client"
	}
	salt := "0123456789abcdef"
	passDigest := ""
	if authSalt != "" {
		passDigest = hexSHA512(authSalt, a.Username, a.Password)
	}
	ping, err := msgpack.Marshal([]any{"PING", host, salt, hexSHA512(salt, host, nonce, a.SharedKey), a.Username, passDigest})
	if err != nil {
		return err
	}
	if _, err := conn.Write(ping); err != nil {
		return fmt.Errorf("send PING: %w", err)
	}
	var pong []any
	if err := dec.Decode(&pong); err != nil || len(pong) != 5 || pong[0] != "PONG" {
		return fmt.Errorf("read PONG: %v %v", pong, err)
	}
	if ok, _ := pong[1].(bool); !ok {
		return fmt.Errorf("server refused the handshake: %v", pong[2])
	}
	serverHost, _ := pong[3].(string)
	if want := hexSHA512(salt, serverHost, nonce, a.SharedKey); pong[4] != want {
		return fmt.Errorf("server's digest does not prove it knows the shared key")
	}
	// The server says nothing more until the client sends events, so
	// the decoder holds nothing beyond PONG.
	return nil
}

func hexSHA512(parts ...string) string {
	h := sha512.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}
