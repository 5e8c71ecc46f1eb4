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
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

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
// is about 1.5 MB).
const maxBody = 64 << 20

func jsonUnmarshal(b []byte, v any) error { return json.Unmarshal(b, v) }

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
	// Endpoint is the VPCEP base URL (without /v1/{project_id}); it wins
	// over the catalog only when the catalog has none.
	Endpoint       string
	MaxRetries     int           // retries after the first attempt; default 8 (0 = none with NoRetry)
	RequestTimeout time.Duration // per attempt; default 30s
	RetryWaitMin   time.Duration // default 500ms
	RetryWaitMax   time.Duration // default 30s; also caps Retry-After
	HTTPClient     *http.Client  // base client (its Transport is used); default a clean one
	Logger         *slog.Logger  // nil = discard
	Observer       Observer      // nil = none
	Now            func() time.Time
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
		o.HTTPClient = &http.Client{Transport: http.DefaultTransport.(*http.Transport).Clone()}
	}
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
	p := &Provider{opts: opts}
	p.tokens = &tokenSource{
		creds: opts.Credentials,
		http:  &http.Client{Transport: opts.HTTPClient.Transport, Timeout: opts.RequestTimeout},
		now:   opts.Now,
	}
	if o := opts.Observer; o != nil {
		p.tokens.onRequest = func(code string, d time.Duration) { o.Request(OpToken, code, d) }
	}
	return p, nil
}

// Client returns a client for one project (region and project id; empty
// means the credentials' default). pacer may be nil.
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
		c.projectID, c.base = t.projectID, t.catalog
	case "token":
		c.projectID = firstNonEmpty(projectID, creds.ProjectID)
	case "aksk":
		c.projectID = firstNonEmpty(projectID, creds.ProjectID)
	}
	if c.projectID == "" {
		return nil, errors.New("credentials: no project id; set OS_PROJECT_ID or project_id in the manifest")
	}
	if c.base == "" {
		c.base = p.opts.Endpoint
	}
	if c.base == "" {
		if c.region == "" {
			return nil, errors.New("credentials: no region; set OS_REGION_NAME, --region or --endpoint")
		}
		c.base = "https://vpcep." + c.region + ".otc.t-systems.com"
	}
	c.base = BaseURL(c.base)
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
	http      *retryablehttp.Client
}

// ProjectID returns the project the client acts in.
func (c *Client) ProjectID() string { return c.projectID }

// Region returns the client's region.
func (c *Client) Region() string { return c.region }

// BaseURL returns the VPCEP base URL in use.
func (c *Client) BaseURL() string { return c.base }

// attempt is the state of one logical request across its attempts.
type attempt struct {
	op       string
	n        int  // attempts made
	sent     bool // the last attempt wrote its request
	body     []byte
	class    Class // of the last failed attempt
	stale    string
	retried  bool
	throttle bool
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
		Transport: &transport{c: c, base: c.opts.HTTPClient.Transport},
		Timeout:   c.opts.RequestTimeout,
	}
	rc.Logger = nil
	rc.RetryMax = c.opts.MaxRetries
	rc.RetryWaitMin = c.opts.RetryWaitMin
	rc.RetryWaitMax = c.opts.RetryWaitMax
	rc.CheckRetry = c.checkRetry
	rc.Backoff = Backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, i int) {
		a := attemptFrom(req.Context())
		a.n = i + 1
		if i > 0 {
			if c.opts.Observer != nil {
				c.opts.Observer.Retry(a.op, a.class.String())
			}
			c.opts.Logger.Debug("retry", "op", a.op, "attempt", a.n, "reason", a.class.String())
		}
	}
	return rc
}

