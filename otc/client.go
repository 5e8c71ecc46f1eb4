package otc

import (
	"context"
	"log/slog"
	"net/http"
	"time"

	"github.com/hashicorp/go-retryablehttp"
)

// This file holds the contract of the client: the operations, what a
// caller plugs in (Pacer, Observer, Options), and the Provider that hands
// out one Client per project. transport.go holds how a call is made,
// calls.go the calls.

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
	// OpApprove is accepting a connection to a service the project owns.
	OpApprove = "approve"
)

// Operations lists every operation (metrics initialise their labels from it).
var Operations = []string{OpList, OpGet, OpCreate, OpDelete, OpTag, OpService, OpQuota, OpToken, OpApprove}

// Pacer paces requests: Wait is called before every attempt (retries
// included) and returns the attempt's ticket; Observe after every answer,
// with that ticket and throttled true for a 429 or EndPoint.0022 answer.
// apply's AIMD limiter implements it.
type Pacer interface {
	Wait(ctx context.Context) (Ticket, error)
	Observe(t Ticket, throttled bool)
}

// Ticket identifies a paced attempt to its Pacer (which orders them: an
// answer to an attempt paced before the Pacer's last reaction belongs to
// the event it reacted to).
type Ticket uint64

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
	hosts  *hostLog // the servers that have answered, shared by all clients
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
	hosts := newHostLog()
	return &Provider{opts: opts, tokens: newTokenSource(opts, hosts), hosts: hosts}, nil
}

// Client returns a client for one project (region and project id; empty
// means the credentials' default). With password credentials it fetches the
// project's token (once per project; later calls share it). pacer may be nil.
func (p *Provider) Client(ctx context.Context, region, projectID string, pacer Pacer) (*Client, error) {
	c := &Client{opts: p.opts, pacer: pacer, tokens: p.tokens, hosts: p.hosts, region: firstNonEmpty(region, p.opts.Credentials.Region)}
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
			c.base, c.baseFrom = base, fromCatalog
		}
	case "token", "aksk":
		c.projectID = firstNonEmpty(projectID, creds.ProjectID)
	}
	if c.projectID == "" {
		return nil, configErrorf("credentials: no project id; set OS_PROJECT_ID or project_id in the manifest")
	}
	if c.base == "" && p.opts.Endpoint != "" {
		c.base, c.baseFrom = p.opts.Endpoint, fromEndpoint
	}
	if c.base == "" {
		if c.region == "" {
			return nil, configErrorf("credentials: no region; set OS_REGION_NAME, --region or --endpoint")
		}
		c.base = "https://vpcep." + c.region + ".otc.t-systems.com"
	}
	c.base = BaseURL(c.base)
	c.server = serverURL(c.base, false)
	c.reachHint = baseHint(c.baseFrom, c.region)
	if err := p.checkPlainHTTP(c.base, c.baseFrom); err != nil {
		return nil, err
	}
	c.http = c.retryClient()
	return c, nil
}

// Where a Client's VPCEP URL came from (Client.baseFrom), for messages.
const (
	fromEndpoint = "--endpoint"
	fromCatalog  = "the token's catalog"
)

// Client calls the VPCEP API of one project. It is safe for concurrent use.
type Client struct {
	opts      Options
	pacer     Pacer
	tokens    *tokenSource
	region    string
	projectID string
	base      string
	baseFrom  string // where base came from, for messages: fromEndpoint, fromCatalog or "" (the default)
	server    string // scheme and host of base, for messages
	reachHint string // which setting gives base, for a *HostError
	hosts     *hostLog
	http      *retryablehttp.Client
	denied    refusals
}

// ProjectID returns the project the client acts in.
func (c *Client) ProjectID() string { return c.projectID }

// Region returns the client's region.
func (c *Client) Region() string { return c.region }

// BaseURL returns the VPCEP base URL in use.
func (c *Client) BaseURL() string { return c.base }
