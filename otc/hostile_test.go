package otc_test

// Tests against hostile servers (httptest, loopback only), one per case of
// issue 11 "Secrets stay home": redirects to a second host, servers that
// echo secrets into messages and fields, tokens that expire on issue (a
// skewed clock), certificates that do not verify, plain-http catalogs, and
// targets that refuse the credentials for good.

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// witness is a second host: it records every request that reaches it. No
// credential may ever get there.
type witness struct {
	srv  *httptest.Server
	mu   sync.Mutex
	seen []string
}

func newWitness(t *testing.T) *witness {
	w := &witness{}
	w.srv = httptest.NewServer(http.HandlerFunc(func(rw http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		w.mu.Lock()
		w.seen = append(w.seen, fmt.Sprintf("%s %s %v %s", r.Method, r.URL, r.Header, b))
		w.mu.Unlock()
		rw.WriteHeader(http.StatusCreated)
		fmt.Fprint(rw, `{"id":"stolen","status":"accepted","token":{"project":{"id":"p"}}}`)
	}))
	t.Cleanup(w.srv.Close)
	return w
}

func (w *witness) requests() []string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return append([]string(nil), w.seen...)
}

// redirector answers every request with a redirect of status to the same
// path and a query on host to.
func redirector(t *testing.T, to string, status int) (*httptest.Server, *atomic.Int64) {
	var n atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n.Add(1)
		io.Copy(io.Discard, r.Body)
		http.Redirect(w, r, to+r.URL.Path+"?X-Auth-Token=leaked", status)
	}))
	t.Cleanup(srv.Close)
	return srv, &n
}

// TestNoRedirectFollowed (case 1): a redirect on a VPCEP call, in every
// authentication mode, and on the IAM token request, is not followed:
// nothing reaches the second host, the error names it (scheme and host
// only) and is permanent after one attempt.
func TestNoRedirectFollowed(t *testing.T) {
	for _, status := range []int{301, 302, 307, 308} {
		for _, mode := range []string{"token", "password", "aksk", "iam"} {
			t.Run(fmt.Sprintf("%s %d", mode, status), func(t *testing.T) {
				evil := newWitness(t)
				rd, answered := redirector(t, evil.srv.URL, status)
				var opts otc.Options
				switch mode {
				case "token":
					opts = fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID, Region: "eu-de"}, rd.URL)
				case "aksk":
					opts = fastOptions(otc.Credentials{AccessKey: "AK0123456789", SecretKey: "sk-0123456789-secret", SecurityToken: "temporary-security-token",
						ProjectID: testPID, Region: "eu-de"}, rd.URL)
				case "password":
					f := newFakeCloud(t)
					f.catalog = func(string, string) []any { return nil }
					opts = fastOptions(passwordCreds(f.srv.URL), rd.URL)
				case "iam":
					opts = fastOptions(passwordCreds(rd.URL), "")
				}
				opts.MaxRetries = 8
				p := newProvider(t, opts)
				var attempts int
				c, err := p.Client(t.Context(), "", "", nil)
				if err == nil {
					_, attempts, err = c.CreateEndpoint(t.Context(), &vpcep.CreateEndpointRequest{EndpointServiceID: "s", VPCID: "v"})
					want(t, "attempts", attempts, 1)
				}
				var re *otc.RedirectError
				if !errors.As(err, &re) {
					t.Fatalf("error = %v (%T), want *otc.RedirectError", err, err)
				}
				want(t, "RedirectError.To", re.To, evil.srv.URL)
				want(t, "RedirectError.Status", re.Status, status)
				want(t, "Classify", otc.Classify(err), otc.Permanent)
				want(t, "requests to the redirecting host", answered.Load(), int64(1))
				if got := evil.requests(); len(got) > 0 {
					t.Errorf("the second host got %d requests: %q", len(got), got)
				}
				text := err.Error()
				if !strings.Contains(text, evil.srv.URL) || strings.Contains(text, "leaked") || strings.Contains(text, "/v") {
					t.Errorf("error %q should name %s, without path or query", text, evil.srv.URL)
				}
			})
		}
	}
}

