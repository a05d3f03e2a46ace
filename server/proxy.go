package server

import (
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// external is the scheme and host the client used: the request's own, or, when the request
// comes straight from a trusted proxy (Config.TrustedProxies), what that proxy says in
// X-Forwarded-Proto and X-Forwarded-Host. Anyone else's X-Forwarded-* headers are ignored:
// a client could name any host and have the dashboard told to send its token there.
func (s *Server) external(r *http.Request) (scheme, host string) {
	scheme, host = "http", r.Host
	if r.TLS != nil {
		scheme = "https"
	}
	if !s.fromTrustedProxy(r) {
		return scheme, host
	}
	if p := strings.ToLower(firstValue(r.Header.Get("X-Forwarded-Proto"))); p == "http" || p == "https" {
		scheme = p
	}
	if h := firstValue(r.Header.Get("X-Forwarded-Host")); validHost(h) {
		host = h
	}
	return scheme, host
}

func (s *Server) fromTrustedProxy(r *http.Request) bool {
	if len(s.cfg.TrustedProxies) == 0 {
		return false
	}
	ap, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		return false
	}
	addr := ap.Addr().Unmap()
	for _, p := range s.cfg.TrustedProxies {
		if p.Contains(addr) {
			return true
		}
	}
	return false
}

// firstValue is the first of a comma-separated header value: the one the first proxy, the
// one the client spoke to, wrote.
func firstValue(v string) string {
	first, _, _ := strings.Cut(v, ",")
	return strings.TrimSpace(first)
}

// validHost accepts host or host:port with a name or an IP, nothing that could carry a path,
// a user or a second URL.
func validHost(h string) bool {
	if h == "" || len(h) > 255 || strings.ContainsAny(h, "/\\@?#% \t") {
		return false
	}
	host := h
	if hh, port, err := net.SplitHostPort(h); err == nil {
		if port == "" {
			return false
		}
		host = hh
	}
	return host != ""
}
