package otc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the request machinery: one logical call is one
// retryablehttp request whose attempts each pass through transport (pace,
// authenticate, send, read the body under a limit, count). Retry policy:
// throttling, transient server errors and failures before sending are
// retried (but not a host that has never answered and does not resolve or
// listen: reach.go); a create whose outcome is unknown never is (see
// CreateEndpoint).
// Logging policy: a retry after a network failure or a server error is
// logged at Warn (a long outage must not be silent); one after throttling
// at Debug (under AIMD throttling is normal and would flood the log).

// maxBody bounds every response body read (a list page of 1000 endpoints
// is about 1.5 MB). A variable so that tests can lower it.
var maxBody int64 = 64 << 20

// readBody reads r up to maxBody; a longer body is errBodyTooLarge.
func readBody(r io.Reader) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, maxBody+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > maxBody {
		return nil, fmt.Errorf("%w (%d bytes)", errBodyTooLarge, maxBody)
	}
	return data, nil
}

// attempt is the state of one logical request across its attempts. The
// attempts of one request run one after the other; only sent is written
// from the HTTP transport's own goroutine.
type attempt struct {
	op       string
	n        int         // attempts made
	sent     atomic.Bool // the last attempt wrote its request headers
	status   int         // of the last answer
	body     []byte      // of the last answer
	tooLarge bool        // the last answer's body was over the limit
	class    Class       // of the last failed attempt
	reason   string      // why it is retried (metrics): class, or "network"
	lastErr  error       // the last failed attempt's error, fit for logs
	retried  bool        // the token was refreshed after a 401
	paceErr  error       // Pacer.Wait failed before the attempt
	ticket   Ticket      // Pacer.Wait's for the attempt
	// effect is set once an attempt may have taken effect: it was sent and
	// not throttled. Until then the request's gate (WithGate) holds.
	effect bool
	// lastToken is the token the last attempt carried (password mode): the
	// one to drop when the answer is 401.
	lastToken string
}

type attemptKey struct{}

func attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	if a == nil {
		a = &attempt{}
	}
	return a
}

func (c *Client) retryClient() *retryablehttp.Client {
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{
		Transport: &transport{c: c, base: baseTransport(c.opts.HTTPClient)},
		Timeout:   c.opts.RequestTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return refuseRedirect(attemptFrom(req.Context()).op, req, via)
		},
	}
	rc.Logger = nil
	rc.RetryMax = c.opts.MaxRetries
	rc.RetryWaitMin = c.opts.RetryWaitMin
	rc.RetryWaitMax = c.opts.RetryWaitMax
	rc.CheckRetry = c.checkRetry
	rc.Backoff = Backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	// The hook runs before every attempt, outside the attempt's timeout:
	// waiting for the pacer does not count against RequestTimeout.
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, i int) {
		a := attemptFrom(req.Context())
		a.n = i + 1
		gate := gateFrom(req.Context())
		if a.effect {
			gate = nil // an attempt may have taken effect: the retries go on
		}
		if c.pacer != nil {
			ctx := req.Context()
			if gate != nil {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				defer context.AfterFunc(gate, cancel)()
			}
			a.ticket, a.paceErr = c.pacer.Wait(ctx)
		}
		if gate != nil && gate.Err() != nil {
			a.paceErr = ErrNotSent
		}
		if i > 0 {
			if c.opts.Observer != nil {
				c.opts.Observer.Retry(a.op, a.reason)
			}
			logRetry(c.opts.Logger, a.op, a.n, a.reason, a.lastErr)
		}
	}
	return rc
}

// transport runs one attempt (paced before it started, see retryClient):
// authenticate, send, read the body, count. On a 401 with password
// credentials it refreshes the token once per logical request and resends
// (paced like any request).
type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	a := attemptFrom(ctx)
	a.sent.Store(false)
	a.status, a.body, a.tooLarge = 0, nil, false
	if a.paceErr != nil {
		return nil, a.paceErr
	}
	resp, err := t.send(req, a, "")
	if err == nil && resp.StatusCode == http.StatusUnauthorized && c.opts.Credentials.Mode() == "password" && !a.retried {
		a.retried = true
		resp, err = t.resend(req, a, resp)
	}
	if err != nil {
		return nil, err
	}
	throttled := resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode == http.StatusBadRequest && decodeError(a.op, resp, a.body).CodeIs(vpcep.CodeThrottled))
	if c.pacer != nil {
		c.pacer.Observe(a.ticket, throttled)
	}
	return resp, nil
}