// TestLearnedSecretsRedacted (case 2): in password mode the token fetched
// from IAM joins the run's secrets; an API that echoes it (and the
// password) in an error message or in a field that fails to decode gets
// nothing printed: messages are redacted, decode errors name the field and
// the type it should have, never the value.
func TestLearnedSecretsRedacted(t *testing.T) {
	f := newFakeCloud(t)
	var mode atomic.Value
	mode.Store("")
	issuedToken := func() string {
		f.mu.Lock()
		defer f.mu.Unlock()
		for tok := range f.issued {
			return tok
		}
		return ""
	}
	f.answer = func(w http.ResponseWriter) {
		tok := issuedToken()
		switch mode.Load() {
		case "message":
			w.WriteHeader(http.StatusBadRequest)
			json.NewEncoder(w).Encode(map[string]string{"error_code": "EndPoint.0002",
				"error_msg": "bad token " + tok + " for password " + testPassword})
		case "bool":
			fmt.Fprintf(w, `{"id":"e1","status":"accepted","enable_dns":%q}`, tok)
		case "time":
			fmt.Fprintf(w, `{"id":"e1","status":"accepted","created_at":%q}`, testPassword)
		case "list":
			fmt.Fprintf(w, `{"id":"e1","status":"accepted","active_status":{"token":%q}}`, tok)
		case "number":
			fmt.Fprintf(w, `{"id":"e1","status":"accepted","marker_id":"%s"}`, tok)
		case "syntax":
			fmt.Fprintf(w, `{"id":"e1","status":%s}`, tok)
		}
	}
	var logs bytes.Buffer
	red := otc.NewRedactor()
	opts := fastOptions(passwordCreds(f.srv.URL), "")
	opts.Logger, opts.Redactor, opts.MaxRetries = slogJSON(&logs), red, 0
	c := newClient(t, opts)
	tok := issuedToken()
	if tok == "" {
		t.Fatal("no token issued")
	}
	want(t, "Redact(the fetched token)", red.Redact("x "+tok+" y"), "x [REDACTED] y")

	tests := []struct {
		mode string
		want []string // in the error text
	}{
		{"message", []string{"get: HTTP 400 EndPoint.0002: bad token [REDACTED] for password [REDACTED]"}},
		{"bool", []string{"field enable_dns has the wrong type (a JSON string, want a boolean"}},
		{"time", []string{"field created_at has the wrong type (a JSON string, want a timestamp string)"}},
		{"list", []string{"field active_status has the wrong type (a JSON object, want a string or a list of strings)"}},
		{"number", []string{"field marker_id has the wrong type (a JSON string, want a whole number"}},
		{"syntax", []string{"invalid JSON at byte"}},
	}
	for _, tt := range tests {
		t.Run(tt.mode, func(t *testing.T) {
			mode.Store(tt.mode)
			_, err := c.GetEndpoint(t.Context(), "e1")
			if err == nil {
				t.Fatal("GetEndpoint succeeded")
			}
			text := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("error %q does not contain %q", text, w)
				}
			}
			for _, sec := range []string{tok, testPassword, "MIIDkgYJ"} {
				if strings.Contains(text, sec) {
					t.Errorf("error %q shows the secret %q", text, sec)
				}
			}
		})
	}
	if strings.Contains(logs.String(), tok) || strings.Contains(logs.String(), testPassword) {
		t.Errorf("a secret appears in the log:\n%s", logs.String())
	}
}

// TestDecodeErrorsNameFieldNotValue: the lenient decoders' errors name the
// field and the expected type and never quote what they could not read.
func TestDecodeErrorsNameFieldNotValue(t *testing.T) {
	const secret = "s3cr3t-value-0123"
	for _, body := range []string{
		`{"enable_dns":"` + secret + `"}`,
		`{"enable_whitelist":["` + secret + `"]}`,
		`{"active_status":[{"x":"` + secret + `"}]}`,
		`{"active_status":1234567}`,
		`{"created_at":"` + secret + `"}`,
		`{"updated_at":["` + secret + `"]}`,
		`{"update_at":"` + secret + `"}`,
	} {
		var e vpcep.Endpoint
		err := json.Unmarshal([]byte(body), &e)
		if err == nil {
			t.Errorf("Unmarshal(%s) succeeded", body)
			continue
		}
		if strings.Contains(err.Error(), secret) || strings.Contains(err.Error(), "1234567") {
			t.Errorf("Unmarshal(%s) error %q quotes the value", body, err)
		}
		var te *json.UnmarshalTypeError
		if !errors.As(err, &te) || te.Field == "" {
			t.Errorf("Unmarshal(%s) error %q (%T) names no field", body, err, err)
		}
	}
}

