package sim

import (
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Identity of the simulated cloud: one account (domain) with one IAM user
// and two projects in region eu-de.
const (
	Region      = "eu-de"
	DomainName  = "OTC-EU-DE-00000000001000000001"
	DomainID    = "5f2a9c3e8b7d4e1fa06c2b9d8e7f6a51"
	Username    = "vpcepctl"
	UserID      = "a3c1e9d27b4f4c8e9d0a1b2c3d4e5f60"
	Password    = "sim-password"
	AccessKey   = "SIMACCESSKEY0000000"
	SecretKey   = "sim-secret-key"
	ProjectID   = "0df25bbc87a24b1f9c1d2e3f4a5b6c7d"
	ProjectName = "eu-de_vpcepctl"
	// ProjectID2 and ProjectName2 name a second project of the same
	// account, for multi-project runs.
	ProjectID2   = "6e9dfd51d1124e8d8498dce894923a0d"
	ProjectName2 = "eu-de_vpcepctl2"
)

// Seeded endpoint services. Every project sees all of them.
const (
	// ServiceInterfaceID is a private interface service that needs no
	// approval: its endpoints go creating -> accepted.
	ServiceInterfaceID   = "2da0fe8f-5cb7-4d93-bb35-dc05334da1be"
	ServiceInterfaceName = "eu-de.payments-api.2da0fe8f-5cb7-4d93-bb35-dc05334da1be"
	// ServiceApprovalID is a private interface service that needs approval,
	// owned by ProjectID2: its endpoints go creating -> pendingAcceptance
	// until that project accepts them (or SetStatus does).
	ServiceApprovalID   = "5133655d-0e28-4090-b669-13f87b355c78"
	ServiceApprovalName = "eu-de.ledger-api.5133655d-0e28-4090-b669-13f87b355c78"
	// ServiceOwnApprovalID is a private interface service that needs
	// approval, owned by ProjectID itself: a run there can accept its
	// endpoints (--approve).
	ServiceOwnApprovalID   = "7c0e4b1a-3f52-4d8e-9a61-2b7d5e4c3a19"
	ServiceOwnApprovalName = "eu-de.audit-api.7c0e4b1a-3f52-4d8e-9a61-2b7d5e4c3a19"
	// ServiceOBSID is the public OBS gateway service.
	ServiceOBSID   = "e4a21a61-f09e-41bc-b487-23d6204ae27b"
	ServiceOBSName = "com.t-systems.otc.eu-de.obs"
	// ServiceDNSID is a public interface service without approval.
	ServiceDNSID   = "b0e22f6f-26f4-461c-b140-d873464d4fa0"
	ServiceDNSName = "com.t-systems.otc.eu-de.dns"
)

// TieOrder values.
const (
	TieStable = "stable"
	TieRandom = "random"
)

// DefaultQuota is the number of endpoints a project may hold when
// Options.Quota is 0, as in the real cloud.
const DefaultQuota = 50

// Options are the simulator's knobs and faults. The zero value is a
// well-behaved cloud that settles endpoints at once.
type Options struct {
	// Latency is added to every response.
	Latency time.Duration
	// IAMLatency is added to every token response, on top of Latency.
	IAMLatency time.Duration
	// Projects adds projects to the two of every simulator, with the ids
	// and names ExtraProjectID(i) and ExtraProjectName(i), i < Projects.
	// It is read by New only.
	Projects int
	// AcceptAfter is how long an endpoint stays creating before it settles
	// (accepted, pendingAcceptance or failed), and how long a deleted one
	// stays deleting before it is gone.
	AcceptAfter time.Duration
	// Quota is the number of endpoints per project; 0 means DefaultQuota.
	Quota int
	// ThrottleRPS is a server-side rate limit per project (token bucket,
	// burst max(1, rps/10)); 0 turns it off. A request over the limit is
	// answered, chosen by the seeded generator, either 429 with Retry-After: 1
	// (the API gateway's APIGW.0308) or 400 EndPoint.0022: both reach clients.
	ThrottleRPS float64
	// FailRate is the share of VPCEP requests answered 500 EndPoint.0001
	// without effect.
	FailRate float64
	// LostRate is the share of creates, deletes and connection accepts (or
	// rejects) that take effect and then lose their response: the
	// connection is closed without an answer, or 504 EndPoint.0013 is
	// returned.
	LostRate float64
	// CommitDelay makes a lost create commit late, as a slow backend does
	// after the gateway gave up on it (504 EndPoint.0013): the endpoint
	// appears a random time of up to CommitDelay after the lost answer,
	// with that time as its created_at. 0 commits lost creates at once.
	CommitDelay time.Duration
	// TieOrder is the order of endpoints that share a created_at second in
	// a list answer: TieStable (insertion order, the default) or TieRandom
	// (a fresh order on every list request, as a database without a
	// tie-breaker returns them). created_at has one-second resolution.
	TieOrder string
	// GetLag is how long GET answers 404 for an endpoint after its create
	// was committed (a read replica that lags behind); lists are not
	// affected. 0 is read-after-write consistent.
	GetLag time.Duration
	// FailedRate is the share of created endpoints that settle in status
	// failed, with an entry in their error list.
	FailedRate float64
	// Seed seeds every random decision (faults, shapes); the same seed and
	// the same sequence of requests give the same answers.
	Seed int64
	// TokenTTL is the lifetime of IAM tokens; 0 means 24h.
	TokenTTL time.Duration
	// Now is the clock for timestamps, status changes, token expiry and the
	// AK/SK date check; nil means time.Now. Latency and throttling use the
	// wall clock.
	Now func() time.Time
	// StringBools sends enable_dns and enable_whitelist as the strings
	// "true"/"false", as older responses did.
	StringBools bool
	// PlainShapes renders every endpoint in the current documented shape.
	// Otherwise about one endpoint in four (chosen from Seed and its id) is
	// rendered as older responses were: timestamps without zone and with
	// milliseconds, update_at instead of updated_at, active_status as a
	// string.
	PlainShapes bool
}

// Sim is the simulator. Its methods are safe for concurrent use.
type Sim struct {
	opts  atomic.Pointer[Options]
	names map[string]string // project id -> name; set by New, read-only after

	mu       sync.Mutex // guards everything below
	projects map[string]*project
	events   eventQueue
	seq      int64 // insertion order, breaks created_at ties
	marker   int64 // last marker_id handed out
	tokens   map[string]token
	rng      *rand.Rand
	rngSeed  int64
	limiters map[string]*limiterState
	requests map[string]int // "route method" -> count

	metrics *metrics
	handler http.Handler
}

// New returns a simulator with the seeded services, both projects and no
// endpoints.
func New(o Options) *Sim {
	s := &Sim{
		projects: make(map[string]*project),
		tokens:   make(map[string]token),
		limiters: make(map[string]*limiterState),
		requests: make(map[string]int),
		marker:   markerBase,
	}
	s.names = map[string]string{ProjectID: ProjectName, ProjectID2: ProjectName2}
	for i := range o.Projects {
		s.names[ExtraProjectID(i)] = ExtraProjectName(i)
	}
	for pid := range s.names {
		s.projects[pid] = newProject(pid)
	}
	s.SetOptions(o)
	s.metrics = newMetrics(s)
	s.handler = s.newHandler()
	return s
}

// SetOptions replaces the options; requests already running finish with the
// old ones. A new Seed reseeds the generator.
func (s *Sim) SetOptions(o Options) {
	cp := o
	s.opts.Store(&cp)
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.rng == nil || o.Seed != s.rngSeed {
		s.rng = rand.New(rand.NewPCG(uint64(o.Seed), 0x5eed_5eed_5eed_5eed))
		s.rngSeed = o.Seed
	}
}

// Options returns the options in effect.
func (s *Sim) Options() Options { return *s.opts.Load() }

// Handler returns the HTTP handler for IAM (/v3/auth/tokens), VPCEP
// (/v1/...) and /metrics.
func (s *Sim) Handler() http.Handler { return s.handler }

// Registry returns the simulator's own Prometheus registry, the one /metrics
// serves.
func (s *Sim) Registry() *prometheus.Registry { return s.metrics.reg }

// Requests returns how many requests the simulator has seen for a route
// ("create", "list", "get", "delete", "tags", "tag_filter", "service",
// "public_services", "quota", "token", "unknown") and method; an empty
// method counts every method. Faulted, throttled and rejected requests count.
func (s *Sim) Requests(route, method string) int {
	s.mu.Lock()
	defer s.mu.Unlock()
	if method != "" {
		return s.requests[route+" "+method]
	}
	n := 0
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodDelete, http.MethodPatch, http.MethodHead, http.MethodOptions} {
		n += s.requests[route+" "+m]
	}
	return n
}

