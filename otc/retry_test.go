package otc_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// step is one scripted answer: an HTTP answer (status 0: the operation's
// success), or a connection failure.
type step struct {
	status int
	header http.Header
	body   string
	hangUp bool // close the connection after reading the request
	hang   bool // answer nothing until the client gives up
}

var (
	okStep       = step{}
	st429        = step{status: 429, header: http.Header{"Retry-After": {"0"}}, body: `{"error_code":"APIGW.0308","error_msg":"The throttling threshold has been reached"}`}
	st400Throt   = step{status: 400, body: `{"error_code":"EndPoint.0022","error_msg":"The number of requests exceeded the limit. Please try later."}`}
	st500        = step{status: 500, body: `{"error_code":"EndPoint.0001","error_msg":"System error. Please retry."}`}
	st502        = step{status: 502, body: `<html>Bad Gateway</html>`}
	st503        = step{status: 503}
	st504        = step{status: 504, body: `{"error_code":"EndPoint.0013","error_msg":"The request timed out."}`}
	st400        = step{status: 400, body: `{"error_code":"EndPoint.0002","error_msg":"Parameter error."}`}
	st403        = step{status: 403, body: `{"error_code":"EndPoint.0004","error_msg":"Authentication information is incorrect or you have no permissions."}`}
	st404        = step{status: 404, body: `{"error_code":"EndPoint.2006","error_msg":"The requested endpoint does not exist."}`}
	stReset      = step{hangUp: true}
	stTimeout    = step{hang: true}
	successBodys = map[string]step{
		otc.OpGet:    {status: 200, body: `{"id":"e1","status":"accepted"}`},
		otc.OpList:   {status: 200, body: `{"endpoints":[{"id":"e1"}],"total_count":1}`},
		otc.OpDelete: {status: 204},
		otc.OpCreate: {status: 200, body: `{"id":"e1","status":"creating"}`},
		otc.OpTag:    {status: 204},
	}
)

// script answers with its steps in order, repeating the last.
type script struct {
	op    string
	steps []step
	n     atomic.Int64
}

func (s *script) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	i := int(s.n.Add(1)) - 1
	st := s.steps[min(i, len(s.steps)-1)]
	switch {
	case st.hangUp:
		hangUp(w, r)
		return
	case st.hang:
		hang(w, r)
		return
	case st.status == 0:
		st = successBodys[s.op]
	}
	for k, v := range st.header {
		w.Header()[k] = v
	}
	w.WriteHeader(st.status)
	w.Write([]byte(st.body))
}

// call runs op once; attempts is what CreateEndpoint reports (0 for other
// operations).
func call(ctx context.Context, c *otc.Client, op string) (attempts int, err error) {
	switch op {
	case otc.OpGet:
		_, err = c.GetEndpoint(ctx, "e1")
	case otc.OpList:
		_, err = c.ListEndpoints(ctx, otc.ListOptions{})
	case otc.OpDelete:
		_, err = c.DeleteEndpoint(ctx, "e1")
	case otc.OpTag:
		_, err = c.TagAction(ctx, "e1", "create", []vpcep.Tag{{Key: "k", Value: "v"}})
	case otc.OpCreate:
		_, attempts, err = c.CreateEndpoint(ctx, &vpcep.CreateEndpointRequest{EndpointServiceID: "s", VPCID: "v"})
	}
	return attempts, err
}

