package api

import (
	"net"
	"net/http"
	"slices"
	"strings"
)

// Protect guards a listener's handler against browsers used as weapons:
// writes from another origin (a page elsewhere posting text/plain to
// /insert/jsonline, which a browser sends without asking) are refused
// with 403 (net/http's CrossOriginProtection: Sec-Fetch-Site, else Origin
// against Host), and requests whose Host is not one the server answers
// are refused with 421, against DNS rebinding (a name of the attacker's
// that resolves to 127.0.0.1 makes the browser treat the server as the
// attacker's origin).
//
// hosts are the Host names answered (without port); empty answers
// localhost and the loopback addresses when addr is on loopback, and any
// host otherwise (a server on a public address is reached by names the
// operator knows and can list in http.allowed_hosts).
func Protect(h http.Handler, addr string, hosts []string) http.Handler {
	h = http.NewCrossOriginProtection().Handler(h)
	allowed := allowedHosts(addr, hosts)
	if allowed == nil {
		return h
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !hostAllowed(r.Host, allowed) {
			writeError(w, http.StatusMisdirectedRequest, "host %.100q is not served here (http.allowed_hosts)", r.Host)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// allowedHosts is the list Protect checks, lowercased; nil checks none.
func allowedHosts(addr string, hosts []string) []string {
	if len(hosts) > 0 {
		out := make([]string, len(hosts))
		for i, h := range hosts {
			out[i] = strings.ToLower(strings.Trim(h, "[]"))
		}
		return out
	}
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); host == "localhost" || ip != nil && ip.IsLoopback() {
		return []string{"localhost", "127.0.0.1", "::1", host}
	}
	return nil
}

func hostAllowed(hostport string, allowed []string) bool {
	host := hostport
	if h, _, err := net.SplitHostPort(hostport); err == nil {
		host = h
	}
	host = strings.ToLower(strings.Trim(host, "[]"))
	if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() && slices.Contains(allowed, "127.0.0.1") {
		return true
	}
	return slices.Contains(allowed, host)
}
