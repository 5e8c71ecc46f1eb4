package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// clientFlags are the apply flags that shape the API client.
type clientFlags struct {
	concurrency    int
	rate           float64
	burst          int
	maxRetries     int
	requestTimeout time.Duration
}

func (f *clientFlags) defaults() {
	f.concurrency, f.rate, f.burst, f.maxRetries, f.requestTimeout = 16, 10, 5, 8, 30*time.Second
}

// register adds the flags plan and apply share (the listing of a large
// plan is paced and retried like apply's requests).
func (f *clientFlags) register(fs *pflag.FlagSet) {
	fs.Float64Var(&f.rate, "rate", f.rate, "requests per second per target, at most (the adaptive limiter's ceiling)")
	fs.IntVar(&f.burst, "burst", f.burst, "requests the limiter lets through at once")
	fs.IntVar(&f.maxRetries, "max-retries", f.maxRetries, "retries of one request (throttling, server and network errors)")
	fs.DurationVar(&f.requestTimeout, "request-timeout", f.requestTimeout, "timeout of one HTTP attempt")
}

func (f *clientFlags) check() error {
	if f.rate <= 0 || f.burst < 1 || f.maxRetries < 0 || f.requestTimeout <= 0 {
		return invalid(errors.New("--rate, --burst and --request-timeout must be positive, --max-retries not negative"))
	}
	return nil
}

// session is the connection to the API for one run: credentials, one
// client and one AIMD limiter per target.
type session struct {
	a        *app
	provider *otc.Provider
	flags    clientFlags
	metrics  *apply.Metrics

	mu       sync.Mutex
	clients  map[plan.Target]*otc.Client
	byRaw    map[plan.Target]plan.Target // manifest (region, project) as written -> resolved
	limiters []*apply.AIMD

	closeSim func()
}

// connect makes the session; with --sim it starts the in-process simulator
// first and points the credentials at it.
func (a *app) connect(ctx context.Context, cf clientFlags, m *apply.Metrics) (*session, error) {
	s := &session{a: a, flags: cf, metrics: m, clients: map[plan.Target]*otc.Client{}, byRaw: map[plan.Target]plan.Target{}}
	var creds otc.Credentials
	endpoint := a.endpoint
	if a.sim {
		// Sealed off: no real credentials are read, and every region's
		// VPCEP URL is the simulator.
		url, stop, err := a.startSim()
		if err != nil {
			return nil, err
		}
		s.closeSim = stop
		creds = otc.Credentials{AuthURL: url + "/v3", Username: sim.Username, Password: sim.Password,
			UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region}
		endpoint = url
	} else {
		var err error
		if creds, err = otc.CredentialsFromEnv(a.getenv, a.cloud); err != nil {
			return nil, invalid(err)
		}
	}
	if a.region != "" {
		creds.Region = a.region
	}
	if a.projectID != "" {
		creds.ProjectID = a.projectID
	}
	if a.cacert != "" {
		creds.TLS.CACert = a.cacert
	}
	creds.TLS.Insecure = creds.TLS.Insecure || a.insecure
	p, err := otc.NewProvider(otc.Options{
		Credentials:    creds,
		Endpoint:       endpoint,
		MaxRetries:     cf.maxRetries,
		RequestTimeout: cf.requestTimeout,
		Logger:         a.log,
		Observer:       m,
		Redactor:       a.redactor,
	})
	if err != nil {
		s.close()
		return nil, invalid(err)
	}
	s.provider = p
	return s, nil
}

func (s *session) close() {
	if s.closeSim != nil {
		s.closeSim()
		s.closeSim = nil
	}
}