// TestClassification drives every operation through every kind of failure
// and counts the requests the server saw: idempotent calls are retried
// (MaxRetries 3: four requests) on throttling, server errors and lost
// answers; a create is retried only when throttled, and never resent once
// it may have reached the API.
func TestClassification(t *testing.T) {
	const attempts = 4 // MaxRetries 3
	type outcome struct {
		requests int
		class    otc.Class
		ok       bool
	}
	tests := []struct {
		name   string
		steps  []step
		idem   outcome // get, list, delete, tag
		create outcome
	}{
		{"429", []step{st429}, outcome{attempts, otc.Throttled, false}, outcome{attempts, otc.Throttled, false}},
		{"400 EndPoint.0022", []step{st400Throt}, outcome{attempts, otc.Throttled, false}, outcome{attempts, otc.Throttled, false}},
		{"500 EndPoint.0001", []step{st500}, outcome{attempts, otc.ServerError, false}, outcome{1, otc.Ambiguous, false}},
		{"502", []step{st502}, outcome{attempts, otc.ServerError, false}, outcome{1, otc.Ambiguous, false}},
		{"503", []step{st503}, outcome{attempts, otc.ServerError, false}, outcome{1, otc.Ambiguous, false}},
		{"504 EndPoint.0013", []step{st504}, outcome{attempts, otc.ServerError, false}, outcome{1, otc.Ambiguous, false}},
		{"400 EndPoint.0002", []step{st400}, outcome{1, otc.Permanent, false}, outcome{1, otc.Permanent, false}},
		{"403", []step{st403}, outcome{1, otc.Permanent, false}, outcome{1, otc.Permanent, false}},
		{"404", []step{st404}, outcome{1, otc.Permanent, false}, outcome{1, otc.Permanent, false}},
		{"connection closed after the request was sent", []step{stReset}, outcome{attempts, otc.ServerError, false}, outcome{1, otc.Ambiguous, false}},
		{"timeout after the request was sent", []step{stTimeout}, outcome{attempts, otc.ServerError, false}, outcome{1, otc.Ambiguous, false}},
		{"throttled, then success", []step{st429, st400Throt, okStep}, outcome{3, 0, true}, outcome{3, 0, true}},
		{"503, then success", []step{st503, okStep}, outcome{2, 0, true}, outcome{1, otc.Ambiguous, false}},
		{"connection closed, then success", []step{stReset, okStep}, outcome{2, 0, true}, outcome{1, otc.Ambiguous, false}},
	}
	for _, tt := range tests {
		for _, op := range []string{otc.OpGet, otc.OpList, otc.OpDelete, otc.OpTag, otc.OpCreate} {
			t.Run(tt.name+"/"+op, func(t *testing.T) {
				want := tt.idem
				if op == otc.OpCreate {
					want = tt.create
				}
				s := &script{op: op, steps: tt.steps}
				c, _ := tokenClient(t, s, func(o *otc.Options) { o.RequestTimeout = 200 * time.Millisecond })
				n, err := call(t.Context(), c, op)
				if got := int(s.n.Load()); got != want.requests {
					t.Errorf("server saw %d requests, want %d (err %v)", got, want.requests, err)
				}
				if want.ok {
					if err != nil {
						t.Fatalf("error = %v, want success", err)
					}
				} else {
					if err == nil {
						t.Fatal("succeeded, want an error")
					}
					if got := otc.Classify(err); got != want.class {
						t.Errorf("Classify(%v) = %v, want %v", err, got, want.class)
					}
					if got := otc.IsAmbiguous(err); got != (want.class == otc.Ambiguous) {
						t.Errorf("IsAmbiguous(%v) = %v", err, got)
					}
					if !strings.HasPrefix(err.Error(), op+": ") {
						t.Errorf("error %q does not start with the operation", err)
					}
					// The server may be named (scheme and host), the
					// request URL never (its path and query).
					if strings.Contains(err.Error(), "/v1/") || strings.Contains(err.Error(), "limit=") {
						t.Errorf("error %q carries the request URL", err)
					}
				}
				if op == otc.OpCreate && n != want.requests {
					t.Errorf("CreateEndpoint attempts = %d, want %d", n, want.requests)
				}
			})
		}
	}
}

// TestRetryAfterCapped: a Retry-After of an hour is capped at RetryWaitMax.
func TestRetryAfterCapped(t *testing.T) {
	s := &script{op: otc.OpGet, steps: []step{{status: 429, header: http.Header{"Retry-After": {"3600"}}}, okStep}}
	c, _ := tokenClient(t, s, func(o *otc.Options) { o.RetryWaitMax = 20 * time.Millisecond })
	start := time.Now()
	if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("took %v: Retry-After not capped", d)
	}
	want(t, "requests", int(s.n.Load()), 2)
}