// TestSkewedClockTokenReuse (case 3): a token whose expires_at is at or
// before its issue by this machine's clock (a clock a day fast) is used
// for 500 calls in two projects with one IAM call per project, counted by
// the Observer; the skew is logged once; the token is renewed at most once
// a minute.
func TestSkewedClockTokenReuse(t *testing.T) {
	for _, tt := range []struct {
		name    string
		skew    time.Duration // this machine's clock minus IAM's
		expires time.Duration // token lifetime by IAM's clock (0: 24h)
	}{
		{name: "clock a day fast", skew: 24 * time.Hour},
		{name: "clock a day and an hour fast", skew: 25 * time.Hour},
		{name: "tokens of two minutes", expires: 2 * time.Minute},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCloud(t)
			f.expires = tt.expires
			var mu sync.Mutex
			now := time.Now().Add(tt.skew)
			clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
			advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
			var logs syncBuf
			rec := newRecorder()
			opts := fastOptions(passwordCreds(f.srv.URL), "")
			opts.Now, opts.Observer = clock, rec
			opts.Logger = slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelWarn}))
			p := newProvider(t, opts)
			var clients []*otc.Client
			for _, pid := range []string{testPID, testPID2} {
				c, err := p.Client(t.Context(), "", pid, nil)
				if err != nil {
					t.Fatal(err)
				}
				clients = append(clients, c)
			}
			calls := func(n int) {
				var wg sync.WaitGroup
				for i := range 8 {
					wg.Go(func() {
						for j := i; j < n; j += 8 {
							if _, err := clients[j%2].GetEndpoint(t.Context(), "e1"); err != nil {
								t.Error(err)
								return
							}
						}
					})
				}
				wg.Wait()
			}
			calls(500)
			perProject := func() map[string]int {
				f.mu.Lock()
				defer f.mu.Unlock()
				m := map[string]int{}
				for _, b := range f.tokenReq {
					sc, _ := b["auth"].(map[string]any)["scope"].(map[string]any)["project"].(map[string]any)
					m[fmt.Sprint(sc["id"])]++
				}
				return m
			}
			got := perProject()
			t.Logf("IAM calls for 500 API calls: %v", got)
			for _, pid := range []string{testPID, testPID2} {
				if got[pid] > 2 {
					t.Errorf("project %s: %d IAM calls for 250 API calls, want at most 2", pid, got[pid])
				}
			}
			want(t, "IAM calls counted as token requests", rec.count(rec.requests, "token 201"), f.tokenRequests())
			clockLines := func() int {
				n := 0
				for _, l := range strings.Split(logs.String(), "\n") {
					if strings.Contains(l, "level=WARN") && strings.Contains(l, "clock is probably skewed") {
						n++
					}
				}
				return n
			}
			if n := clockLines(); n != 1 {
				t.Errorf("%d log lines about the clock, want 1:\n%s", n, logs.String())
			}
			// Within the minute: no renewal. After it: one per project.
			advance(30 * time.Second)
			calls(100)
			want(t, "IAM calls 30s later", f.tokenRequests(), 2)
			advance(31 * time.Second)
			calls(100)
			want(t, "IAM calls 61s later", f.tokenRequests(), 4)
			if n := clockLines(); n != 1 {
				t.Errorf("%d log lines about the clock after the renewal, want still 1", n)
			}
		})
	}
}

// syncBuf is a bytes.Buffer safe for concurrent writers.
type syncBuf struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuf) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuf) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// tlsServer serves h over TLS with httptest's certificate (for 127.0.0.1
// and example.com) and counts the connections it accepted.
func tlsServer(t *testing.T, h http.Handler, mod func(*tls.Config)) (*httptest.Server, *atomic.Int64) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // handshake errors are the point
	if mod != nil {
		srv.TLS = &tls.Config{}
		mod(srv.TLS)
	}
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, &conns
}

