package otc_test

// Found by the adversarial review of issue 11 ("Secrets stay home"): tests that tried to break the
// implementation. Each test states what it expects; a failing test is a
// finding (see the review report).

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
)

// TestErrorFieldsRedacted: "one redaction set per run ... applied
// to every error". An API that echoes the learned token in X-Request-Id
// (or the body's request_id, or error_code) gets it printed in the error
// text: only APIError.Message is redacted.
func TestErrorFieldsRedacted(t *testing.T) {
	f := newFakeCloud(t)
	var mode string
	var mu sync.Mutex
	f.answer = func(w http.ResponseWriter) {
		mu.Lock()
		m := mode
		mu.Unlock()
		f.mu.Lock()
		var tok string
		for k := range f.issued {
			tok = k
		}
		f.mu.Unlock()
		switch m {
		case "header":
			w.Header().Set("X-Request-Id", tok)
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"error_code":"EndPoint.0002","error_msg":"bad"}`)
		case "body":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error_code":"EndPoint.0002","error_msg":"bad","request_id":%q}`, tok)
		case "code":
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprintf(w, `{"error_code":%q,"error_msg":"bad"}`, tok)
		}
	}
	opts := fastOptions(passwordCreds(f.srv.URL), "")
	opts.MaxRetries = 0
	c := newClient(t, opts)
	for _, m := range []string{"header", "body", "code"} {
		t.Run(m, func(t *testing.T) {
			mu.Lock()
			mode = m
			mu.Unlock()
			_, err := c.GetEndpoint(t.Context(), "e1")
			if err == nil {
				t.Fatal("GetEndpoint succeeded")
			}
			if strings.Contains(err.Error(), "MIIDkgYJKoZIhvcNAQcC-issued-") {
				t.Errorf("the learned token is in the error text: %v", err)
			}
		})
	}
}

