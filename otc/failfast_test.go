package otc_test

// Tests of the errors no retry fixes (issue 13): a host name that does not
// resolve, a certificate that does not verify, nothing listening on the
// first request to a host, a 401 after a fresh token, a 403. Each ends its
// request after one attempt, with retries allowed, and says why in one
// line; the same dial failures on a host that has answered in this run are
// retried. Servers are on 127.0.0.1; host names are resolved by a fake
// resolver (see resolver), or, in one test, by this machine's under the
// reserved .invalid TLD.

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
	"github.com/vpcepctl/vpcepctl/otc"
)

// noSuchHost is a name under the reserved .invalid TLD: no resolver may
// give it an address.
const noSuchHost = "vpcep.no-such-host.invalid"

// resolver stands in for DNS: dials to an IP address go through, a host
// name resolves to the address addrs gives it, and any other name fails
// with a copy of answer (by default "no such host").
type resolver struct {
	mu     sync.Mutex
	addrs  map[string]string // host name -> "ip:port"
	answer net.DNSError
	failed atomic.Int64 // lookups that failed
}

func newResolver() *resolver {
	return &resolver{addrs: map[string]string{}, answer: net.DNSError{Err: "no such host", IsNotFound: true}}
}

func (r *resolver) set(host, addr string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if addr == "" {
		delete(r.addrs, host)
		return
	}
	r.addrs[host] = addr
}

// client is an HTTP client that resolves through r (no keep-alive: each
// attempt dials).
func (r *resolver) client() *http.Client {
	var d net.Dialer
	dial := func(ctx context.Context, network, addr string) (net.Conn, error) {
		host, _, err := net.SplitHostPort(addr)
		if err != nil || net.ParseIP(host) != nil {
			return d.DialContext(ctx, network, addr)
		}
		r.mu.Lock()
		to, ok := r.addrs[host]
		answer := r.answer
		r.mu.Unlock()
		if ok {
			return d.DialContext(ctx, network, to)
		}
		r.failed.Add(1)
		answer.Name = host
		return nil, &net.OpError{Op: "dial", Net: network, Err: &answer}
	}
	return &http.Client{Transport: &http.Transport{DialContext: dial, DisableKeepAlives: true}}
}

// wantFinal checks that err is Permanent, one line, and holds each of
// texts.
func wantFinal(t *testing.T, err error, texts ...string) {
	t.Helper()
	if err == nil {
		t.Fatal("succeeded, want an error")
	}
	if got := otc.Classify(err); got != otc.Permanent {
		t.Errorf("Classify(%v) = %v, want permanent", err, got)
	}
	if strings.Contains(err.Error(), "\n") {
		t.Errorf("error %q is not one line", err)
	}
	for _, s := range texts {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not contain %q", err, s)
		}
	}
}

// failFastOptions are fastOptions with retries enough that any retry
// shows in the attempts, and rec as the Observer.
func failFastOptions(creds otc.Credentials, endpoint string, rec *recorder) otc.Options {
	o := fastOptions(creds, endpoint)
	o.MaxRetries, o.Observer = 8, rec
	return o
}

// tokenCreds are OS_AUTH_TOKEN credentials.
var tokenCreds = otc.Credentials{Token: testToken, ProjectID: testPID, Region: "eu-de"}

// get is one GetEndpoint of a new client with opts.
func get(t *testing.T, opts otc.Options) error {
	_, err := newClient(t, opts).GetEndpoint(t.Context(), "e1")
	return err
}

// TestNoSuchHostAPI: a VPCEP host name that does not resolve; the error
// names the setting the URL came from.
func TestNoSuchHostAPI(t *testing.T) {
	t.Run("no such host, from --endpoint", func(t *testing.T) {
		rec, res := newRecorder(), newResolver()
		opts := failFastOptions(tokenCreds, "https://"+noSuchHost, rec)
		opts.HTTPClient = res.client()
		err := get(t, opts)
		if !errors.As(err, new(*otc.HostError)) {
			t.Fatalf("error = %v (%T), want *otc.HostError", err, err)
		}
		want(t, "Error", err.Error(), "get: cannot reach the VPCEP API at https://"+noSuchHost+": no such host "+noSuchHost+"; check --endpoint")
		wantFinal(t, err)
		want(t, "attempts", rec.attempts(otc.OpGet), 1)
		want(t, "lookups", res.failed.Load(), int64(1))
	})

	t.Run("no such host, the default URL", func(t *testing.T) {
		rec, res := newRecorder(), newResolver()
		opts := failFastOptions(tokenCreds, "", rec)
		opts.HTTPClient = res.client()
		wantFinal(t, get(t, opts), "https://vpcep.eu-de.otc.t-systems.com: no such host vpcep.eu-de.otc.t-systems.com",
			"the default for region eu-de", "OS_REGION_NAME", "--endpoint")
		want(t, "attempts", rec.attempts(otc.OpGet), 1)
	})

	t.Run("no such host, from the token's catalog", func(t *testing.T) {
		f := newFakeCloud(t)
		f.catalog = func(string, string) []any {
			return []any{map[string]any{"type": "vpcep", "endpoints": []any{map[string]any{
				"interface": "public", "region": "eu-de", "url": "https://" + noSuchHost + "/v1/" + testPID}}}}
		}
		rec, res := newRecorder(), newResolver()
		opts := failFastOptions(passwordCreds(f.srv.URL), "", rec)
		opts.HTTPClient = res.client()
		wantFinal(t, get(t, opts), "no such host "+noSuchHost, "the token catalog's: set --endpoint")
		want(t, "attempts", rec.attempts(otc.OpGet), 1)
	})
}

