package main

import (
	"context"
	"errors"
	"time"

	"github.com/spf13/pflag"

	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/reconcile"
	"github.com/vpcepctl/vpcepctl/sim"
)

// clientFlags are the flags that shape the API client (plan and apply
// share them: the listing of a large plan is paced and retried like
// apply's requests).
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

// open opens the session of a run: credentials from the environment (or,
// with --sim, an in-process simulator, sealed off from real credentials),
// overridden by --region, --project-id, --cacert and --insecure. close
// ends the session (and saves the simulator's state).
func (a *app) open(ctx context.Context, cf clientFlags, m *metrics.Metrics) (s *reconcile.Session, close func(), err error) {
	var creds otc.Credentials
	endpoint, close := a.endpoint, func() {}
	if a.sim {
		url, stop, err := a.startSim()
		if err != nil {
			return nil, nil, err
		}
		close = stop
		creds = otc.Credentials{AuthURL: url + "/v3", Username: sim.Username, Password: sim.Password,
			UserDomainName: sim.DomainName, ProjectID: sim.ProjectID, Region: sim.Region}
		endpoint = url
	} else if creds, err = otc.CredentialsFromEnv(a.getenv, a.cloud); err != nil {
		return nil, nil, invalid(err)
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
	s, err = reconcile.Open(reconcile.Config{
		Credentials: creds, Endpoint: endpoint,
		Rate: cf.rate, Burst: cf.burst, MaxRetries: cf.maxRetries, RequestTimeout: cf.requestTimeout,
		Logger: a.log, Metrics: m, Redactor: a.redactor,
	})
	if err != nil {
		close()
		return nil, nil, invalid(err)
	}
	return s, close, nil
}