// writePEM writes PEM blocks to a file in dir and returns its path.
func writePEM(t *testing.T, dir, name, typ string, der []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestTLSFailurePermanent (case 4): a certificate that does not verify
// ends the call after one attempt (with retries allowed), with the x509
// reason in one line; --cacert trusts it, --insecure skips the check and
// is warned about; a server that wants a client certificate gets the one
// clouds.yaml names.
func TestTLSFailurePermanent(t *testing.T) {
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		fmt.Fprint(w, `{"id":"e1","status":"accepted"}`)
	})
	dir := t.TempDir()
	tokenOpts := func(url string, tl otc.TLS) otc.Options {
		o := fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID, Region: "eu-de", TLS: tl}, url)
		o.MaxRetries = 8 // a retry would show in the attempts
		return o
	}

	t.Run("unknown authority", func(t *testing.T) {
		srv, conns := tlsServer(t, ok, nil)
		c := newClient(t, tokenOpts(srv.URL, otc.TLS{}))
		_, attempts, err := c.CreateEndpoint(t.Context(), &vpcep.CreateEndpointRequest{EndpointServiceID: "s", VPCID: "v"})
		var te *otc.TLSError
		if !errors.As(err, &te) {
			t.Fatalf("error = %v (%T), want *otc.TLSError", err, err)
		}
		want(t, "attempts", attempts, 1)
		want(t, "connections", conns.Load(), int64(1))
		want(t, "Classify", otc.Classify(err), otc.Permanent)
		text := err.Error()
		for _, w := range []string{"create: TLS with " + srv.URL, "x509: certificate signed by unknown authority", "--cacert"} {
			if !strings.Contains(text, w) {
				t.Errorf("error %q does not contain %q", text, w)
			}
		}
		if strings.Contains(text, "\n") {
			t.Errorf("error %q is not one line", text)
		}
		if _, err := c.ListEndpoints(t.Context(), otc.ListOptions{}); !errors.As(err, &te) {
			t.Errorf("list: error = %v, want *otc.TLSError", err)
		}
		want(t, "connections after a list", conns.Load(), int64(2))
	})

	t.Run("IAM with an unknown authority", func(t *testing.T) {
		f := &fakeCloud{issued: map[string]string{}}
		srv, conns := tlsServer(t, f, nil)
		opts := fastOptions(passwordCreds(srv.URL), "")
		opts.MaxRetries = 8
		_, err := newProvider(t, opts).Client(t.Context(), "", "", nil)
		var te *otc.TLSError
		if !errors.As(err, &te) || te.Op != otc.OpToken {
			t.Fatalf("error = %v (%T), want a token *otc.TLSError", err, err)
		}
		want(t, "connections", conns.Load(), int64(1))
		want(t, "token requests", f.tokenRequests(), 0)
	})

	t.Run("wrong host name", func(t *testing.T) {
		srv, conns := tlsServer(t, ok, nil)
		ca := writePEM(t, dir, "ca-host.pem", "CERTIFICATE", srv.Certificate().Raw)
		url := strings.Replace(srv.URL, "127.0.0.1", "localhost", 1) // the certificate is for 127.0.0.1 and example.com
		c := newClient(t, tokenOpts(url, otc.TLS{CACert: ca}))
		_, err := c.GetEndpoint(t.Context(), "e1")
		if !errors.As(err, new(*otc.TLSError)) || !strings.Contains(err.Error(), "another host") {
			t.Fatalf("error = %v, want a *otc.TLSError about the host", err)
		}
		want(t, "connections", conns.Load(), int64(1))
	})

	t.Run("cacert", func(t *testing.T) {
		srv, _ := tlsServer(t, ok, nil)
		ca := writePEM(t, dir, "ca.pem", "CERTIFICATE", srv.Certificate().Raw)
		c := newClient(t, tokenOpts(srv.URL, otc.TLS{CACert: ca}))
		if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
			t.Fatal(err)
		}
	})

	t.Run("cacert without certificates", func(t *testing.T) {
		bad := filepath.Join(dir, "empty.pem")
		os.WriteFile(bad, []byte("not a certificate\n"), 0o600)
		_, err := otc.NewProvider(tokenOpts("https://vpcep.example", otc.TLS{CACert: bad}))
		if !errors.As(err, new(*otc.ConfigError)) || !strings.Contains(err.Error(), bad) {
			t.Errorf("NewProvider = %v, want a *otc.ConfigError naming %s", err, bad)
		}
	})

	t.Run("insecure", func(t *testing.T) {
		srv, _ := tlsServer(t, ok, nil)
		var logs bytes.Buffer
		opts := tokenOpts(srv.URL, otc.TLS{Insecure: true})
		opts.Logger = slogText(&logs)
		c := newClient(t, opts)
		if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), "verification is off") {
			t.Errorf("no warning about --insecure:\n%s", logs.String())
		}
	})

	t.Run("client certificate", func(t *testing.T) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "vpcepctl"},
			NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
			KeyUsage: x509.KeyUsageDigitalSignature, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
		if err != nil {
			t.Fatal(err)
		}
		cert, _ := x509.ParseCertificate(der)
		keyDER, _ := x509.MarshalECPrivateKey(key)
		certFile := writePEM(t, dir, "client.pem", "CERTIFICATE", der)
		keyFile := writePEM(t, dir, "client.key", "EC PRIVATE KEY", keyDER)
		pool := x509.NewCertPool()
		pool.AddCert(cert)
		srv, conns := tlsServer(t, ok, func(c *tls.Config) { c.ClientAuth, c.ClientCAs = tls.RequireAndVerifyClientCert, pool })
		ca := writePEM(t, dir, "ca-client.pem", "CERTIFICATE", srv.Certificate().Raw)

		c := newClient(t, tokenOpts(srv.URL, otc.TLS{CACert: ca}))
		_, err = c.GetEndpoint(t.Context(), "e1")
		if !errors.As(err, new(*otc.TLSError)) || !strings.Contains(err.Error(), "client certificate") {
			t.Fatalf("without a client certificate: error = %v, want a *otc.TLSError suggesting one", err)
		}
		want(t, "connections without a client certificate", conns.Load(), int64(1))
		c = newClient(t, tokenOpts(srv.URL, otc.TLS{CACert: ca, Cert: certFile, Key: keyFile}))
		if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
			t.Fatalf("with the client certificate: %v", err)
		}
	})
}