// resend sends req again with a new token after refused, the 401 the
// token a.lastToken got. When the token source has no newer token (the
// refused one was itself issued after a refusal less than a minute ago),
// the 401 stands.
func (t *transport) resend(req *http.Request, a *attempt, refused *http.Response) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	stale := a.lastToken
	c.opts.Logger.Debug("token rejected, fetching a new one", "op", a.op)
	tok, err := c.tokens.get(ctx, c.projectID, "", stale)
	if err != nil {
		return nil, err
	}
	if tok.value == stale {
		return refused, nil
	}
	if c.pacer != nil {
		c.pacer.Observe(a.ticket, false)
		var err error
		if a.ticket, err = c.pacer.Wait(ctx); err != nil {
			return nil, err
		}
	}
	a.sent.Store(false)
	return t.send(req, a, stale)
}

func (t *transport) send(orig *http.Request, a *attempt, staleToken string) (*http.Response, error) {
	c := t.c
	req := orig.Clone(orig.Context())
	var body []byte
	if orig.GetBody != nil {
		rc, err := orig.GetBody()
		if err != nil {
			return nil, err
		}
		body, _ = io.ReadAll(rc)
		req.Body = io.NopCloser(bytes.NewReader(body))
	}
	if err := c.authenticate(req, body, staleToken, a); err != nil {
		return nil, err
	}
	trace := &httptrace.ClientTrace{WroteHeaders: func() { a.sent.Store(true) }}
	req = req.WithContext(httptrace.WithClientTrace(req.Context(), trace))
	if o := c.opts.Observer; o != nil {
		o.Inflight(1)
		defer o.Inflight(-1)
	}
	start := c.opts.Now()
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		t.observe(a.op, "error", start)
		c.opts.Logger.Debug("request", "op", a.op, "method", req.Method, "path", req.URL.Path, "err", redactURLError(err))
		if te := tlsFailure(a.op, req.URL, err); te != nil {
			return nil, te
		}
		if he := c.hosts.unreachable(a.op, req.URL, c.server, c.reachHint, err); he != nil {
			return nil, he
		}
		return nil, err
	}
	c.hosts.answer(req.URL)
	data, err := readBody(resp.Body)
	resp.Body.Close()
	if errors.Is(err, errBodyTooLarge) {
		a.tooLarge, data, err = true, nil, nil
	}
	if err != nil {
		t.observe(a.op, "error", start)
		c.opts.Logger.Debug("request", "op", a.op, "method", req.Method, "path", req.URL.Path, "err", err)
		return nil, err
	}
	a.status, a.body = resp.StatusCode, data
	resp.Body = io.NopCloser(bytes.NewReader(data))
	t.observe(a.op, strconv.Itoa(resp.StatusCode), start)
	c.opts.Logger.Debug("request", "op", a.op, "method", req.Method, "path", req.URL.Path, "code", resp.StatusCode,
		"duration", c.opts.Now().Sub(start).Round(time.Millisecond))
	return resp, nil
}

func (t *transport) observe(op, code string, start time.Time) {
	if o := t.c.opts.Observer; o != nil {
		o.Request(op, code, t.c.opts.Now().Sub(start))
	}
}

func (c *Client) authenticate(req *http.Request, body []byte, staleToken string, a *attempt) error {
	creds := c.opts.Credentials
	switch creds.Mode() {
	case "aksk":
		if creds.SecurityToken != "" {
			req.Header.Set("X-Security-Token", creds.SecurityToken)
		}
		req.Header.Set("X-Project-Id", c.projectID)
		Sign(req, body, creds.AccessKey, creds.SecretKey, c.opts.Now())
	case "token":
		req.Header.Set("X-Auth-Token", creds.Token)
	case "password":
		tok, err := c.tokens.get(req.Context(), c.projectID, "", staleToken)
		if err != nil {
			return err
		}
		req.Header.Set("X-Auth-Token", tok.value)
		a.lastToken = tok.value
	}
	return nil
}

// ErrNotSent is the error of a request that was not sent because its gate
// (WithGate) closed before it could be.
var ErrNotSent = errors.New("not sent: the run stopped")

type gateKey struct{}