// TestRedactorMissesQuotedForms: the Redactor knows a secret raw
// and JSON-escaped once. The same secret quoted by strconv.Quote (as
// plan reasons quote tag values) or JSON-escaped twice (a quoted reason
// inside a JSON plan) is not found.
func TestRedactorMissesQuotedForms(t *testing.T) {
	for _, secret := range []string{`pa"ss&word-0123`, `pass\word,0123`, `pa"ssword-0123`} {
		r := otc.NewRedactor(secret)
		quoted := strconv.Quote(secret)
		twice, _ := jsonString(quoted)
		for name, text := range map[string]string{"strconv.Quote": quoted, "JSON of a quoted string": twice} {
			// Any escaping only adds backslashes (\" \\) or \uXXXX: with the
			// backslashes gone, the secret must not read through.
			if red := r.Redact(text); strings.Contains(strings.ReplaceAll(red, `\`, ""), strings.ReplaceAll(secret, `\`, "")) {
				t.Errorf("%s of %q: Redact(%s) = %s, the secret shows", name, secret, text, red)
			}
		}
	}
}

func jsonString(s string) (string, error) {
	b, err := json.Marshal(s)
	return string(b), err
}

// TestPlainHTTPWithoutPasswordMode: a plain-http VPCEP URL is
// allowed whenever OS_AUTH_URL is plain http, even in token and AK/SK mode
// where the auth URL is never used. A user whose openrc exports an http
// OS_AUTH_URL next to OS_AUTH_TOKEN then sends the token in clear text to
// a non-loopback host, without a warning.
func TestPlainHTTPWithoutPasswordMode(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, r.Host+" X-Auth-Token="+r.Header.Get("X-Auth-Token")+" X-Security-Token="+r.Header.Get("X-Security-Token"))
		mu.Unlock()
		fmt.Fprint(w, `{"id":"e1","status":"accepted"}`)
	}))
	t.Cleanup(srv.Close)
	// Every dial goes to the loopback server: the host name stays
	// vpcep.example.com, a host on the network.
	tr := &http.Transport{DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
		return (&net.Dialer{}).DialContext(ctx, network, srv.Listener.Addr().String())
	}}
	for _, tt := range []struct {
		name  string
		creds otc.Credentials
	}{
		{"token", otc.Credentials{Token: testToken, ProjectID: testPID, AuthURL: "http://iam.example.com/v3"}},
		{"aksk", otc.Credentials{AccessKey: "AK0123456789", SecretKey: "sk-0123456789-secret", SecurityToken: "temporary-security-token",
			ProjectID: testPID, AuthURL: "http://iam.example.com/v3"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			opts := fastOptions(tt.creds, "http://vpcep.example.com")
			opts.HTTPClient = &http.Client{Transport: tr}
			opts.Logger = slogText(&logs)
			p, err := otc.NewProvider(opts)
			if err != nil {
				t.Fatal(err)
			}
			c, err := p.Client(t.Context(), "", "", nil)
			if err != nil {
				return // refused: what the policy promises for a token-bearing call
			}
			c.GetEndpoint(t.Context(), "e1")
			mu.Lock()
			got := append([]string(nil), seen...)
			mu.Unlock()
			warned := strings.Contains(logs.String(), "level=WARN")
			t.Errorf("%s mode: plain-http request to vpcep.example.com sent (%q), warning logged: %v", tt.name, got, warned)
		})
	}
}

// TestCloudsVerifyNo: openstacksdk reads clouds.yaml with YAML 1.1
// (PyYAML), where "verify: no" is false. vpcepctl reads it as a CA file
// named "no".
func TestCloudsVerifyNo(t *testing.T) {
	dir := t.TempDir()
	defer otc.SetSystemClouds(filepath.Join(dir, "none.yaml"))()
	path := filepath.Join(dir, "clouds.yaml")
	os.WriteFile(path, []byte("clouds:\n  c:\n    verify: no\n    auth:\n      auth_url: https://iam.example.com/v3\n"), 0o600)
	env := map[string]string{"OS_CLIENT_CONFIG_FILE": path, "HOME": dir}
	creds, err := otc.CredentialsFromEnv(func(k string) string { return env[k] }, "c")
	if err != nil {
		t.Fatal(err)
	}
	if !creds.TLS.Insecure || creds.TLS.CACert != "" {
		t.Errorf("verify: no gives TLS %+v, want Insecure (as openstacksdk reads it) or a clear error", creds.TLS)
	}
}

// BenchmarkRedactManyTokens: under a skewed clock every project's
// token is renewed once a minute and every token stays in the run's
// Redactor, which scans the whole text once per secret. tokens=2400 is 20
// projects for two hours; text is 1 MiB of report (a 100k-endpoint report
// is about 30 MiB), then one short log attribute.
//
//	go test ./otc -run '^$' -bench RedactManyTokens -benchtime 3x
func BenchmarkRedactManyTokens(b *testing.B) {
	row := `{"action": "create", "set": "payments", "name": "app-000123", "project_id": "0df25bbc87a24b1f9c1d2e3f4a5b6c7d", "id": "8a3d2f0e-1c2b-4d5e-8f90-0123456789ab", "status": "accepted", "attempts": 1, "error": ""},` + "\n"
	report := strings.Repeat(row, (1<<20)/len(row))
	attr := "create payments/app-000123: HTTP 400 EndPoint.0002: Parameter error."
	for _, n := range []int{1, 100, 2400} {
		secrets := make([]string, n)
		for i := range secrets {
			// OTC tokens are PKI tokens of a few kilobytes starting MII.
			secrets[i] = "MIIDkgYJKoZIhvcNAQcC" + strings.Repeat(fmt.Sprintf("%04d", i), 500)
		}
		r := otc.NewRedactor(secrets...)
		b.Run(fmt.Sprintf("tokens=%d/report-1MiB", n), func(b *testing.B) {
			b.SetBytes(int64(len(report)))
			for range b.N {
				r.Redact(report)
			}
		})
		b.Run(fmt.Sprintf("tokens=%d/log-attr", n), func(b *testing.B) {
			for range b.N {
				r.Redact(attr)
			}
		})
	}
}

// TestSkewedClockRealTime: issue 11's "Done when" asks for at most
// two IAM calls per project for a run of 500 API calls with a skewed
// clock. TestSkewedClockTokenReuse proves it with a clock that stands
// still during the 500 calls; in a real run the clock moves (500 calls at
// --rate 10 plus the waits for creates take minutes), and a token whose
// expires_at is past by this clock is renewed every minute. IAM answers
// issued_at (and a Date header): the token's lifetime is known in IAM's
// own clock, so a skewed local clock need not shorten it.
func TestSkewedClockRealTime(t *testing.T) {
	s := sim.New(sim.Options{})
	var mu sync.Mutex
	now := time.Now().Add(24 * time.Hour) // this machine's clock, a day fast
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	rec := newRecorder()
	c := simClient(t, s, func(o *otc.Options) { o.Now, o.Observer = clock, rec })
	for range 500 { // 500 calls over five minutes
		if _, err := c.EndpointQuota(t.Context()); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		now = now.Add(600 * time.Millisecond)
		mu.Unlock()
	}
	if n := rec.count(rec.requests, "token 201"); n > 2 {
		t.Errorf("%d IAM calls for 500 API calls over 5 minutes with a clock a day fast, want at most 2", n)
	}
}
