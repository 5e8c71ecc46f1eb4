package otc

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// This file holds the IAM token source: one token per project, fetched
// once and shared by concurrent callers, renewed before it expires but at
// most once a minute (a skewed clock must not turn into an IAM storm).

// Token lifetimes. A token is renewed tokenMargin before its expires_at,
// but never sooner than minTokenRenewal after it was fetched: a token whose
// expires_at is past or near by this machine's clock (a skewed clock, or
// tokens that short-lived) would otherwise be fetched for every request.
// Such a token (less than minTokenLife to live when fetched) is reported
// once per run.
const (
	tokenMargin     = time.Minute
	minTokenRenewal = time.Minute
	minTokenLife    = 5 * time.Minute
)

// token is a project-scoped IAM token.
type token struct {
	value     string
	projectID string
	// catalog holds the public vpcep URLs of the token's catalog by region
	// ("*" or "" for an entry without region), without /v1/{pid}.
	catalog map[string]string
	expires time.Time
	fetched time.Time // by this machine's clock
	// skew is this machine's clock minus IAM's, as issued_at tells it (0
	// when IAM did not say).
	skew      time.Duration
	refreshAt time.Time // zero: used until refused (no expires_at)
	// renewed is set on a token fetched because its predecessor was
	// refused: if it is refused too within minTokenRenewal, the refusal
	// stands (no third token).
	renewed bool
}

// usable reports whether the token may still be sent at now.
func (t *token) usable(now time.Time) bool {
	return t.refreshAt.IsZero() || now.Before(t.refreshAt)
}

// endpoint returns the catalog's VPCEP base URL for region, and the region
// it belongs to. With region empty, a catalog of one region answers.
func (t *token) endpoint(region string) (string, string) {
	if region != "" {
		if u, ok := t.catalog[region]; ok {
			return u, region
		}
	}
	for _, r := range []string{"*", ""} {
		if u, ok := t.catalog[r]; ok {
			return u, region
		}
	}
	if region == "" && len(t.catalog) == 1 {
		for r, u := range t.catalog {
			return u, r
		}
	}
	return "", region
}

// tokenSource fetches and caches one token per project. Concurrent callers
// that need the same project's token share one fetch.
type tokenSource struct {
	creds    Credentials
	http     *retryablehttp.Client
	now      func() time.Time
	log      *slog.Logger
	redactor *Redactor
	skewOnce sync.Once

	mu       sync.Mutex
	tokens   map[string]*token // by project id and by "name:"+project name
	inflight map[string]*tokenCall
}

// tokenCall is a fetch in progress; done is closed when tok or err is set.
type tokenCall struct {
	done chan struct{}
	tok  *token
	err  error
}

func newTokenSource(opts Options, hosts *hostLog) *tokenSource {
	s := &tokenSource{creds: opts.Credentials, now: opts.Now, log: opts.Logger, redactor: opts.Redactor,
		tokens: map[string]*token{}, inflight: map[string]*tokenCall{}}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{
		Transport: &tokenTransport{base: baseTransport(opts.HTTPClient), obs: opts.Observer, now: opts.Now, hosts: hosts},
		Timeout:   opts.RequestTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return refuseRedirect(OpToken, req, via)
		},
	}
	rc.Logger = nil
	rc.RetryMax = opts.MaxRetries
	rc.RetryWaitMin, rc.RetryWaitMax = opts.RetryWaitMin, opts.RetryWaitMax
	rc.Backoff = Backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	// A token request has no effect but the token: any failure that may be
	// transient is retried, whether or not the request was sent. Retries
	// are logged as the VPCEP calls' are (see logRetry).
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		st := tokenStateFrom(ctx)
		var cl interface{ Class() Class }
		if errors.As(err, &cl) && cl.Class() == Permanent { // a redirect, a certificate, a host
			return false, nil
		}
		if err != nil {
			st.class = NetworkBeforeSend
			st.lastErr = &NetError{Op: OpToken, Sent: true, Err: redactURLError(err), URL: st.server}
			return true, nil
		}
		ae := &APIError{Op: OpToken, Status: resp.StatusCode}
		st.class, st.lastErr = ae.Class(), ae
		return st.class == Throttled || st.class == ServerError, nil
	}
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, i int) {
		st := tokenStateFrom(req.Context())
		st.n = i + 1
		if i == 0 {
			return
		}
		logRetry(opts.Logger, OpToken, st.n, st.class.String(), st.lastErr)
		if opts.Observer != nil {
			opts.Observer.Retry(OpToken, st.class.String())
		}
	}
	s.http = rc
	return s
}

// tokenState is the state of one token request across its attempts, kept
// in its context.
type tokenState struct {
	server  string // the IAM URL, for messages
	n       int    // attempts made
	class   Class  // of the last failed attempt (the retry reason)
	lastErr error  // of the last failed attempt, fit for logs
}

type tokenStateKey struct{}

func tokenStateFrom(ctx context.Context) *tokenState {
	st, _ := ctx.Value(tokenStateKey{}).(*tokenState)
	if st == nil {
		st = &tokenState{}
	}
	return st
}