// checkRetry is the retry policy: throttling, transient server errors and
// failures before sending are retried; a create whose outcome is unknown
// is not (the caller must look for it first); nothing else is.
func (c *Client) checkRetry(ctx context.Context, resp *http.Response, err error) (bool, error) {
	if ctx.Err() != nil {
		return false, ctx.Err()
	}
	a := attemptFrom(ctx)
	var ae *APIError
	switch {
	case errors.As(err, &ae): // from the token fetch inside the transport
		a.class = ae.Class()
	case err != nil:
		a.class = (&NetError{Op: a.op, Sent: a.sent, Err: err}).Class()
	case resp.StatusCode < 400:
		return false, nil
	default:
		a.class = decodeError(a.op, resp, a.body).Class()
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

// transport runs one attempt: pace, authenticate, send, read the body,
// count. On a 401 with password credentials it refreshes the token once
// and resends.
type transport struct {
	c    *Client
	base http.RoundTripper
}

func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	c := t.c
	ctx := req.Context()
	a := attemptFrom(ctx)
	a.sent, a.body = false, nil
	if c.pacer != nil {
		if err := c.pacer.Wait(ctx); err != nil {
			return nil, err
		}
	}
	resp, err := t.send(req, a, "")
	if err == nil && resp.StatusCode == http.StatusUnauthorized && c.opts.Credentials.Mode() == "password" && !a.retried {
		a.retried = true
		stale := req.Header.Get("X-Auth-Token")
		c.opts.Logger.Debug("token rejected, fetching a new one", "op", a.op)
		if rerr := req.Context().Err(); rerr == nil {
			resp, err = t.send(req, a, stale)
		}
	}
	if err != nil {
		return nil, err
	}
	throttled := resp.StatusCode == http.StatusTooManyRequests ||
		(resp.StatusCode == http.StatusBadRequest && decodeError(a.op, resp, a.body).CodeIs(CodeThrottled))
	if c.pacer != nil {
		c.pacer.Observe(throttled)
	}
	return resp, nil
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
	if err := c.authenticate(req, body, staleToken); err != nil {
		return nil, err
	}
	trace := &httptrace.ClientTrace{WroteHeaders: func() { a.sent = true }}
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
		return nil, err
	}
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxBody+1))
	resp.Body.Close()
	if err == nil && len(data) > maxBody {
		err = fmt.Errorf("response body larger than %d bytes", maxBody)
	}
	if err != nil {
		t.observe(a.op, "error", start)
		return nil, err
	}
	a.body = data
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

func (c *Client) authenticate(req *http.Request, body []byte, staleToken string) error {
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
	}
	return nil
}

// do sends one logical request with retries and decodes a 2xx JSON answer
// into out (when not nil). Errors are *APIError, *NetError or context errors.
func (c *Client) do(ctx context.Context, op, method, path string, query map[string]string, in, out any) error {
	_, err := c.doN(ctx, op, method, path, query, in, out)
	return err
}

// doN is do that also returns the number of attempts made.
func (c *Client) doN(ctx context.Context, op, method, path string, query map[string]string, in, out any) (int, error) {
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
	u := c.base + "/v1/" + c.projectID + path
	req, err := retryablehttp.NewRequestWithContext(ctx, method, u, body)
	if err != nil {
		return 0, fmt.Errorf("%s: %w", op, err)
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
		if ctx.Err() != nil {
			return a.n, fmt.Errorf("%s: %w", op, ctx.Err())
		}
		var ae *APIError
		var ne *NetError
		if errors.As(err, &ae) || errors.As(err, &ne) {
			return a.n, err
		}
		return a.n, &NetError{Op: op, Sent: a.sent, Err: redactURLError(err)}
	}
	defer resp.Body.Close()
	data := a.body
	if resp.StatusCode/100 != 2 {
		return a.n, decodeError(op, resp, data)
	}
	if out != nil && len(bytes.TrimSpace(data)) > 0 {
		if err := json.Unmarshal(data, out); err != nil {
			return a.n, fmt.Errorf("%s: HTTP %d: malformed body: %v", op, resp.StatusCode, err)
		}
	}
	return a.n, nil
}

// pageSize is the largest page the list call allows.
const pageSize = 1000

// ListOptions filter ListEndpoints.
type ListOptions struct {
	VPCID string
	// Concurrency bounds the pages fetched at once after the first; 0 = 4.
	Concurrency int
}

