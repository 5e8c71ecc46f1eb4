package otc

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"syscall"
)

// This file holds which failures to reach a host end a request at once.
// Policy: a host that has not answered in this run, and whose name does
// not resolve ("no such host") or on whose port nothing listens
// (connection refused), is not asked again: the next attempt meets the
// same typo, and retrying it only delays the reason by a minute. Once a
// host has answered (any HTTP answer, from IAM or the VPCEP API, to any
// client of the Provider), the same failures are taken for a restart or a
// resolver's hiccup and retried as any failure before sending. A lookup
// that timed out or failed for the time being is always retried.

// hostLog remembers the servers (scheme, host and port) that have
// answered in this run. A Provider holds one, shared by its clients and
// its token source. Safe for concurrent use; a nil *hostLog remembers
// nothing.
type hostLog struct {
	mu       sync.Mutex
	answered map[string]bool
}

func newHostLog() *hostLog { return &hostLog{answered: map[string]bool{}} }

// hostKey is u's scheme, host and port (the scheme's default when u has
// none), lower case.
func hostKey(u *url.URL) string {
	return strings.ToLower(u.Scheme) + "://" + net.JoinHostPort(strings.ToLower(u.Hostname()), port(u))
}

func port(u *url.URL) string {
	if p := u.Port(); p != "" {
		return p
	}
	if strings.EqualFold(u.Scheme, "http") {
		return "80"
	}
	return "443"
}

// answer records that the server of u answered.
func (h *hostLog) answer(u *url.URL) {
	if h == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	h.answered[hostKey(u)] = true
}

func (h *hostLog) hasAnswered(u *url.URL) bool {
	if h == nil {
		return false
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.answered[hostKey(u)]
}

// unreachable returns a *HostError when err, the failure of a request of
// op to u, is a dial failure that no retry fixes (see the policy above),
// and nil for any other error. server names the server in the message (its
// scheme and host, or the IAM URL); hint says which setting gives it.
func (h *hostLog) unreachable(op string, u *url.URL, server, hint string, err error) *HostError {
	var oe *net.OpError
	// A proxy's failure is a *net.OpError "proxyconnect": not this host's.
	if !errors.As(err, &oe) || oe.Op != "dial" || h.hasAnswered(u) {
		return nil
	}
	e := &HostError{Op: op, URL: server, Hint: hint, Err: err}
	var dns *net.DNSError
	switch {
	case errors.As(err, &dns):
		if !dns.IsNotFound || dns.IsTimeout || dns.IsTemporary {
			return nil
		}
		e.Addr = u.Hostname()
	case errors.Is(err, syscall.ECONNREFUSED):
		e.Refused, e.Addr = true, net.JoinHostPort(u.Hostname(), port(u))
	default:
		return nil
	}
	return e
}

// HostError is a server that cannot be reached for a reason no retry
// fixes: its host name does not resolve, or nothing listens on its port,
// and it has not answered before in this run. It is Permanent: one
// attempt. Its text is one line that names the host and the setting to
// check:
//
//	list: cannot reach the VPCEP API at https://vpcep.eu-de.example: no such host vpcep.eu-de.example; check --endpoint
//	token: cannot reach http://127.0.0.1:8080/v3: nothing listens on 127.0.0.1:8080 (connection refused); check OS_AUTH_URL (or auth_url in clouds.yaml)
type HostError struct {
	Op      string
	URL     string // the server: scheme and host, or the IAM URL for op token
	Addr    string // the host that does not resolve, or host:port that refused
	Refused bool   // connection refused; else no such host
	Hint    string // which setting gives the URL
	Err     error
}

func (e *HostError) Error() string {
	var b strings.Builder
	b.WriteString(e.Op + ": cannot reach ")
	if e.Op != OpToken {
		b.WriteString("the VPCEP API at ")
	}
	b.WriteString(e.URL + ": ")
	if e.Refused {
		fmt.Fprintf(&b, "nothing listens on %s (connection refused)", e.Addr)
	} else {
		fmt.Fprintf(&b, "no such host %s", e.Addr)
	}
	if e.Hint != "" {
		b.WriteString("; " + e.Hint)
	}
	return b.String()
}

func (e *HostError) Unwrap() error { return e.Err }

// Class implements the classification: Permanent.
func (e *HostError) Class() Class { return Permanent }

// iamHint is the hint of a *HostError of the token request.
const iamHint = "check OS_AUTH_URL (or auth_url in clouds.yaml)"

// baseHint is the hint of a *HostError of the VPCEP API, whose URL came
// from from (see Client.baseFrom) for region.
func baseHint(from, region string) string {
	switch from {
	case fromEndpoint:
		return "check --endpoint"
	case fromCatalog:
		return "the URL is the token catalog's: set --endpoint to use another"
	}
	return fmt.Sprintf("the URL is the default for region %s: check the region (the manifest's region, --region, OS_REGION_NAME) or set --endpoint", region)
}