// startSim serves the simulator on a loopback port with its state file.
func (a *app) startSim() (string, func(), error) {
	path := a.simState
	if path == "" {
		path = a.defaultSimState()
	}
	o, err := parseSimFaults(a.simFaults)
	if err != nil {
		return "", nil, invalid(err)
	}
	sm := sim.New(o)
	if err := sm.Load(path); err != nil {
		return "", nil, fmt.Errorf("--sim-state %s: %w", path, err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("simulator: %w", err)
	}
	srv := &http.Server{Handler: sm.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	a.log.Debug("simulator started", "addr", ln.Addr().String(), "state", path)
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Close()
		if err := sm.Save(path); err != nil {
			a.log.Error("simulator state not saved", "path", path, "err", err)
		}
	}, nil
}

// client returns the client of a target as written in a manifest ("" =
// default), authenticating once per project.
func (s *session) client(ctx context.Context, raw plan.Target) (*otc.Client, plan.Target, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if t, ok := s.byRaw[raw]; ok {
		return s.clients[t], t, nil
	}
	lim := apply.NewAIMD(s.flags.rate, s.flags.burst)
	c, err := s.provider.Client(ctx, raw.Region, raw.ProjectID, lim)
	if err != nil {
		return nil, plan.Target{}, err
	}
	t := plan.Target{Region: c.Region(), ProjectID: c.ProjectID()}
	if old, ok := s.clients[t]; ok {
		s.byRaw[raw] = t
		return old, t, nil
	}
	s.limiters = append(s.limiters, lim)
	if m := s.metrics; m != nil {
		m.RateLimit.Add(lim.Rate())
		lim.OnChange = func(o, n float64) { m.RateLimit.Add(n - o) }
		lim.OnWait = func(d time.Duration) { m.RateLimitWait.Add(d.Seconds()) }
	}
	s.clients[t], s.byRaw[raw] = c, t
	return c, t, nil
}

// apis returns the clients as apply wants them.
func (s *session) apis() map[plan.Target]apply.API {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make(map[plan.Target]apply.API, len(s.clients))
	for t, c := range s.clients {
		out[t] = c
	}
	return out
}

// observe lists, resolves services and reads the quota of every target the
// manifests name, concurrently.
func (s *session) observe(ctx context.Context, ms []*manifests.Manifest) ([]plan.Input, error) {
	byRaw := map[plan.Target][]*manifests.Endpoint{}
	setsByRaw := map[plan.Target][]string{} // sets declared, even with no endpoints (prune)
	for _, m := range ms {
		raw := plan.Target{Region: m.Region, ProjectID: m.ProjectID}
		byRaw[raw] = append(byRaw[raw], m.Endpoints...)
		setsByRaw[raw] = append(setsByRaw[raw], m.Set)
	}
	raws := slices.SortedFunc(maps.Keys(byRaw), func(a, b plan.Target) int { return strings.Compare(a.String(), b.String()) })
	// Resolve targets first (one token each), then merge raw targets that
	// resolve to the same (region, project).
	inputs := map[plan.Target]*plan.Input{}
	var order []plan.Target
	for _, raw := range raws {
		_, t, err := s.client(ctx, raw)
		if err != nil {
			return nil, err
		}
		in, ok := inputs[t]
		if !ok {
			in = &plan.Input{Target: t}
			inputs[t] = in
			order = append(order, t)
		}
		in.Desired = append(in.Desired, byRaw[raw]...)
		in.Sets = append(in.Sets, setsByRaw[raw]...)
	}
	// The same set declared twice for one target, now that the defaults
	// (region and project of the credentials) are known.
	for _, m := range ms {
		if m.Region != "" && m.ProjectID != "" {
			continue
		}
		_, def, err := s.client(ctx, plan.Target{})
		if err != nil {
			return nil, err
		}
		if err := manifests.CheckSets(ms, def.Region, def.ProjectID); err != nil {
			return nil, invalid(err)
		}
		break
	}
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range order {
		in := inputs[t]
		c := s.clients[t]
		g.Go(func() error { return s.observeTarget(gctx, c, in) })
	}
	if err := g.Wait(); err != nil {
		return nil, err
	}
	out := make([]plan.Input, 0, len(order))
	for _, t := range order {
		out = append(out, *inputs[t])
	}
	return out, nil
}

func (s *session) observeTarget(ctx context.Context, c *otc.Client, in *plan.Input) error {
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		// The quota first: it bounds the listing (a server whose pages do
		// not end cannot hold the run).
		q, err := c.EndpointQuota(gctx)
		switch {
		case err != nil && gctx.Err() != nil:
			return nil // another call failed first; that error is reported
		case err != nil:
			s.a.log.Warn("quota not read; the plan cannot check it", "target", in.Target.String(), "err", err)
		default:
			in.Quota = q
		}
		bound := 0
		if q != nil {
			bound = otc.ListBound(q.Quota)
		}
		eps, err := c.ListEndpoints(gctx, otc.ListOptions{MaxEndpoints: bound})
		if err != nil {
			return fmt.Errorf("%s: %w", in.Target, err)
		}
		in.Observed = eps
		return nil
	})
	// Services: once each, by id or name.
	refs := map[[2]string]bool{}
	for _, d := range in.Desired {
		refs[[2]string{d.EndpointServiceID, d.EndpointServiceName}] = true
	}
	var mu sync.Mutex
	in.Services = map[string]*vpcep.Service{}
	for ref := range refs {
		g.Go(func() error {
			svc, err := c.DescribeService(gctx, ref[0], ref[1])
			if otc.IsNotFound(err) || isBadService(err) {
				return nil // reported by plan.Diff with the manifest position
			}
			if otc.IsAuth(err) {
				return fmt.Errorf("%s: %w", in.Target, err)
			}
			if err != nil {
				return fmt.Errorf("%s: endpoint service %s: %w", in.Target, strings.Trim(ref[0]+ref[1], " "), err)
			}
			mu.Lock()
			defer mu.Unlock()
			for _, k := range ref {
				if k != "" {
					in.Services[k] = svc
				}
			}
			return nil
		})
	}
	return g.Wait()
}

func isBadService(err error) bool {
	var ae *otc.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusBadRequest && !ae.CodeIs(vpcep.CodeThrottled)
}

// makePlan loads nothing: it observes and diffs.
func (s *session) makePlan(ctx context.Context, ms []*manifests.Manifest, opts plan.Options) (*plan.Plan, []plan.Input, error) {
	inputs, err := s.observe(ctx, ms)
	if err != nil {
		return nil, nil, err
	}
	p, err := plan.Diff(inputs, opts)
	if err != nil {
		return nil, nil, invalid(err)
	}
	s.observeMetrics(inputs, ms, p)
	return p, inputs, nil
}

func (s *session) observeMetrics(inputs []plan.Input, ms []*manifests.Manifest, p *plan.Plan) {
	declared := map[string]bool{}
	for _, mf := range ms {
		declared[mf.Set] = true
	}
	s.observeCounts(inputs, declared, p)
	if s.metrics != nil {
		s.metrics.Endpoints.WithLabelValues("desired").Set(float64(manifests.Count(ms)))
	}
}

// observeCounts sets the planned changes and the observed and owned
// endpoint gauges (owned: carrying the tag of one of sets).
func (s *session) observeCounts(inputs []plan.Input, sets map[string]bool, p *plan.Plan) {
	m := s.metrics
	if m == nil {
		return
	}
	m.ObservePlan(p)
	var observed, owned int
	for _, in := range inputs {
		observed += len(in.Observed)
		for i := range in.Observed {
			if set, ok := in.Observed[i].TagValue(manifests.TagSet); ok && sets[set] {
				owned++
			}
		}
	}
	m.Endpoints.WithLabelValues("observed").Set(float64(observed))
	m.Endpoints.WithLabelValues("owned").Set(float64(owned))
}