func TestBackoff(t *testing.T) {
	header := func(v string) *http.Response {
		return &http.Response{Header: http.Header{"Retry-After": {v}}}
	}
	date := time.Now().Add(90 * time.Second).UTC().Format(http.TimeFormat)
	tests := []struct {
		name     string
		min, max time.Duration
		n        int
		resp     *http.Response
		lo, hi   time.Duration
	}{
		{"Retry-After seconds honoured", time.Millisecond, time.Minute, 0, header("2"), 2 * time.Second, 2 * time.Second},
		{"Retry-After seconds capped", time.Millisecond, 10 * time.Millisecond, 0, header("3600"), 10 * time.Millisecond, 10 * time.Millisecond},
		{"Retry-After date honoured", time.Millisecond, 5 * time.Minute, 0, header(date), 80 * time.Second, 91 * time.Second},
		{"Retry-After date capped", time.Millisecond, time.Second, 0, header(date), time.Second, time.Second},
		{"Retry-After garbage ignored", 10 * time.Millisecond, time.Second, 0, header("soon"), 0, 10 * time.Millisecond},
		{"full jitter, first retry", 10 * time.Millisecond, time.Second, 0, nil, 0, 10 * time.Millisecond},
		{"full jitter grows", 10 * time.Millisecond, time.Second, 3, nil, 0, 80 * time.Millisecond},
		{"full jitter capped", 10 * time.Millisecond, 50 * time.Millisecond, 30, nil, 0, 50 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for range 50 {
				d := otc.Backoff(tt.min, tt.max, tt.n, tt.resp)
				if d < tt.lo || d > tt.hi {
					t.Fatalf("Backoff(%v, %v, %d) = %v, want in [%v, %v]", tt.min, tt.max, tt.n, d, tt.lo, tt.hi)
				}
			}
		})
	}
}

// pacer counts Wait and Observe calls.
type pacer struct {
	mu                   sync.Mutex
	waits, throttled, ok int
	observed             []otc.Ticket
}

func (p *pacer) Wait(context.Context) (otc.Ticket, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.waits++
	return otc.Ticket(p.waits), nil
}

func (p *pacer) Observe(t otc.Ticket, throttled bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.observed = append(p.observed, t)
	if throttled {
		p.throttled++
	} else {
		p.ok++
	}
}

// TestPacerAndObserver: every attempt is paced and counted; throttling is
// reported to the pacer; retries are counted with their reason.
func TestPacerAndObserver(t *testing.T) {
	// The reset comes first: on a reused connection net/http itself resends
	// an idempotent GET once, which would hide it from the client.
	s := &script{op: otc.OpGet, steps: []step{stReset, st429, st400Throt, st503, okStep}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	rec := newRecorder()
	opts := fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, srv.URL)
	opts.Observer, opts.MaxRetries = rec, 8
	p, err := otc.NewProvider(opts)
	if err != nil {
		t.Fatal(err)
	}
	pc := &pacer{}
	c, err := p.Client(t.Context(), "", "", pc)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	want(t, "Wait calls", pc.waits, 5)
	want(t, "Observe(true) calls", pc.throttled, 2)
	want(t, "Observe(false) calls", pc.ok, 2) // the 503 and the 200; the reset has no answer
	// Each answer carries the ticket of its own attempt: the reset was the
	// first, so the answers are to attempts 2 to 5.
	if got := fmt.Sprint(pc.observed); got != "[2 3 4 5]" {
		t.Errorf("tickets observed = %s, want [2 3 4 5]", got)
	}
	want(t, "retries throttled", rec.count(rec.retries, "get throttled"), 2)
	want(t, "retries server_error", rec.count(rec.retries, "get server_error"), 1)
	want(t, "retries network", rec.count(rec.retries, "get network"), 1)
	want(t, "requests 429", rec.count(rec.requests, "get 429"), 1)
	want(t, "requests 400", rec.count(rec.requests, "get 400"), 1)
	want(t, "requests error", rec.count(rec.requests, "get error"), 1)
	want(t, "requests 200", rec.count(rec.requests, "get 200"), 1)
	want(t, "in flight at the end", rec.inflight.Load(), int64(0))
}

// TestBodyLimit: answers over the size limit are errors that name the
// operation and status, never retried, ambiguous for a create.
func TestBodyLimit(t *testing.T) {
	defer otc.SetMaxBody(1024)()
	big := `{"id":"e1","description":"` + strings.Repeat("x", 2000) + `"}`
	exact := `{"id":"e1","description":"` + strings.Repeat("x", 1024-len(`{"id":"e1","description":""}`)) + `"}`
	tests := []struct {
		name      string
		op        string
		status    int
		body      string
		wantClass otc.Class
		ok        bool
	}{
		{"get at the limit", otc.OpGet, 200, exact, 0, true},
		{"get over the limit", otc.OpGet, 200, big, otc.Permanent, false},
		{"list over the limit", otc.OpList, 200, `{"endpoints":[` + big + `]}`, otc.Permanent, false},
		{"create over the limit", otc.OpCreate, 200, big, otc.Ambiguous, false},
		{"error over the limit", otc.OpGet, 500, big, otc.Permanent, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := &script{op: tt.op, steps: []step{{status: tt.status, body: tt.body}}}
			c, _ := tokenClient(t, s)
			_, err := call(t.Context(), c, tt.op)
			want(t, "requests", int(s.n.Load()), 1)
			if tt.ok {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			var re *otc.ResponseError
			if !errors.As(err, &re) {
				t.Fatalf("error = %v (%T), want *otc.ResponseError", err, err)
			}
			want(t, "Classify", otc.Classify(err), tt.wantClass)
			for _, part := range []string{tt.op + ": ", fmt.Sprintf("HTTP %d", tt.status), "larger than"} {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q lacks %q", err, part)
				}
			}
		})
	}
}

