package sim

import (
	"encoding/hex"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file is the HTTP front: routing, authentication, and the faults that
// act before (latency, throttling, server errors) and after (lost responses)
// a handler. Handlers return a response value and never write themselves,
// so a lost response can be decided after the change was committed.

// maxBody bounds request bodies; the real gateway accepts up to 12 MB for
// AK/SK requests, but no VPCEP body comes near 1 MiB.
const maxBody = 1 << 20

type response struct {
	status int
	body   any // nil: no body
	header http.Header
}

func jsonResponse(status int, body any) response { return response{status: status, body: body} }

func apiError(status int, code, msg string) response {
	return response{status: status, body: vpcep.ErrorBody{ErrorCode: code, ErrorMsg: msg}}
}

// route is a matched request path.
type route struct {
	name  string // metric and Requests label
	pid   string
	id    string
	rtype string // resource type of the tag routes
}

func match(method, path string) route {
	parts := strings.Split(strings.TrimPrefix(path, "/"), "/")
	for _, p := range parts {
		if p == "" {
			return route{name: "unknown"}
		}
	}
	n := len(parts)
	if n == 3 && parts[0] == "v3" && parts[1] == "auth" && parts[2] == "tokens" && method == http.MethodPost {
		return route{name: "token"}
	}
	if n < 3 || parts[0] != "v1" {
		return route{name: "unknown"}
	}
	rt := route{pid: parts[1]}
	switch {
	case n == 3 && parts[2] == "vpc-endpoints" && method == http.MethodPost:
		rt.name = "create"
	case n == 3 && parts[2] == "vpc-endpoints" && method == http.MethodGet:
		rt.name = "list"
	case n == 4 && parts[2] == "vpc-endpoints" && method == http.MethodGet:
		rt.name, rt.id = "get", parts[3]
	case n == 4 && parts[2] == "vpc-endpoints" && method == http.MethodDelete:
		rt.name, rt.id = "delete", parts[3]
	case n == 6 && parts[4] == "tags" && parts[5] == "action" && method == http.MethodPost:
		rt.name, rt.rtype, rt.id = "tags", parts[2], parts[3]
	case n == 5 && parts[3] == "resource_instances" && parts[4] == "action" && method == http.MethodPost:
		rt.name, rt.rtype = "tag_filter", parts[2]
	case n == 4 && parts[2] == "vpc-endpoint-services" && parts[3] == "describe" && method == http.MethodGet:
		rt.name = "service"
	case n == 4 && parts[2] == "vpc-endpoint-services" && parts[3] == "public" && method == http.MethodGet:
		rt.name = "public_services"
	case n == 3 && parts[2] == "quotas" && method == http.MethodGet:
		rt.name = "quota"
	case n == 4 && parts[2] == "vpc-endpoint-services" && method == http.MethodGet:
		rt.name, rt.id = "service_details", parts[3]
	case n == 5 && parts[2] == "vpc-endpoint-services" && parts[4] == "connections" && method == http.MethodGet:
		rt.name, rt.id = "connections", parts[3]
	case n == 6 && parts[2] == "vpc-endpoint-services" && parts[4] == "connections" && parts[5] == "action" && method == http.MethodPost:
		rt.name, rt.id = "connection_action", parts[3]
	default:
		return route{name: "unknown"}
	}
	return rt
}

func (s *Sim) newHandler() http.Handler {
	metricsHandler := promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{})
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/metrics" {
			metricsHandler.ServeHTTP(w, r)
			return
		}
		s.serve(w, r)
	})
}

func (s *Sim) serve(w http.ResponseWriter, r *http.Request) {
	rt := match(r.Method, r.URL.Path)
	s.mu.Lock()
	s.requests[rt.name+" "+r.Method]++
	s.mu.Unlock()

	// Read the body first: the server notices a client that goes away only
	// once the body is read, and the latency wait below should see it.
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	opts := s.opts.Load()
	d := opts.Latency
	if rt.name == "token" {
		d += opts.IAMLatency
	}
	if d > 0 {
		t := time.NewTimer(d)
		select {
		case <-t.C:
		case <-r.Context().Done():
			t.Stop()
			s.metrics.requests.WithLabelValues(rt.name, "canceled").Inc()
			return
		}
	}

	var resp response
	lost := false
	switch {
	case err != nil:
		resp = apiError(http.StatusBadRequest, "EndPoint.1004", "Invalid request.")
	case rt.name == "token":
		resp = s.issueToken(r, body)
	case rt.name == "unknown":
		resp = apiError(http.StatusNotFound, "APIGW.0101", "The API does not exist or has not been published in the environment")
	default:
		resp, lost = s.serveVPCEP(rt, r, body)
	}
	if lost {
		s.metrics.lost.Inc()
		s.metrics.requests.WithLabelValues(rt.name, "lost").Inc()
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler) // closes the connection without an answer
	}
	s.write(w, resp)
	s.metrics.requests.WithLabelValues(rt.name, strconv.Itoa(resp.status)).Inc()
}

func (s *Sim) write(w http.ResponseWriter, resp response) {
	h := w.Header()
	for k, vs := range resp.header {
		h[k] = vs
	}
	h.Set("X-Request-Id", requestID())
	if resp.body == nil {
		w.WriteHeader(resp.status)
		return
	}
	b, err := json.Marshal(resp.body)
	if err != nil {
		resp.status = http.StatusInternalServerError
		b, _ = json.Marshal(vpcep.ErrorBody{ErrorCode: "EndPoint.0001", ErrorMsg: "System error. Please retry."})
	}
	h.Set("Content-Type", "application/json;charset=UTF-8")
	h.Set("Content-Length", strconv.Itoa(len(b)))
	w.WriteHeader(resp.status)
	w.Write(b)
}

