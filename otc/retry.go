package otc

import (
	"context"
	"errors"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// This file holds the retry policy: which failed attempts are sent again
// (checkRetry), how long to wait first (Backoff, Retry-After honoured but
// capped), and how retries are logged.

// logRetry logs that attempt n of op is about to start after err: at Warn
// for network failures and server errors, at Debug for throttling (see
// the policy at the top of this file).
func logRetry(log *slog.Logger, op string, n int, reason string, err error) {
	level := slog.LevelWarn
	if reason == Throttled.String() {
		level = slog.LevelDebug
	}
	log.Log(context.Background(), level, "retry", "op", op, "attempt", n, "reason", reason, "err", err)
}

// checkRetry is the retry policy: throttling, transient server errors and
// failures before sending are retried (those the transport names
// Permanent, a certificate or a host that is not there, are not); a create
// whose outcome is unknown is not (the caller must look for it first);
// nothing else is.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	a := attemptFrom(ctx)
	var cl interface{ Class() Class }
	switch {
	case a.paceErr != nil: // the pacer refused (e.g. its wait would pass the deadline)
		a.class = NetworkBeforeSend
		return false, nil
	case errors.As(err, &cl):
		// The transport named the failure: a token request that failed
		// (it has had its own retries), a TLS handshake or a host that no
		// retry fixes (tls.go, reach.go).
		a.class = cl.Class()
		return false, nil
	case err != nil:
		ne := &NetError{Op: a.op, Sent: a.sent.Load(), Err: redactURLError(err), URL: c.server}
		a.class, a.lastErr = ne.Class(), ne
	case a.tooLarge:
		a.class = Permanent
	case resp.StatusCode < 400:
		a.effect = true
		return false, nil
	default:
		ae := decodeError(a.op, resp, a.body)
		ae.redact(c.opts.Redactor)
		a.class, a.lastErr = ae.Class(), ae
	}
	a.effect = a.effect || a.class != Throttled && a.class != NetworkBeforeSend
	a.reason = a.class.String()
	if err != nil {
		a.reason = "network" // a lost connection is a network problem, whatever its class
	}
	switch a.class {
	case Throttled, ServerError, NetworkBeforeSend:
		return true, nil
	}
	return false, nil
}

// Backoff is full-jitter exponential backoff: a uniform wait in
// [0, min(max, min*2^n)]. A Retry-After header (seconds or HTTP date) is
// honoured instead, capped at max.
func Backoff(minWait, maxWait time.Duration, n int, resp *http.Response) time.Duration {
	if resp != nil {
		if d, ok := retryAfter(resp.Header.Get("Retry-After"), time.Now()); ok {
			return min(d, maxWait)
		}
	}
	ceil := minWait
	for i := 0; i < n && ceil < maxWait; i++ {
		ceil *= 2
	}
	ceil = min(ceil, maxWait)
	if ceil <= 0 {
		return 0
	}
	return time.Duration(rand.Int64N(int64(ceil) + 1))
}

func retryAfter(v string, now time.Time) (time.Duration, bool) {
	if v == "" {
		return 0, false
	}
	if s, err := strconv.Atoi(strings.TrimSpace(v)); err == nil && s >= 0 {
		return time.Duration(s) * time.Second, true
	}
	if t, err := http.ParseTime(v); err == nil {
		return max(t.Sub(now), 0), true
	}
	return 0, false
}
