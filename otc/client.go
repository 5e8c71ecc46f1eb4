package otc

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/go-retryablehttp"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the request machinery: one logical call is one
// retryablehttp request whose attempts each pass through transport (pace,
// authenticate, send, read the body under a limit, count). Retry policy:
// throttling, transient server errors and failures before sending are
// retried; a create whose outcome is unknown never is (see CreateEndpoint).
// Logging policy: a retry after a network failure or a server error is
// logged at Warn (a long outage must not be silent); one after throttling
// at Debug (under AIMD throttling is normal and would flood the log).

// Operations, as they appear in metrics, logs and errors.
const (
	OpList    = "list"
	OpGet     = "get"
	OpCreate  = "create"
	OpDelete  = "delete"
	OpTag     = "tag"
	OpService = "service"
	OpQuota   = "quota"
	OpToken   = "token"
)

// Operations lists every operation (metrics initialise their labels from it).
var Operations = []string{OpList, OpGet, OpCreate, OpDelete, OpTag, OpService, OpQuota, OpToken}

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

// Pacer paces requests: Wait is called before every attempt (retries
// included); Observe after every answer, with throttled true for a 429 or
// EndPoint.0022 answer. apply's AIMD limiter implements it.
type Pacer interface {
	Wait(ctx context.Context) error
	Observe(throttled bool)
}

// Observer receives one call per HTTP attempt and per retry decision
// (metrics). All methods must be safe for concurrent use.
type Observer interface {
	Request(op, code string, d time.Duration)
	Retry(op, reason string)
	Inflight(delta int)
}

// Options configure a Provider and every Client it makes.
type Options struct {
	Credentials Credentials
	// Endpoint is the VPCEP base URL (without /v1/{project_id}). Given, it
	// wins over the token's catalog.
	Endpoint       string
	MaxRetries     int           // retries after the first attempt; 0 = none
	RequestTimeout time.Duration // per attempt; default 30s
	RetryWaitMin   time.Duration // default 500ms
	RetryWaitMax   time.Duration // default 30s; also caps Retry-After
	HTTPClient     *http.Client  // base client (its Transport is used); default a clean one
	Logger         *slog.Logger  // nil = discard
	Observer       Observer      // nil = none
	Now            func() time.Time
	// Redactor is the run's set of secrets: the Provider adds the
	// credentials' secrets and every token it fetches, and scrubs API
	// messages and its log records with it. nil: a Redactor of its own.
	Redactor *Redactor
}