// TestNoRetryFixesAPI: the VPCEP API's side of the other four cases.
func TestNoRetryFixesAPI(t *testing.T) {
	t.Run("certificate that does not verify", func(t *testing.T) {
		srv, conns := tlsServer(t, http.NotFoundHandler(), nil)
		rec := newRecorder()
		wantFinal(t, get(t, failFastOptions(tokenCreds, srv.URL, rec)), "x509: certificate signed by unknown authority", "--cacert")
		want(t, "attempts", rec.attempts(otc.OpGet), 1)
		want(t, "connections", conns.Load(), int64(1))
	})

	t.Run("nothing listens", func(t *testing.T) {
		addr := testkit.ClosedAddr(t)
		rec := newRecorder()
		c := newClient(t, failFastOptions(tokenCreds, "http://"+addr, rec))
		var wg sync.WaitGroup
		for range 8 { // the first requests of a run go out together
			wg.Go(func() {
				_, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
				want(t, "Error", fmt.Sprint(err), "list: cannot reach the VPCEP API at http://"+addr+": nothing listens on "+addr+" (connection refused); check --endpoint")
				wantFinal(t, err)
			})
		}
		wg.Wait()
		want(t, "attempts", rec.attempts(otc.OpList), 8)
		want(t, "retries", rec.retried(), 0)
	})

	t.Run("401 after a fresh token", func(t *testing.T) {
		f := newFakeCloud(t)
		f.reject = func(string, int) bool { return true }
		rec := newRecorder()
		err := get(t, failFastOptions(passwordCreds(f.srv.URL), "", rec))
		wantFinal(t, err, "get: HTTP 401 EndPoint.0003: authentication failed")
		want(t, "IsAuth", otc.IsAuth(err), true)
		want(t, "attempts (the first token, then the fresh one)", rec.count(rec.requests, "get 401"), 2)
		want(t, "tokens", rec.count(rec.requests, "token 201"), 2)
		want(t, "retries", rec.retried(), 0)
	})

	t.Run("403", func(t *testing.T) {
		rec := newRecorder()
		c, _ := tokenClient(t, &script{op: otc.OpGet, steps: []step{st403}}, func(o *otc.Options) { o.MaxRetries, o.Observer = 8, rec })
		_, err := c.GetEndpoint(t.Context(), "e1")
		wantFinal(t, err, "get: HTTP 403 EndPoint.0004: permission denied", "lack the permission for get")
		want(t, "attempts", rec.attempts(otc.OpGet), 1)
	})
}