// serveVPCEP authenticates, applies the faults and runs the handler of a
// VPCEP route. lost reports that the response must be dropped.
func (s *Sim) serveVPCEP(rt route, r *http.Request, body []byte) (resp response, lost bool) {
	if !isProjectID(rt.pid) {
		return apiError(http.StatusBadRequest, "EndPoint.0014", "Invalid project ID."), false
	}
	if e := s.authenticate(r, body, rt.pid); e != nil {
		return *e, false
	}
	if e := s.throttle(rt.pid); e != nil {
		return *e, false
	}
	opts := s.opts.Load()
	if s.roll(opts.FailRate) {
		return apiError(http.StatusInternalServerError, "EndPoint.0001", "System error. Please retry."), false
	}
	q := r.URL.Query()
	if rt.name == "create" && opts.CommitDelay > 0 {
		// A late commit is decided before the handler runs: the back end
		// takes the create, the gateway gives up on it.
		if delay, ok := s.lateCommit(opts); ok {
			if resp = s.create(rt.pid, body, delay); resp.status != http.StatusAccepted {
				return resp, false // refused at once (bad body): answered
			}
			return s.lostAnswer()
		}
	}
	switch rt.name {
	case "create":
		resp = s.create(rt.pid, body, 0)
	case "list":
		resp = s.list(rt.pid, q)
	case "get":
		resp = s.get(rt.pid, rt.id)
	case "delete":
		resp = s.delete(rt.pid, rt.id)
	case "tags":
		resp = s.tagAction(rt.pid, rt.rtype, rt.id, body)
	case "tag_filter":
		resp = s.tagFilter(rt.pid, rt.rtype, body)
	case "service":
		resp = s.describeService(q)
	case "public_services":
		resp = s.publicServices(q)
	case "quota":
		resp = s.quota(rt.pid, q)
	case "service_details":
		resp = s.serviceDetails(rt.pid, rt.id)
	case "connections":
		resp = s.connections(rt.pid, rt.id, q)
	case "connection_action":
		resp = s.connectionAction(rt.pid, rt.id, body)
	}
	if (rt.name == "create" || rt.name == "delete" || rt.name == "connection_action") && resp.status/100 == 2 && s.roll(opts.LostRate) {
		return s.lostAnswer()
	}
	return resp, false
}

// lateCommit decides whether a create is lost and commits late, and how
// late: a uniform delay in (0, CommitDelay].
func (s *Sim) lateCommit(opts *Options) (time.Duration, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.chance(opts.LostRate) {
		return 0, false
	}
	return time.Duration(s.rng.Int64N(int64(opts.CommitDelay))) + 1, true
}

// lostAnswer is the answer to a change that took effect (or will): the
// connection closed without a word, or the gateway's 504 EndPoint.0013.
func (s *Sim) lostAnswer() (response, bool) {
	if s.roll(0.5) {
		return response{}, true
	}
	s.metrics.lost.Inc()
	return apiError(http.StatusGatewayTimeout, "EndPoint.0013", "The request timed out."), false
}

// authenticate accepts a valid token for the project or an AK/SK signature.
func (s *Sim) authenticate(r *http.Request, body []byte, pid string) *response {
	if tok := r.Header.Get("X-Auth-Token"); tok != "" {
		return s.checkToken(tok, pid)
	}
	if strings.HasPrefix(r.Header.Get("Authorization"), signAlgorithm+" ") {
		if err := verifySignature(r, body, s.now()); err != nil {
			resp := apiError(http.StatusUnauthorized, "EndPoint.0003", "Authentication failed or authentication information is invalid.")
			return &resp
		}
		if _, ok := s.names[pid]; !ok {
			resp := apiError(http.StatusForbidden, "EndPoint.0004", "Authentication information is incorrect or you have no permissions.")
			return &resp
		}
		return nil
	}
	resp := apiError(http.StatusUnauthorized, "EndPoint.0003", "Authentication failed or authentication information is invalid.")
	return &resp
}

type limiterState struct {
	rps float64
	lim *rate.Limiter
}

// throttle takes a token from the project's bucket; over the limit it
// answers in one of the two shapes clients see.
func (s *Sim) throttle(pid string) *response {
	rps := s.opts.Load().ThrottleRPS
	if rps <= 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	l := s.limiters[pid]
	if l == nil || l.rps != rps {
		burst := max(1, int(rps/10))
		l = &limiterState{rps: rps, lim: rate.NewLimiter(rate.Limit(rps), burst)}
		s.limiters[pid] = l
	}
	if l.lim.Allow() {
		return nil
	}
	s.metrics.throttled.Inc()
	var resp response
	if s.chance(0.5) {
		resp = apiError(http.StatusTooManyRequests, "APIGW.0308",
			"The throttling threshold has been reached: policy user over ratelimit, limit:"+strconv.FormatFloat(rps, 'f', -1, 64)+", time:1 second")
		resp.header = http.Header{"Retry-After": {"1"}}
	} else {
		resp = apiError(http.StatusBadRequest, "EndPoint.0022", "The number of requests exceeded the limit. Please try later.")
	}
	return &resp
}

func isProjectID(s string) bool {
	if len(s) != 32 {
		return false
	}
	_, err := hex.DecodeString(s)
	return err == nil && strings.ToLower(s) == s
}

func requestID() string {
	var b [16]byte
	for i := 0; i < 16; i += 8 {
		v := rand.Uint64()
		for j := 0; j < 8; j++ {
			b[i+j] = byte(v >> (8 * j))
		}
	}
	return hex.EncodeToString(b[:])
}