func (o *Options) defaults() {
	if o.MaxRetries < 0 {
		o.MaxRetries = 0
	}
	if o.RequestTimeout == 0 {
		o.RequestTimeout = 30 * time.Second
	}
	if o.RetryWaitMin == 0 {
		o.RetryWaitMin = 500 * time.Millisecond
	}
	if o.RetryWaitMax == 0 {
		o.RetryWaitMax = 30 * time.Second
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	if o.HTTPClient == nil {
		t := http.DefaultTransport.(*http.Transport).Clone()
		// Keep a connection per worker: the default (2 per host) would open a
		// new TLS connection for most requests of a concurrent run.
		t.MaxIdleConnsPerHost = 256
		o.HTTPClient = &http.Client{Transport: t}
	}
	if o.Redactor == nil {
		o.Redactor = NewRedactor()
	}
}

// baseTransport is the RoundTripper of c, or the default one.
func baseTransport(c *http.Client) http.RoundTripper {
	if c != nil && c.Transport != nil {
		return c.Transport
	}
	return http.DefaultTransport
}

// Provider holds credentials and tokens and hands out one Client per
// project.
type Provider struct {
	opts   Options
	tokens *tokenSource
}

// NewProvider checks the credentials and returns a Provider. It makes no
// request.
func NewProvider(opts Options) (*Provider, error) {
	opts.defaults()
	if err := opts.Credentials.Validate(); err != nil {
		return nil, err
	}
	if err := opts.configureTLS(); err != nil {
		return nil, err
	}
	opts.Redactor.Add(opts.Credentials.Secrets()...)
	opts.Logger = slog.New(opts.Redactor.Handler(opts.Logger.Handler()))
	opts.warnInsecure()
	return &Provider{opts: opts, tokens: newTokenSource(opts)}, nil
}

// Client returns a client for one project (region and project id; empty
// means the credentials' default). With password credentials it fetches the
// project's token (once per project; later calls share it). pacer may be nil.
func (p *Provider) Client(ctx context.Context, region, projectID string, pacer Pacer) (*Client, error) {
	c := &Client{opts: p.opts, pacer: pacer, tokens: p.tokens, region: firstNonEmpty(region, p.opts.Credentials.Region)}
	creds := p.opts.Credentials
	switch creds.Mode() {
	case "password":
		pid, pname := projectID, ""
		if pid == "" {
			pid, pname = creds.ProjectID, creds.ProjectName
		}
		t, err := p.tokens.get(ctx, pid, pname, "")
		if err != nil {
			return nil, err
		}
		c.projectID = t.projectID
		// An explicit --endpoint wins over the catalog; the catalog still
		// names the region when none was given.
		var base string
		base, c.region = t.endpoint(c.region)
		if p.opts.Endpoint == "" {
			c.base, c.baseFrom = base, "the token's catalog"
		}
	case "token", "aksk":
		c.projectID = firstNonEmpty(projectID, creds.ProjectID)
	}
	if c.projectID == "" {
		return nil, configErrorf("credentials: no project id; set OS_PROJECT_ID or project_id in the manifest")
	}
	if c.base == "" && p.opts.Endpoint != "" {
		c.base, c.baseFrom = p.opts.Endpoint, "--endpoint"
	}
	if c.base == "" {
		if c.region == "" {
			return nil, configErrorf("credentials: no region; set OS_REGION_NAME, --region or --endpoint")
		}
		c.base = "https://vpcep." + c.region + ".otc.t-systems.com"
	}
	c.base = BaseURL(c.base)
	c.server = serverURL(c.base, false)
	if err := p.checkPlainHTTP(c.base, c.baseFrom); err != nil {
		return nil, err
	}
	c.http = c.retryClient()
	return c, nil
}

// Client calls the VPCEP API of one project. It is safe for concurrent use.
type Client struct {
	opts      Options
	pacer     Pacer
	tokens    *tokenSource
	region    string
	projectID string
	base      string
	baseFrom  string // where base came from, for messages
	server    string // scheme and host of base, for messages
	http      *retryablehttp.Client
	denied    refusals
}

// ProjectID returns the project the client acts in.
func (c *Client) ProjectID() string { return c.projectID }

// Region returns the client's region.
func (c *Client) Region() string { return c.region }

// BaseURL returns the VPCEP base URL in use.
func (c *Client) BaseURL() string { return c.base }

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
		if i > 0 {
			gate = nil // the request was sent: its retries go on
		}
		if c.pacer != nil {
			ctx := req.Context()
			if gate != nil {
				var cancel context.CancelFunc
				ctx, cancel = context.WithCancel(ctx)
				defer cancel()
				defer context.AfterFunc(gate, cancel)()
			}
			a.paceErr = c.pacer.Wait(ctx)
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
// failures before sending are retried; a create whose outcome is unknown
// is not (the caller must look for it first); nothing else is.
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
		// The token request failed inside the transport; it has had its
		// own retries.
		a.class = cl.Class()
		return false, nil
	case err != nil:
		ne := &NetError{Op: a.op, Sent: a.sent.Load(), Err: redactURLError(err), URL: c.server}
		a.class, a.lastErr = ne.Class(), ne
	case a.tooLarge:
		a.class = Permanent
	case resp.StatusCode < 400:
		return false, nil
	default:
		ae := decodeError(a.op, resp, a.body)
		ae.Message = c.opts.Redactor.Redact(ae.Message)
		a.class, a.lastErr = ae.Class(), ae
	}
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
		c.pacer.Observe(throttled)
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
		c.pacer.Observe(false)
		if err := c.pacer.Wait(ctx); err != nil {
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
		return nil, err
	}
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
// not done: the first attempt of each request waits for the pacer and
// then checks the gate, and a request whose gate is done by then is not
// sent at all (ErrNotSent). Once an attempt was sent, retries go on (with
// ctx). apply gives the first request of each change the run's stop as
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
		e.Message = c.opts.Redactor.Redact(e.Message)
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

// jsonInto returns a decode func for do that reads a JSON object into out.
func jsonInto(out any) func([]byte) error {
	return func(data []byte) error { return vpcep.DecodeObject("a JSON object", data, out) }
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

// GetEndpoint returns one endpoint; a missing one is an *APIError with
// NotFound() true.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*vpcep.Endpoint, error) {
	var e *vpcep.Endpoint
	if err := c.do(ctx, OpGet, http.MethodGet, "/vpc-endpoints/"+url.PathEscape(id), nil, nil, into(&e, vpcep.DecodeEndpoint)); err != nil {
		return nil, err
	}
	return e, nil
}

// CreateEndpoint sends one create. It is not idempotent, so the client
// never resends it once it may have reached the API: when the error is
// Ambiguous (IsAmbiguous: a timeout, a reset or a 5xx after the request was
// written, or an unreadable success answer), the endpoint may exist, and
// the caller must look for it (by VPC and name tag) before sending it
// again. Throttled answers and failures before sending are retried here.
// attempts counts the HTTP attempts made (throttled ones included).
func (c *Client) CreateEndpoint(ctx context.Context, in *vpcep.CreateEndpointRequest) (e *vpcep.Endpoint, attempts int, err error) {
	n, err := c.doN(ctx, OpCreate, http.MethodPost, "/vpc-endpoints", nil, in, into(&e, vpcep.DecodeEndpoint))
	if err != nil {
		return nil, n, err
	}
	return e, n, nil
}

// DeleteEndpoint deletes one endpoint (asynchronously: it goes to status
// deleting, then GET answers 404). Deleting a missing endpoint is an
// *APIError with NotFound() true.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	_, err := c.DeleteEndpointN(ctx, id)
	return err
}