// ListEndpoints returns every endpoint of the project (all pages, oldest
// first). Pages after the first are fetched concurrently. If the set
// changes while it is read (total_count moves), the listing is redone, up
// to three times, so that no endpoint is lost or doubled.
func (c *Client) ListEndpoints(ctx context.Context, opts ListOptions) ([]Endpoint, error) {
	var lastErr error
	for try := 0; try < 3; try++ {
		eps, stable, err := c.listOnce(ctx, opts)
		if err != nil {
			return nil, err
		}
		if stable {
			return eps, nil
		}
		lastErr = errors.New("list: the endpoint set kept changing while it was read")
		c.opts.Logger.Info("endpoint set changed during listing, listing again", "attempt", try+1)
	}
	return nil, lastErr
}

func (c *Client) listPage(ctx context.Context, opts ListOptions, offset int) (*ListEndpointsResponse, error) {
	q := map[string]string{
		"limit": strconv.Itoa(pageSize), "offset": strconv.Itoa(offset),
		"sort_key": "created_at", "sort_dir": "asc",
	}
	if opts.VPCID != "" {
		q["vpc_id"] = opts.VPCID
	}
	var page ListEndpointsResponse
	if err := c.do(ctx, OpList, http.MethodGet, "/vpc-endpoints", q, nil, &page); err != nil {
		return nil, err
	}
	return &page, nil
}

func (c *Client) listOnce(ctx context.Context, opts ListOptions) ([]Endpoint, bool, error) {
	first, err := c.listPage(ctx, opts, 0)
	if err != nil {
		return nil, false, err
	}
	total := first.TotalCount
	if len(first.Endpoints) < pageSize && total <= len(first.Endpoints) {
		return first.Endpoints, total == len(first.Endpoints) || total == 0, nil
	}
	npages := (total + pageSize - 1) / pageSize
	pages := make([]*ListEndpointsResponse, max(npages, 1))
	pages[0] = first
	conc := opts.Concurrency
	if conc <= 0 {
		conc = 4
	}
	var (
		wg   sync.WaitGroup
		sem  = make(chan struct{}, conc)
		mu   sync.Mutex
		ferr error
	)
	for i := 1; i < npages; i++ {
		wg.Add(1)
		sem <- struct{}{}
		go func(i int) {
			defer wg.Done()
			defer func() { <-sem }()
			p, err := c.listPage(ctx, opts, i*pageSize)
			mu.Lock()
			defer mu.Unlock()
			if err != nil && ferr == nil {
				ferr = err
			}
			pages[i] = p
		}(i)
	}
	wg.Wait()
	if ferr != nil {
		return nil, false, ferr
	}
	stable := true
	seen := make(map[string]bool, total)
	out := make([]Endpoint, 0, total)
	for _, p := range pages {
		if p.TotalCount != total {
			stable = false
		}
		for _, e := range p.Endpoints {
			if seen[e.ID] {
				stable = false
				continue
			}
			seen[e.ID] = true
			out = append(out, e)
		}
	}
	// Growth appends at the end (oldest first): read on until a short page.
	for off := npages * pageSize; len(pages[len(pages)-1].Endpoints) == pageSize; off += pageSize {
		p, err := c.listPage(ctx, opts, off)
		if err != nil {
			return nil, false, err
		}
		pages = append(pages, p)
		for _, e := range p.Endpoints {
			if !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, e)
			}
		}
		if len(p.Endpoints) > 0 {
			stable = false
		}
	}
	if len(out) != total {
		stable = false
	}
	return out, stable, nil
}