// TestEndpointAndPlainHTTP (case 6): an explicit endpoint wins over the
// catalog; a plain-http VPCEP URL is refused unless the auth URL is plain
// http or the host is a loopback address.
func TestEndpointAndPlainHTTP(t *testing.T) {
	f := &fakeCloud{issued: map[string]string{}}
	iam := httptest.NewTLSServer(f)
	t.Cleanup(iam.Close)
	catalogURL := "http://vpcep.example.com"
	f.catalog = func(string, string) []any {
		return []any{map[string]any{"type": "vpcep", "endpoints": []any{map[string]any{
			"interface": "public", "region": "eu-de", "url": catalogURL + "/v1/" + testPID}}}}
	}
	tests := []struct {
		name     string
		creds    otc.Credentials
		endpoint string
		catalog  string
		wantErr  string // "" = allowed
		wantBase string
	}{
		{name: "http catalog under https IAM", creds: passwordCreds(iam.URL), catalog: "http://vpcep.example.com",
			wantErr: "the token's catalog gives the VPCEP URL http://vpcep.example.com, plain http"},
		{name: "--endpoint wins over an http catalog", creds: passwordCreds(iam.URL), catalog: "http://vpcep.example.com",
			endpoint: "https://vpcep.eu-de.example", wantBase: "https://vpcep.eu-de.example"},
		{name: "http catalog on loopback", creds: passwordCreds(iam.URL), catalog: "http://127.0.0.1:8787",
			wantBase: "http://127.0.0.1:8787"},
		{name: "token mode, http --endpoint", creds: otc.Credentials{Token: testToken, ProjectID: testPID},
			endpoint: "http://vpcep.example.com", wantErr: "--endpoint gives the VPCEP URL http://vpcep.example.com, plain http"},
		{name: "AK/SK, http --endpoint", creds: otc.Credentials{AccessKey: "AK0123456789", SecretKey: "sk-0123456789", ProjectID: testPID},
			endpoint: "http://vpcep.example.com:80", wantErr: "plain http"},
		// The auth URL says nothing in token mode: an http one does not let
		// the token cross the network in clear text.
		{name: "token mode, http auth URL and --endpoint", creds: otc.Credentials{Token: testToken, ProjectID: testPID, AuthURL: "http://iam.example.com/v3"},
			endpoint: "http://vpcep.example.com", wantErr: "plain http"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			catalogURL = tt.catalog
			opts := fastOptions(tt.creds, tt.endpoint)
			opts.HTTPClient = iam.Client()
			c, err := newProvider(t, opts).Client(t.Context(), "", "", nil)
			if tt.wantErr != "" {
				if !errors.As(err, new(*otc.ConfigError)) || !strings.Contains(fmt.Sprint(err), tt.wantErr) {
					t.Errorf("Client = %v, want a *otc.ConfigError containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want(t, "BaseURL", c.BaseURL(), tt.wantBase)
		})
	}
}

// TestPermanentRefusalStops (case 7): after a 401 that outlives the one
// token refresh, no further request goes to the target (and no further
// token to IAM); a 403 stops its operation only; the errors say what the
// credentials lack, and an AK/SK "signature expired" names the clock.
func TestPermanentRefusalStops(t *testing.T) {
	t.Run("password, 401 for good", func(t *testing.T) {
		f := newFakeCloud(t)
		f.reject = func(string, int) bool { return true }
		c := newClient(t, fastOptions(passwordCreds(f.srv.URL), ""))
		var wg sync.WaitGroup
		errs := make([]error, 16)
		for i := range errs {
			wg.Go(func() {
				_, _, errs[i] = c.CreateEndpoint(t.Context(), &vpcep.CreateEndpointRequest{EndpointServiceID: "s", VPCID: "v"})
			})
		}
		wg.Wait()
		vpcep, iam := f.vpcepRequests(), f.tokenRequests()
		if vpcep > 2*len(errs) || iam != 2 {
			t.Errorf("16 concurrent creates: %d VPCEP requests (want at most 32), %d IAM requests (want 2)", vpcep, iam)
		}
		for range 20 {
			for _, op := range []string{otc.OpCreate, otc.OpList, otc.OpGet, otc.OpDelete, otc.OpTag} {
				_, err := call(t.Context(), c, op)
				if !errors.As(err, new(*otc.RefusedError)) || !otc.IsAuth(err) || otc.Classify(err) != otc.Permanent {
					t.Fatalf("%s after the refusal: error = %v, want a permanent *otc.RefusedError", op, err)
				}
			}
		}
		want(t, "VPCEP requests after 100 more calls", f.vpcepRequests(), vpcep)
		want(t, "IAM requests after 100 more calls", f.tokenRequests(), iam)
		for _, err := range errs {
			if !otc.IsAuth(err) || !strings.Contains(err.Error(), "refused too") {
				t.Errorf("error %v does not say what the credentials lack", err)
			}
		}
	})

	t.Run("the resend after a refresh is cut off", func(t *testing.T) {
		f := newFakeCloud(t)
		f.reject = func(tok string, _ int) bool { return strings.Contains(tok, "-issued-1-") }
		f.answer = func(w http.ResponseWriter) {
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		}
		c := newClient(t, fastOptions(passwordCreds(f.srv.URL), ""))
		_, err := c.GetEndpoint(t.Context(), "e1")
		if !errors.As(err, new(*otc.NetError)) {
			t.Fatalf("error = %v (%T), want a *otc.NetError", err, err)
		}
		want(t, "IAM requests", f.tokenRequests(), 2)
	})

	t.Run("403 stops its operation only", func(t *testing.T) {
		var creates, gets atomic.Int64
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			if r.Method == http.MethodPost {
				creates.Add(1)
				w.WriteHeader(http.StatusForbidden)
				fmt.Fprint(w, `{"error_code":"EndPoint.0004","error_msg":"Authentication information is incorrect or you have no permissions."}`)
				return
			}
			gets.Add(1)
			fmt.Fprint(w, `{"id":"e1","status":"accepted"}`)
		})
		c, _ := tokenClient(t, h)
		for range 10 {
			_, err := call(t.Context(), c, otc.OpCreate)
			if !otc.IsAuth(err) || !strings.Contains(err.Error(), "lack the permission for create in project "+testPID) {
				t.Fatalf("create: error = %v, want a refusal naming the permission", err)
			}
			if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
				t.Fatalf("get after a 403 on create: %v", err)
			}
		}
		want(t, "creates sent", creates.Load(), int64(1))
		want(t, "gets sent", gets.Load(), int64(10))
	})

	t.Run("AK/SK signature expired names the clock", func(t *testing.T) {
		var n atomic.Int64
		h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			n.Add(1)
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error_code":"APIGW.0301","error_msg":"Incorrect IAM authentication information: calc ak sk signature fail:signature expired"}`)
		})
		srv := httptest.NewServer(h)
		t.Cleanup(srv.Close)
		clock := func() time.Time { return time.Date(2031, 1, 2, 3, 4, 5, 0, time.UTC) }
		opts := fastOptions(otc.Credentials{AccessKey: sim.AccessKey, SecretKey: sim.SecretKey, ProjectID: testPID}, srv.URL)
		opts.Now = clock
		c := newClient(t, opts)
		for range 5 {
			_, err := c.GetEndpoint(t.Context(), "e1")
			if !otc.IsAuth(err) || !strings.Contains(err.Error(), "this machine's clock (now 2031-01-02 03:04:05 UTC)") ||
				!strings.Contains(err.Error(), "NTP") {
				t.Fatalf("error = %v, want a refusal that names the clock", err)
			}
		}
		want(t, "requests", n.Load(), int64(1))
	})
}