// DeleteEndpointN is DeleteEndpoint that also returns the number of HTTP
// attempts made (retries included), as CreateEndpoint does.
func (c *Client) DeleteEndpointN(ctx context.Context, id string) (attempts int, err error) {
	return c.doN(ctx, OpDelete, http.MethodDelete, "/vpc-endpoints/"+url.PathEscape(id), nil, nil, nil)
}

// TagAction adds (action "create") or removes (action "delete") tags.
func (c *Client) TagAction(ctx context.Context, id, action string, tags []vpcep.Tag) error {
	_, err := c.TagActionN(ctx, id, action, tags)
	return err
}

// TagActionN is TagAction that also returns the number of HTTP attempts
// made (retries included), as CreateEndpoint does.
func (c *Client) TagActionN(ctx context.Context, id, action string, tags []vpcep.Tag) (attempts int, err error) {
	body := struct {
		Action string      `json:"action"`
		Tags   []vpcep.Tag `json:"tags"`
	}{action, tags}
	return c.doN(ctx, OpTag, http.MethodPost, "/endpoint/"+url.PathEscape(id)+"/tags/action", nil, body, nil)
}

// FilterByTags returns the ids of the endpoints that carry all the given
// tags (key -> any of the values; no values: any value), through the
// resource_instances API.
func (c *Client) FilterByTags(ctx context.Context, tags map[string][]string) ([]string, error) {
	type tagFilter struct {
		Key    string   `json:"key"`
		Values []string `json:"values"`
	}
	keys := make([]string, 0, len(tags))
	for k := range tags {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	filters := make([]tagFilter, 0, len(keys))
	for _, k := range keys {
		vs := tags[k]
		if vs == nil {
			vs = []string{}
		}
		filters = append(filters, tagFilter{k, vs})
	}
	var ids []string
	for offset := 0; ; {
		body := struct {
			Action string      `json:"action"`
			Tags   []tagFilter `json:"tags"`
			Limit  string      `json:"limit"`
			Offset string      `json:"offset"`
		}{Action: "filter", Tags: filters, Limit: strconv.Itoa(pageSize), Offset: strconv.Itoa(offset)}
		var out struct {
			Resources []struct {
				ResourceID string `json:"resource_id"`
			} `json:"resources"`
			TotalCount int `json:"total_count"`
		}
		if err := c.do(ctx, OpTag, http.MethodPost, "/endpoint/resource_instances/action", nil, body, jsonInto(&out)); err != nil {
			return nil, err
		}
		for _, r := range out.Resources {
			ids = append(ids, r.ResourceID)
		}
		offset += len(out.Resources)
		if len(out.Resources) == 0 || offset >= out.TotalCount {
			return ids, nil
		}
	}
}

// DescribeService resolves an endpoint service by id or by name.
func (c *Client) DescribeService(ctx context.Context, id, name string) (*vpcep.Service, error) {
	q := map[string]string{}
	if id != "" {
		q["id"] = id
	}
	if name != "" {
		q["endpoint_service_name"] = name
	}
	var s *vpcep.Service
	if err := c.do(ctx, OpService, http.MethodGet, "/vpc-endpoint-services/describe", q, nil, into(&s, vpcep.DecodeService)); err != nil {
		return nil, err
	}
	return s, nil
}

// PublicServices lists the public endpoint services.
func (c *Client) PublicServices(ctx context.Context) ([]vpcep.Service, error) {
	var out struct {
		EndpointServices []vpcep.Service `json:"endpoint_services"`
	}
	q := map[string]string{"limit": strconv.Itoa(pageSize)}
	if err := c.do(ctx, OpService, http.MethodGet, "/vpc-endpoint-services/public", q, nil, jsonInto(&out)); err != nil {
		return nil, err
	}
	return out.EndpointServices, nil
}

// EndpointQuota returns the endpoint quota of the project.
func (c *Client) EndpointQuota(ctx context.Context) (*vpcep.Quota, error) {
	var q *vpcep.Quota
	if err := c.do(ctx, OpQuota, http.MethodGet, "/quotas", map[string]string{"type": "endpoint"}, nil, into(&q, vpcep.DecodeQuota)); err != nil {
		return nil, err
	}
	return q, nil
}