// GetEndpoint returns one endpoint; a missing one is an *APIError with
// NotFound() true.
func (c *Client) GetEndpoint(ctx context.Context, id string) (*Endpoint, error) {
	var e Endpoint
	if err := c.do(ctx, OpGet, http.MethodGet, "/vpc-endpoints/"+id, nil, nil, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// CreateEndpoint sends one create. It is not idempotent: when the error is
// Ambiguous (IsAmbiguous), the endpoint may exist, and the caller must look
// for it (by VPC and name tag) before sending it again. attempts counts the
// HTTP attempts made (throttled ones included).
func (c *Client) CreateEndpoint(ctx context.Context, in *CreateEndpointRequest) (e *Endpoint, attempts int, err error) {
	var out Endpoint
	n, err := c.doN(ctx, OpCreate, http.MethodPost, "/vpc-endpoints", nil, in, &out)
	if err != nil {
		return nil, n, err
	}
	return &out, n, nil
}

// DeleteEndpoint deletes one endpoint (asynchronously: it goes to status
// deleting, then GET answers 404). Deleting a missing endpoint is an
// *APIError with NotFound() true.
func (c *Client) DeleteEndpoint(ctx context.Context, id string) error {
	return c.do(ctx, OpDelete, http.MethodDelete, "/vpc-endpoints/"+id, nil, nil, nil)
}

// TagAction adds (action "create") or removes (action "delete") tags.
func (c *Client) TagAction(ctx context.Context, id, action string, tags []Tag) error {
	body := struct {
		Action string `json:"action"`
		Tags   []Tag  `json:"tags"`
	}{action, tags}
	return c.do(ctx, OpTag, http.MethodPost, "/endpoint/"+id+"/tags/action", nil, body, nil)
}

// FilterByTags returns the ids of the endpoints that carry all the given
// tags (key -> any of the values), through the resource_instances API.
func (c *Client) FilterByTags(ctx context.Context, tags map[string][]string) ([]string, error) {
	type tagFilter struct {
		Key    string   `json:"key"`
		Values []string `json:"values"`
	}
	var ids []string
	for offset := 0; ; {
		body := struct {
			Action string      `json:"action"`
			Tags   []tagFilter `json:"tags"`
			Limit  string      `json:"limit"`
			Offset string      `json:"offset"`
		}{Action: "filter", Limit: strconv.Itoa(pageSize), Offset: strconv.Itoa(offset)}
		for k, v := range tags {
			body.Tags = append(body.Tags, tagFilter{k, v})
		}
		var out struct {
			Resources []struct {
				ResourceID string `json:"resource_id"`
			} `json:"resources"`
			TotalCount int `json:"total_count"`
		}
		if err := c.do(ctx, OpTag, http.MethodPost, "/endpoint/resource_instances/action", nil, body, &out); err != nil {
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
func (c *Client) DescribeService(ctx context.Context, id, name string) (*Service, error) {
	q := map[string]string{}
	if id != "" {
		q["id"] = id
	}
	if name != "" {
		q["endpoint_service_name"] = name
	}
	var s Service
	if err := c.do(ctx, OpService, http.MethodGet, "/vpc-endpoint-services/describe", q, nil, &s); err != nil {
		return nil, err
	}
	return &s, nil
}

// PublicServices lists the public endpoint services.
func (c *Client) PublicServices(ctx context.Context) ([]Service, error) {
	var out struct {
		EndpointServices []Service `json:"endpoint_services"`
	}
	q := map[string]string{"limit": strconv.Itoa(pageSize)}
	if err := c.do(ctx, OpService, http.MethodGet, "/vpc-endpoint-services/public", q, nil, &out); err != nil {
		return nil, err
	}
	return out.EndpointServices, nil
}

// EndpointQuota returns the endpoint quota of the project.
func (c *Client) EndpointQuota(ctx context.Context) (*Quota, error) {
	var out struct {
		Quotas struct {
			Resources []Quota `json:"resources"`
		} `json:"quotas"`
	}
	if err := c.do(ctx, OpQuota, http.MethodGet, "/quotas", map[string]string{"type": "endpoint"}, nil, &out); err != nil {
		return nil, err
	}
	for _, q := range out.Quotas.Resources {
		if q.Type == "endpoint" {
			return &q, nil
		}
	}
	return nil, errors.New("quota: no endpoint quota in the answer")
}
