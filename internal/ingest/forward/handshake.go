package forward

import (
	"crypto/rand"
	"crypto/sha512"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"time"
)

// errAuth is a client that failed the handshake.
var errAuth = errors.New("forward handshake failed")

// auth is the server side of the forward protocol's handshake: the server
// sends HELO with a nonce (and a salt for user authentication), the client
// answers PING with digests of the shared key (and of its password), and
// the server answers PONG with its own digest, so both sides prove that they
// know the key without sending it.
type auth struct {
	sharedKey string
	users     map[string]string // username -> password; empty: no user auth
	hostname  string
}

// handshake runs the exchange on a new connection and returns the user
// the client named (authenticated when err is nil).
func (a *auth) handshake(conn net.Conn, fr *frameReader, timeout time.Duration) (string, error) {
	nonce := make([]byte, 16)
	_, _ = rand.Read(nonce)
	userSalt := ""
	if len(a.users) > 0 {
		salt := make([]byte, 16)
		_, _ = rand.Read(salt)
		userSalt = hex.EncodeToString(salt)
	}
	helo := appendArray(nil, 2)
	helo = appendStr(helo, "HELO")
	helo = appendMap(helo, 3)
	helo = appendStr(helo, "nonce")
	helo = appendBin(helo, nonce)
	helo = appendStr(helo, "auth")
	helo = appendStr(helo, userSalt)
	helo = appendStr(helo, "keepalive")
	helo = appendBool(helo, true)
	if err := write(conn, helo, timeout); err != nil {
		return "", fmt.Errorf("send HELO: %w", err)
	}

	msg, err := fr.next()
	if err != nil {
		return "", fmt.Errorf("read PING: %w", err)
	}
	ping, err := parsePing(msg)
	if err != nil {
		return "", err
	}
	reason := ""
	if !equalDigest(ping.digest, digest(ping.salt, ping.hostname, string(nonce), a.sharedKey)) {
		reason = "shared_key mismatch"
	} else if len(a.users) > 0 {
		pw, ok := a.users[ping.username]
		if !ok || !equalDigest(ping.passDigest, digest(userSalt, ping.username, pw)) {
			reason = "username/password mismatch"
		}
	}
	// Only a client that proved it knows the key gets the server's proof:
	// on a failure the digest, a SHA-512 over the key and values the
	// client chose, would let anyone who connects crack the key offline.
	// Fluentd's in_forward answers a failure with an empty hostname and
	// digest too.
	hostname, serverDigest := "", ""
	if reason == "" {
		hostname, serverDigest = a.hostname, digest(ping.salt, a.hostname, string(nonce), a.sharedKey)
	}
	pong := appendArray(nil, 5)
	pong = appendStr(pong, "PONG")
	pong = appendBool(pong, reason == "")
	pong = appendStr(pong, reason)
	pong = appendStr(pong, hostname)
	pong = appendStr(pong, serverDigest)
	if err := write(conn, pong, timeout); err != nil {
		return ping.username, fmt.Errorf("send PONG: %w", err)
	}
	if reason != "" {
		return ping.username, fmt.Errorf("%w: %s (client %s, user %q)", errAuth, reason, ping.hostname, ping.username)
	}
	return ping.username, nil
}

type ping struct {
	hostname, salt, digest, username, passDigest string
}

// parsePing reads ["PING", hostname, shared_key_salt, digest, username,
// password_digest].
func parsePing(msg []byte) (ping, error) {
	r := &reader{p: msg}
	h, err := r.next()
	if err != nil || h.kind != kArray || h.n != 6 {
		return ping{}, fmt.Errorf("%w: want PING, an array of 6 strings", errAuth)
	}
	var s [6]string
	for i := range s {
		b, err := r.str("PING element")
		if err != nil {
			return ping{}, fmt.Errorf("%w: %w", errAuth, err)
		}
		s[i] = string(b)
	}
	if s[0] != "PING" {
		return ping{}, fmt.Errorf("%w: want PING, got %q", errAuth, s[0])
	}
	return ping{hostname: s[1], salt: s[2], digest: s[3], username: s[4], passDigest: s[5]}, nil
}

// digest is the hex SHA-512 of the concatenated parts, as the spec computes
// both the shared key and the password digests.
func digest(parts ...string) string {
	h := sha512.New()
	for _, p := range parts {
		h.Write([]byte(p))
	}
	return hex.EncodeToString(h.Sum(nil))
}

func equalDigest(a, b string) bool {
	return subtle.ConstantTimeCompare([]byte(a), []byte(b)) == 1
}

func write(conn net.Conn, b []byte, timeout time.Duration) error {
	if timeout > 0 {
		if err := conn.SetWriteDeadline(time.Now().Add(timeout)); err != nil {
			return err
		}
	}
	_, err := conn.Write(b)
	return err
}