// TestCanceled: a create cancelled after it was sent may have taken effect;
// any other cancelled call is a plain context error.
func TestCanceled(t *testing.T) {
	for _, op := range []string{otc.OpGet, otc.OpCreate} {
		t.Run(op, func(t *testing.T) {
			arrived := make(chan struct{}, 1)
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				arrived <- struct{}{}
				hang(w, r)
			})
			c, _ := tokenClient(t, h)
			ctx, cancel := context.WithCancel(t.Context())
			go func() { <-arrived; cancel() }()
			_, err := call(ctx, c, op)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("error = %v, want context.Canceled", err)
			}
			want(t, "IsAmbiguous", otc.IsAmbiguous(err), op == otc.OpCreate)
		})
	}
}

// TestDeleteSuccessCodes: the pages disagree (200 or 204); any 2xx is
// success.
func TestDeleteSuccessCodes(t *testing.T) {
	for _, status := range []int{200, 202, 204} {
		c, _ := tokenClient(t, serveBody(status, "", nil))
		if _, err := c.DeleteEndpoint(t.Context(), "e1"); err != nil {
			t.Errorf("DeleteEndpoint with %d: %v", status, err)
		}
	}
}

// TestRequestShape checks what the client sends: paths with escaped ids,
// JSON bodies, the token header.
func TestRequestShape(t *testing.T) {
	type seen struct{ method, uri, body, token, ctype string }
	var got []seen
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = append(got, seen{r.Method, r.URL.RequestURI(), string(b), r.Header.Get("X-Auth-Token"), r.Header.Get("Content-Type")})
		mu.Unlock()
		w.WriteHeader(204)
	})
	c, _ := tokenClient(t, h)
	ctx := t.Context()
	if _, err := c.TagAction(ctx, "a/b?c", "delete", []vpcep.Tag{{Key: "k"}}); err != nil {
		t.Fatal(err)
	}
	wantSeen := []seen{
		{"POST", "/v1/" + testPID + "/endpoint/a%2Fb%3Fc/tags/action", `{"action":"delete","tags":[{"key":"k","value":""}]}`, testToken, "application/json"},
	}
	if len(got) != len(wantSeen) {
		t.Fatalf("got %d requests, want %d: %v", len(got), len(wantSeen), got)
	}
	for i := range got {
		if got[i] != wantSeen[i] {
			t.Errorf("request %d = %+v, want %+v", i, got[i], wantSeen[i])
		}
	}
}

// slowPacer makes every attempt wait before it starts.
type slowPacer struct{ d time.Duration }

func (p slowPacer) Wait(ctx context.Context) (otc.Ticket, error) {
	select {
	case <-time.After(p.d):
		return 1, nil
	case <-ctx.Done():
		return 0, ctx.Err()
	}
}

func (slowPacer) Observe(otc.Ticket, bool) {}

// TestPacerWaitNotTimed: waiting for the pacer does not count against the
// request timeout (a slowed-down limiter must not turn into timeouts).
func TestPacerWaitNotTimed(t *testing.T) {
	s := &script{op: otc.OpGet, steps: []step{okStep}}
	srv := httptest.NewServer(s)
	t.Cleanup(srv.Close)
	opts := fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, srv.URL)
	opts.RequestTimeout = 50 * time.Millisecond
	p, err := otc.NewProvider(opts)
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Client(t.Context(), "", "", slowPacer{150 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
		t.Fatalf("GetEndpoint: %v", err)
	}
	want(t, "requests", int(s.n.Load()), 1)

	ctx, cancel := context.WithTimeout(t.Context(), 20*time.Millisecond)
	defer cancel()
	if _, err := c.GetEndpoint(ctx, "e1"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("GetEndpoint while the pacer waits past the deadline: %v, want context.DeadlineExceeded", err)
	}
	want(t, "requests", int(s.n.Load()), 1)
}