// tokenTransport counts token requests for the Observer, records the
// servers that answer and names the failures no retry fixes.
type tokenTransport struct {
	base  http.RoundTripper
	obs   Observer
	now   func() time.Time
	hosts *hostLog
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.now()
	resp, err := t.base.RoundTrip(req)
	if t.obs != nil {
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		t.obs.Request(OpToken, code, t.now().Sub(start))
	}
	if err != nil {
		if te := tlsFailure(OpToken, req.URL, err); te != nil {
			return nil, te
		}
		if he := t.hosts.unreachable(OpToken, req.URL, tokenStateFrom(req.Context()).server, iamHint, err); he != nil {
			return nil, he
		}
		return nil, err
	}
	t.hosts.answer(req.URL)
	return resp, nil
}

func tokenKey(projectID, projectName string) string {
	if projectID != "" {
		return projectID
	}
	return "name:" + projectName
}

// get returns the cached token for the project, fetching one if needed.
// stale, when not empty, is a token value the caller saw rejected: unless
// another caller has replaced it already, a new one is fetched.
func (s *tokenSource) get(ctx context.Context, projectID, projectName, stale string) (*token, error) {
	key := tokenKey(projectID, projectName)
	for {
		s.mu.Lock()
		if t, ok := s.tokens[key]; ok {
			now := s.now()
			if t.value != stale && t.usable(now) ||
				// Refused although just renewed after a refusal: the
				// refusal stands (the caller sees the same token).
				t.value == stale && t.renewed && now.Sub(t.fetched) < minTokenRenewal {
				s.mu.Unlock()
				return t, nil
			}
		}
		if call, ok := s.inflight[key]; ok {
			s.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, &NetError{Op: OpToken, Err: ctx.Err()}
			}
			if call.err != nil && isContextError(call.err) && ctx.Err() == nil {
				continue // the fetching caller gave up; fetch for ourselves
			}
			return call.tok, call.err
		}
		call := &tokenCall{done: make(chan struct{})}
		s.inflight[key] = call
		s.mu.Unlock()

		call.tok, call.err = s.fetch(ctx, projectID, projectName)
		if call.err == nil {
			call.tok.renewed = stale != ""
		}
		s.mu.Lock()
		delete(s.inflight, key)
		if call.err == nil {
			s.tokens[key] = call.tok
			if call.tok.projectID != "" {
				s.tokens[call.tok.projectID] = call.tok
			}
		}
		s.mu.Unlock()
		close(call.done)
		return call.tok, call.err
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (s *tokenSource) fetch(ctx context.Context, projectID, projectName string) (*token, error) {
	u := strings.TrimRight(s.creds.AuthURL, "/")
	if !strings.HasSuffix(u, "/v3") {
		u += "/v3"
	}
	st := &tokenState{server: serverURL(u, true)}
	ctx = context.WithValue(ctx, tokenStateKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, u+"/auth/tokens", s.requestBody(projectID, projectName))
	if err != nil {
		return nil, fmt.Errorf("token: %w", redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		var typed interface{ Class() Class }
		if errors.As(err, &typed) && typed.Class() == Permanent { // a redirect, a certificate, a host
			return nil, redactURLError(err)
		}
		if ctx.Err() != nil { // the caller gave up: IAM is not to blame
			return nil, &NetError{Op: OpToken, Sent: true, Err: redactURLError(err)}
		}
		return nil, &NetError{Op: OpToken, Sent: true, Err: redactURLError(err), URL: st.server, Attempts: st.n}
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, &ResponseError{Op: OpToken, Status: resp.StatusCode, Err: err}
		}
		return nil, &NetError{Op: OpToken, Sent: true, Err: err, URL: st.server, Attempts: st.n}
	}
	value := resp.Header.Get("X-Subject-Token")
	s.redactor.Add(value) // before anything could print it
	if resp.StatusCode/100 != 2 {
		e := decodeError(OpToken, resp, data)
		e.redact(s.redactor)
		if e.authProblem() != "" {
			e.Hint = tokenHint(e, projectID, projectName)
		}
		return nil, e
	}
	tr, err := decodeToken(data)
	if err != nil {
		return nil, &ResponseError{Op: OpToken, Status: resp.StatusCode, URL: st.server, Err: err}
	}
	if value == "" {
		return nil, &ResponseError{Op: OpToken, Status: resp.StatusCode, Err: errors.New("no X-Subject-Token header")}
	}
	return s.newToken(value, tr, projectID), nil
}

// schedule sets when t is to be renewed, and reports (once per run) a
// token that has almost no time to live by this machine's clock.
func (s *tokenSource) schedule(t *token) {
	t.refreshAt = t.expires.Add(-tokenMargin)
	if floor := t.fetched.Add(minTokenRenewal); t.refreshAt.Before(floor) {
		t.refreshAt = floor
	}
	switch life := t.expires.Sub(t.fetched); {
	case life < minTokenLife:
		s.skewOnce.Do(func() {
			s.log.Warn("IAM token expires "+describeLife(life)+" by this machine's clock: the clock is probably skewed (check NTP), "+
				"or tokens are that short-lived; each token is used until the API refuses it and renewed at most once a minute",
				"expires_at", t.expires.Format(time.RFC3339), "now", t.fetched.UTC().Format(time.RFC3339))
		})
	case t.skew > minTokenLife || t.skew < -minTokenLife:
		s.skewOnce.Do(func() {
			s.log.Warn("this machine's clock is " + t.skew.Round(time.Second).String() + " off IAM's (by the token's issued_at): " +
				"tokens are renewed by their lifetime, but AK/SK signatures and logs need a right clock (check NTP)")
		})
	}
}

func describeLife(d time.Duration) string {
	if d <= 0 {
		return (-d).Round(time.Second).String() + " before it was issued"
	}
	return d.Round(time.Second).String() + " after it was issued"
}