// TestNoRetryFixesIAM: the token request's side of the five cases (a 401
// of IAM is the password refused: there is no fresh token to try).
func TestNoRetryFixesIAM(t *testing.T) {
	token := func(t *testing.T, opts otc.Options) error {
		_, err := newProvider(t, opts).Client(t.Context(), "", "", nil)
		return err
	}

	t.Run("no such host", func(t *testing.T) {
		rec, res := newRecorder(), newResolver()
		iam := "iam.no-such-host.invalid"
		opts := failFastOptions(passwordCreds("https://"+iam), "", rec)
		opts.HTTPClient = res.client()
		err := token(t, opts)
		want(t, "Error", fmt.Sprint(err), "token: cannot reach https://"+iam+"/v3: no such host "+iam+"; check OS_AUTH_URL (or auth_url in clouds.yaml)")
		wantFinal(t, err)
		want(t, "attempts", rec.attempts(otc.OpToken), 1)
		want(t, "lookups", res.failed.Load(), int64(1))
	})

	t.Run("certificate that does not verify", func(t *testing.T) {
		srv, conns := tlsServer(t, &fakeCloud{issued: map[string]string{}}, nil)
		rec := newRecorder()
		wantFinal(t, token(t, failFastOptions(passwordCreds(srv.URL), "", rec)), "token: TLS with "+srv.URL, "--cacert")
		want(t, "attempts", rec.attempts(otc.OpToken), 1)
		want(t, "connections", conns.Load(), int64(1))
	})

	t.Run("nothing listens", func(t *testing.T) {
		addr := testkit.ClosedAddr(t)
		rec := newRecorder()
		err := token(t, failFastOptions(passwordCreds("http://"+addr), "", rec))
		want(t, "Error", fmt.Sprint(err), "token: cannot reach http://"+addr+"/v3: nothing listens on "+addr+" (connection refused); check OS_AUTH_URL (or auth_url in clouds.yaml)")
		wantFinal(t, err)
		want(t, "attempts", rec.attempts(otc.OpToken), 1)
	})

	for _, tt := range []struct {
		status int
		text   string
	}{
		{http.StatusUnauthorized, "token: HTTP 401: authentication failed"},
		{http.StatusForbidden, "token: HTTP 403: permission denied"},
	} {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			f := newFakeCloud(t)
			f.iamStatus = tt.status
			rec := newRecorder()
			err := token(t, failFastOptions(passwordCreds(f.srv.URL), "", rec))
			wantFinal(t, err, tt.text)
			want(t, "IsAuth", otc.IsAuth(err), true)
			want(t, "attempts", rec.attempts(otc.OpToken), 1)
			want(t, "IAM requests", f.tokenRequests(), 1)
		})
	}
}

// TestNoSuchHostHere: this machine's resolver, asked for a name under
// .invalid, says "no such host", and the request ends after one attempt.
// A resolver that answers otherwise (one that makes up addresses) skips
// the test: TestNoRetryFixesAPI and TestNoRetryFixesIAM hold the same
// classification with the answer injected.
func TestNoSuchHostHere(t *testing.T) {
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	_, err := net.DefaultResolver.LookupHost(ctx, noSuchHost)
	var dns *net.DNSError
	if !errors.As(err, &dns) || !dns.IsNotFound || dns.IsTimeout || dns.IsTemporary {
		t.Skipf("this machine's resolver answers %v for %s, not \"no such host\"", err, noSuchHost)
	}
	rec := newRecorder()
	_, err = newClient(t, failFastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, "https://"+noSuchHost, rec)).
		GetEndpoint(t.Context(), "e1")
	wantFinal(t, err, "no such host "+noSuchHost, "check --endpoint")
	want(t, "attempts", rec.attempts(otc.OpGet), 1)

	rec = newRecorder()
	_, err = newProvider(t, failFastOptions(passwordCreds("https://"+noSuchHost), "", rec)).Client(t.Context(), "", "", nil)
	wantFinal(t, err, "no such host "+noSuchHost, "check OS_AUTH_URL")
	want(t, "token attempts", rec.attempts(otc.OpToken), 1)
}

// notFinal checks that err is an error the client retries.
func notFinal(t *testing.T, err error) {
	t.Helper()
	if err == nil || otc.Classify(err) == otc.Permanent || errors.As(err, new(*otc.HostError)) {
		t.Errorf("error = %v (%T), want one that was retried", err, err)
	}
}

// TestTransientLookupRetried: a lookup that timed out or failed for the
// time being is retried.
func TestTransientLookupRetried(t *testing.T) {
	const attempts = 4 // fastOptions: MaxRetries 3
	for _, answer := range []net.DNSError{
		{Err: "i/o timeout", IsTimeout: true},
		{Err: "server misbehaving", IsTemporary: true},
	} {
		t.Run("lookup: "+answer.Err, func(t *testing.T) {
			rec, res := newRecorder(), newResolver()
			res.answer = answer
			opts := fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, "https://"+noSuchHost)
			opts.HTTPClient, opts.Observer = res.client(), rec
			_, err := newClient(t, opts).GetEndpoint(t.Context(), "e1")
			notFinal(t, err)
			want(t, "Classify", otc.Classify(err), otc.NetworkBeforeSend)
			want(t, "get attempts", rec.attempts(otc.OpGet), attempts)

			opts.Credentials = passwordCreds("https://iam.no-such-host.invalid")
			_, err = newProvider(t, opts).Client(t.Context(), "", "", nil)
			notFinal(t, err)
			want(t, "token attempts", rec.attempts(otc.OpToken), attempts)
		})
	}
}