// WithGate returns a context whose requests are sent only while gate is
// not done: each attempt waits for the pacer and then checks the gate,
// and a request whose gate is done by then is sent no more (ErrNotSent),
// until an attempt may have taken effect (it was sent and not throttled):
// then its retries go on (with ctx). apply gives the first request of each change the run's stop as
// gate, so that no change starts after a stop while the requests in flight
// finish.
func WithGate(ctx context.Context, gate context.Context) context.Context {
	return context.WithValue(ctx, gateKey{}, gate)
}

func gateFrom(ctx context.Context) context.Context {
	g, _ := ctx.Value(gateKey{}).(context.Context)
	return g
}

// do sends one logical request with retries and hands a 2xx answer's body
// to decode (when not nil), which must accept only the document the
// operation returns (see decode.go). Errors are *APIError, *NetError,
// *ResponseError or, when ctx ends, an error that wraps ctx.Err() (a
// *NetError, and so Ambiguous, for a create that was sent).
func (c *Client) do(ctx context.Context, op, method, path string, query map[string]string, in any, decode func([]byte) error) error {
	_, err := c.doN(ctx, op, method, path, query, in, decode)
	return err
}

// doN is do that also returns the number of attempts made.
func (c *Client) doN(ctx context.Context, op, method, path string, query map[string]string, in any, decode func([]byte) error) (int, error) {
	if err := c.denied.check(op); err != nil {
		return 0, err
	}
	a := &attempt{op: op}
	ctx = context.WithValue(ctx, attemptKey{}, a)
	var body any
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return 0, fmt.Errorf("%s: %w", op, err)
		}
		body = b
	}
	u := c.base + "/v1/" + url.PathEscape(c.projectID) + path
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, redactURLError(err))
	}
	if len(query) > 0 {
		q := req.URL.Query()
		for k, v := range query {
			q.Set(k, v)
		}
		req.URL.RawQuery = q.Encode()
	}
	req.Header.Set("Accept", "application/json")
	if in != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return a.n, c.wrapError(ctx, op, a, err)
	}
	defer resp.Body.Close()
	if a.tooLarge {
		return a.n, &ResponseError{Op: op, Status: resp.StatusCode, URL: c.server, Err: fmt.Errorf("%w (%d bytes)", errBodyTooLarge, maxBody)}
	}
	data := a.body
	if resp.StatusCode/100 != 2 {
		e := decodeError(op, resp, data)
		e.URL = c.server
		e.redact(c.opts.Redactor)
		if e.authProblem() != "" {
			e.Hint = c.authHint(e)
			c.denied.add(e)
		}
		return a.n, e
	}
	if decode != nil {
		if err := decode(data); err != nil {
			return a.n, &ResponseError{Op: op, Status: resp.StatusCode, URL: c.server, Err: err}
		}
	}
	return a.n, nil
}

// into returns a decode func for do that reads data with dec into *out.
func into[T any](out **T, dec func([]byte) (*T, error)) func([]byte) error {
	return func(data []byte) error {
		v, err := dec(data)
		*out = v
		return err
	}
}

// wrapError turns the error of a failed request into one of the client's
// types, without the URL that url.Error would add.
func (c *Client) wrapError(ctx context.Context, op string, a *attempt, err error) error {
	if ctx.Err() != nil {
		if op == OpCreate && a.sent.Load() {
			return &NetError{Op: op, Sent: true, Err: ctx.Err()}
		}
		return fmt.Errorf("%s: %w", op, ctx.Err())
	}
	if errors.Is(a.paceErr, ErrNotSent) {
		return fmt.Errorf("%s: %w", op, ErrNotSent)
	}
	err = redactURLError(err)
	var ae *APIError
	if errors.As(err, &ae) { // the token request failed
		ae.Message = c.opts.Redactor.Redact(ae.Message)
		if ae.authProblem() != "" {
			// IAM refuses the credentials: asking again for every request
			// would only hammer it.
			c.denied.add(ae)
		}
		return ae
	}
	var typed interface{ Class() Class }
	if errors.As(err, &typed) {
		return err
	}
	if a.paceErr != nil { // the pacer refused: the server is not to blame
		return &NetError{Op: op, Err: err}
	}
	return &NetError{Op: op, Sent: a.sent.Load(), Err: err, URL: c.server, Attempts: a.n}
}
