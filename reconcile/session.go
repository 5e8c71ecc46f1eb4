package reconcile

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
)

// Config configures a Session.
type Config struct {
	Credentials otc.Credentials
	// Endpoint is the VPCEP base URL; given, it wins over the catalog.
	Endpoint       string
	Rate           float64       // requests per second per target, at most (the AIMD ceiling)
	Burst          int           // the limiter's burst
	MaxRetries     int           // HTTP retries of one request
	RequestTimeout time.Duration // of one HTTP attempt
	Logger         *slog.Logger  // nil: discard
	Metrics        *metrics.Metrics
	Redactor       *otc.Redactor // the run's secrets; nil: one of its own
}

// Session is the connection to the API for one run: the credentials, and
// one client and one AIMD limiter per target. It is safe for concurrent
// use.
type Session struct {
	cfg      Config
	log      *slog.Logger
	provider *otc.Provider

	mu        sync.Mutex
	clients   map[plan.Target]*otc.Client
	resolving map[plan.Target]*resolution // by (region, project) as a manifest writes it
}

// Open checks the configuration and returns a Session. It makes no
// request: targets are authenticated when first used.
func Open(cfg Config) (*Session, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	var obs otc.Observer
	if cfg.Metrics != nil {
		obs = cfg.Metrics
	}
	p, err := otc.NewProvider(otc.Options{
		Credentials:    cfg.Credentials,
		Endpoint:       cfg.Endpoint,
		MaxRetries:     cfg.MaxRetries,
		RequestTimeout: cfg.RequestTimeout,
		Logger:         cfg.Logger,
		Observer:       obs,
		Redactor:       cfg.Redactor,
	})
	if err != nil {
		return nil, err
	}
	return &Session{cfg: cfg, log: cfg.Logger, provider: p,
		clients: map[plan.Target]*otc.Client{}, resolving: map[plan.Target]*resolution{}}, nil
}

// client returns the client of a target as a manifest writes it ("" =
// the credentials' default), authenticating once per target: concurrent
// callers for one target wait for the first; callers for other targets
// authenticate at the same time (tokens are shared per project).
func (s *Session) client(ctx context.Context, raw plan.Target) (*otc.Client, plan.Target, error) {
	s.mu.Lock()
	r, ok := s.resolving[raw]
	if !ok {
		r = &resolution{done: make(chan struct{})}
		s.resolving[raw] = r
	}
	s.mu.Unlock()
	if ok {
		select {
		case <-r.done:
			return r.c, r.t, r.err
		case <-ctx.Done():
			return nil, plan.Target{}, ctx.Err()
		}
	}
	r.c, r.t, r.err = s.connect(ctx, raw)
	if r.err != nil {
		s.mu.Lock()
		delete(s.resolving, raw) // a later caller tries again
		s.mu.Unlock()
	}
	close(r.done)
	return r.c, r.t, r.err
}

// resolution is the client of one target as a manifest writes it, once
// connected.
type resolution struct {
	done chan struct{}
	c    *otc.Client
	t    plan.Target
	err  error
}

// connect makes the client of raw, or returns the client of the target it
// resolves to when there is one already.
func (s *Session) connect(ctx context.Context, raw plan.Target) (*otc.Client, plan.Target, error) {
	lim := apply.NewAIMD(s.cfg.Rate, s.cfg.Burst)
	c, err := s.provider.Client(ctx, raw.Region, raw.ProjectID, lim)
	if err != nil {
		return nil, plan.Target{}, err
	}
	t := plan.Target{Region: c.Region(), ProjectID: c.ProjectID()}
	s.mu.Lock()
	defer s.mu.Unlock()
	if old, ok := s.clients[t]; ok {
		return old, t, nil
	}
	if m := s.cfg.Metrics; m != nil {
		m.RateLimit.Add(lim.Rate())
		lim.OnChange = func(o, n float64) { m.RateLimit.Add(n - o) }
		lim.OnWait = func(d time.Duration) { m.RateLimitWait.Add(d.Seconds()) }
	}
	s.clients[t] = c
	return c, t, nil
}

// connectAll connects the targets raws concurrently, at most
// maxConnecting at a time, and returns what each resolves to.
func (s *Session) connectAll(ctx context.Context, raws []plan.Target) ([]plan.Target, error) {
	out := make([]plan.Target, len(raws))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(maxConnecting)
	for i, raw := range raws {
		g.Go(func() error {
			_, t, err := s.client(gctx, raw)
			out[i] = t
			return err
		})
	}
	return out, g.Wait()
}

// maxConnecting bounds the targets authenticated at once (IAM requests in
// flight).
const maxConnecting = 16

// apis returns the clients as apply wants them.
func (s *Session) apis() map[plan.Target]apply.API {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[plan.Target]apply.API, len(s.clients))
	for t, c := range s.clients {
		out[t] = c
	}
	return out
}

// Apply executes p through the session's clients (apply.Run); opts'
// Recorder defaults to the session's metrics, its Rate to the session's.
func (s *Session) Apply(ctx context.Context, p *plan.Plan, opts apply.Options) *apply.Report {
	if opts.Rate == 0 {
		opts.Rate = s.cfg.Rate
	}
	if opts.Recorder == nil && s.cfg.Metrics != nil {
		opts.Recorder = s.cfg.Metrics
	}
	if opts.Logger == nil {
		opts.Logger = s.log
	}
	return apply.New(s.apis(), opts).Run(ctx, p)
}

// Invalid reports whether err is one a rerun will not fix: a manifest
// problem, a plan file that is stale, edited or applied with other flags,
// or a configuration problem. The command line exits 3 for these.
func Invalid(err error) bool {
	var me *manifests.Error
	var ce *otc.ConfigError
	return errors.As(err, &me) || errors.As(err, &ce) ||
		errors.Is(err, plan.ErrStale) || errors.Is(err, plan.ErrNotOwned) || errors.Is(err, plan.ErrScope)
}