// TestRefusedAfterAnswerRetried: "no such host" and "connection refused"
// on a host that has answered in this run (a restart, a resolver's
// hiccup) are retried, whichever client of the Provider it answered.
func TestRefusedAfterAnswerRetried(t *testing.T) {
	const attempts = 4 // fastOptions: MaxRetries 3
	t.Run("no such host after an answer", func(t *testing.T) {
		f := newFakeCloud(t)
		host := "vpcep.example.test"
		_, port, _ := net.SplitHostPort(strings.TrimPrefix(f.srv.URL, "http://"))
		f.catalog = func(string, string) []any {
			return []any{map[string]any{"type": "vpcep", "endpoints": []any{map[string]any{
				"interface": "public", "region": "eu-de", "url": "http://" + host + ":" + port}}}}
		}
		rec, res := newRecorder(), newResolver()
		res.set(host, strings.TrimPrefix(f.srv.URL, "http://"))
		opts := fastOptions(passwordCreds(f.srv.URL), "")
		opts.HTTPClient, opts.Observer = res.client(), rec
		c := newClient(t, opts)
		if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
			t.Fatal(err)
		}
		res.set(host, "")
		_, err := c.GetEndpoint(t.Context(), "e1")
		notFinal(t, err)
		want(t, "attempts after the answer", rec.count(rec.requests, "get error"), attempts)
	})

	t.Run("refused after IAM answered on the same host", func(t *testing.T) {
		f := newFakeCloud(t) // IAM and the VPCEP API on one host and port
		rec, res := newRecorder(), newResolver()
		opts := fastOptions(passwordCreds(f.srv.URL), "")
		opts.HTTPClient, opts.Observer = res.client(), rec
		p := newProvider(t, opts)
		c, err := p.Client(t.Context(), "", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		f.srv.Close()
		_, err = c.GetEndpoint(t.Context(), "e1") // the API's first request
		notFinal(t, err)
		want(t, "get attempts", rec.attempts(otc.OpGet), attempts)
		_, err = p.Client(t.Context(), "", testPID2, nil) // another project's token
		notFinal(t, err)
		want(t, "token attempts after the answer", rec.count(rec.requests, "token error"), attempts)
	})
}

// TestDialFailure: the server answered once, then nothing listens (a
// restart), so no request is sent; every operation, a create included, is
// retried and fails as NetworkBeforeSend. (On a host that never answered,
// connection refused is final: TestNoRetryFixesAPI.)
func TestDialFailure(t *testing.T) {
	for _, op := range []string{otc.OpGet, otc.OpList, otc.OpDelete, otc.OpCreate} {
		t.Run(op, func(t *testing.T) {
			srv := httptest.NewServer(http.NotFoundHandler())
			rec := newRecorder()
			opts := fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, srv.URL)
			opts.Observer = rec
			opts.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			c := newClient(t, opts)
			if _, err := c.GetEndpoint(t.Context(), "e1"); !otc.IsNotFound(err) {
				t.Fatalf("first get: %v, want a 404", err)
			}
			srv.Close()
			n, err := call(t.Context(), c, op)
			var ne *otc.NetError
			if !errors.As(err, &ne) || ne.Sent {
				t.Fatalf("error = %#v, want a *otc.NetError with Sent false", err)
			}
			want(t, "Classify", otc.Classify(err), otc.NetworkBeforeSend)
			want(t, "IsAmbiguous", otc.IsAmbiguous(err), false)
			want(t, "attempts observed", rec.count(rec.requests, op+" error"), 4)
			want(t, "retries observed", rec.count(rec.retries, op+" network"), 3)
			if op == otc.OpCreate {
				want(t, "CreateEndpoint attempts", n, 4)
			}
		})
	}
}

// TestHostKey: the servers that answered are told apart by scheme, host
// and port, the default port spelled or not, host names in any case.
func TestHostKey(t *testing.T) {
	for _, tt := range []struct{ a, b string }{
		{"https://vpcep.example", "https://VPCEP.Example:443/v1/x"},
		{"http://127.0.0.1", "http://127.0.0.1:80"},
		{"https://[::1]:8443", "https://[::1]:8443/v3"},
	} {
		want(t, "same server "+tt.a+" "+tt.b, otc.HostKey(tt.a), otc.HostKey(tt.b))
	}
	for _, tt := range []struct{ a, b string }{
		{"https://vpcep.example", "http://vpcep.example"},
		{"https://vpcep.example", "https://vpcep.example:8443"},
		{"https://vpcep.example", "https://iam.example"},
	} {
		if otc.HostKey(tt.a) == otc.HostKey(tt.b) {
			t.Errorf("%s and %s are one server: %s", tt.a, tt.b, otc.HostKey(tt.a))
		}
	}
}