// ResetRequests sets every request count to zero.
func (s *Sim) ResetRequests() {
	s.mu.Lock()
	defer s.mu.Unlock()
	clear(s.requests)
}

// Env returns the OS_* variables that reach a simulator served at baseURL
// (scheme and host, no path) with password authentication.
func Env(baseURL string) []string {
	return []string{
		"OS_AUTH_URL=" + baseURL + "/v3",
		"OS_USERNAME=" + Username,
		"OS_PASSWORD=" + Password,
		"OS_USER_DOMAIN_NAME=" + DomainName,
		"OS_PROJECT_ID=" + ProjectID,
		"OS_REGION_NAME=" + Region,
	}
}

// EnvAKSK returns the variables that reach a simulator served at baseURL
// with AK/SK request signing: OS_ACCESS_KEY, OS_SECRET_KEY, OS_PROJECT_ID,
// OS_REGION_NAME, and VPCEPCTL_ENDPOINT (there is no token catalog to find
// the VPCEP URL in).
func EnvAKSK(baseURL string) []string {
	return []string{
		"OS_ACCESS_KEY=" + AccessKey,
		"OS_SECRET_KEY=" + SecretKey,
		"OS_PROJECT_ID=" + ProjectID,
		"OS_REGION_NAME=" + Region,
		"VPCEPCTL_ENDPOINT=" + baseURL,
	}
}

func (s *Sim) now() time.Time {
	if f := s.opts.Load().Now; f != nil {
		return f().UTC()
	}
	return time.Now().UTC()
}

// chance reports whether an event of probability p happens. Callers hold mu.
func (s *Sim) chance(p float64) bool {
	if p <= 0 {
		return false
	}
	return s.rng.Float64() < p
}

// roll is chance for callers that do not hold mu.
func (s *Sim) roll(p float64) bool {
	if p <= 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.chance(p)
}
