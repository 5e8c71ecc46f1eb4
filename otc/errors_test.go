package otc_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestConfigError: every configuration problem the client detects is a
// *otc.ConfigError (the CLI's exit code 3), with its message unchanged;
// runtime failures are not.
func TestConfigError(t *testing.T) {
	defer otc.SetSystemClouds(filepath.Join(t.TempDir(), "none.yaml"))()
	closed := httptest.NewServer(http.NotFoundHandler())
	closed.Close()
	f := newFakeCloud(t)
	f.iamStatus = http.StatusServiceUnavailable
	clientErr := func(creds otc.Credentials, endpoint string) func() error {
		return func() error {
			p, err := otc.NewProvider(fastOptions(creds, endpoint))
			if err != nil {
				return err
			}
			_, err = p.Client(t.Context(), "", "", nil)
			return err
		}
	}
	tests := []struct {
		name    string
		err     func() error
		config  bool
		wantMsg string // "" = not checked
	}{
		{"no project id", clientErr(otc.Credentials{Token: testToken, Region: "eu-de"}, ""), true,
			"credentials: no project id; set OS_PROJECT_ID or project_id in the manifest"},
		{"no region", clientErr(otc.Credentials{Token: testToken, ProjectID: testPID}, ""), true,
			"credentials: no region; set OS_REGION_NAME, --region or --endpoint"},
		{"incomplete password credentials", clientErr(otc.Credentials{Password: testPassword}, ""), true,
			"credentials: password authentication needs OS_AUTH_URL, OS_USERNAME, OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME) and OS_PROJECT_ID (or OS_PROJECT_NAME)"},
		{"no credentials", func() error { return otc.Credentials{}.Validate() }, true, ""},
		{"clouds.yaml not found", func() error {
			_, err := otc.CredentialsFromEnv(func(k string) string {
				return map[string]string{"HOME": t.TempDir(), "OS_CLIENT_CONFIG_FILE": filepath.Join(t.TempDir(), "none.yaml")}[k]
			}, "nope")
			return err
		}, true, ""},
		{"IAM unreachable", clientErr(passwordCreds(closed.URL), ""), false, ""},
		{"IAM answers 503", clientErr(passwordCreds(f.srv.URL), ""), false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.err()
			if err == nil {
				t.Fatal("no error")
			}
			var ce *otc.ConfigError
			if got := errors.As(err, &ce); got != tt.config {
				t.Errorf("errors.As(%v, *otc.ConfigError) = %v, want %v", err, got, tt.config)
			}
			if tt.wantMsg != "" {
				want(t, "message", err.Error(), tt.wantMsg)
			}
		})
	}
}

// TestIsAuth: 401 and 403 answers, of VPCEP and of IAM, are told apart
// from other failures, say so before the API's own text, and after it what
// the credentials lack.
func TestIsAuth(t *testing.T) {
	const (
		tokenRefused = "OS_AUTH_TOKEN was refused: it has expired or is not valid for project " + testPID +
			"; get a new token, or use password credentials, which vpcepctl renews itself"
		lacksGet = "the credentials lack the permission for get in project " + testPID + ": grant the user a VPCEP role or policy there"
	)
	tests := []struct {
		name    string
		status  int
		body    string
		auth    bool
		wantMsg string
		hint    string // what the credentials lack, after the message
	}{
		{"401 EndPoint.0003", 401, `{"error_code":"EndPoint.0003","error_msg":"Authentication failed."}`, true,
			"get: HTTP 401 EndPoint.0003: authentication failed: Authentication failed.", tokenRefused},
		{"403 EndPoint.0004", 403, `{"error_code":"EndPoint.0004","error_msg":"You have no permissions."}`, true,
			"get: HTTP 403 EndPoint.0004: permission denied: You have no permissions.", lacksGet},
		{"EndPoint.0003 with another status", 400, `{"error_code":"Endpoint.0003","error_msg":"Token invalid."}`, true,
			"get: HTTP 400 Endpoint.0003: authentication failed: Token invalid.", tokenRefused},
		{"401 without a body", 401, "", true, "get: HTTP 401: authentication failed", tokenRefused},
		{"API gateway 403", 403, `{"error_code":"APIGW.0302","error_msg":"The IAM user is not authorized.","request_id":"r1"}`, true,
			"get: HTTP 403 APIGW.0302: permission denied: The IAM user is not authorized. (request id r1)", lacksGet},
		{"404", 404, `{"error_code":"EndPoint.2006","error_msg":"The requested endpoint does not exist."}`, false,
			"get: HTTP 404 EndPoint.2006: The requested endpoint does not exist.", ""},
		{"500", 500, `{"error_code":"EndPoint.0001","error_msg":"System error."}`, false,
			"get: HTTP 500 EndPoint.0001: System error.", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, _ := tokenClient(t, serveBody(tt.status, tt.body, nil), func(o *otc.Options) { o.MaxRetries = 0 })
			_, err := c.GetEndpoint(t.Context(), "e1")
			want(t, "IsAuth", otc.IsAuth(err), tt.auth)
			wantMsg := tt.wantMsg
			if tt.hint != "" {
				wantMsg += "; " + tt.hint
			}
			want(t, "message", fmt.Sprint(err), wantMsg)
			var ae *otc.APIError
			if !errors.As(err, &ae) || ae.Status != tt.status {
				t.Errorf("error %v is not an *otc.APIError with status %d", err, tt.status)
			}
		})
	}
	t.Run("IAM wrong password", func(t *testing.T) {
		f := newFakeCloud(t)
		creds := passwordCreds(f.srv.URL)
		creds.Password = "wrong-password"
		_, err := newProvider(t, fastOptions(creds, "")).Client(t.Context(), "", "", nil)
		want(t, "IsAuth", otc.IsAuth(err), true)
		want(t, "message", fmt.Sprint(err), "token: HTTP 401: authentication failed: The username or password is wrong.; "+
			"IAM refused the user name, password or domain (OS_USERNAME, OS_PASSWORD, OS_USER_DOMAIN_NAME), or the project")
	})
	t.Run("VPCEP refuses a fresh token too", func(t *testing.T) {
		f := newFakeCloud(t)
		f.reject = func(string, int) bool { return true }
		c := newClient(t, fastOptions(passwordCreds(f.srv.URL), ""))
		_, err := c.GetEndpoint(t.Context(), "e1")
		want(t, "IsAuth", otc.IsAuth(err), true)
	})
	for _, err := range []error{nil, errors.New("other"), &otc.NetError{Op: otc.OpGet, Err: syscall.ECONNREFUSED},
		&otc.ConfigError{Msg: "credentials: none found"}} {
		want(t, fmt.Sprintf("IsAuth(%v)", err), otc.IsAuth(err), false)
	}
}

// TestRedactShortSecret: a secret under six characters is not scrubbed
// from messages (it would garble them); a realistic one is.
func TestRedactShortSecret(t *testing.T) {
	tests := []struct {
		password string
		wantMsg  string
	}{
		{"e", "The username or password is wrong (got e)."},
		{"pa55w", "The username or password is wrong (got pa55w)."},
		{"pa55wd", "The username or password is wrong (got [REDACTED])."},
		{testPassword, "The username or password is wrong (got [REDACTED])."},
	}
	for _, tt := range tests {
		t.Run(tt.password, func(t *testing.T) {
			h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.WriteHeader(http.StatusBadRequest)
				json.NewEncoder(w).Encode(map[string]string{"error_code": "EndPoint.0002",
					"error_msg": "The username or password is wrong (got " + tt.password + ")."})
			})
			c, _ := tokenClient(t, h, func(o *otc.Options) { o.Credentials.Password = tt.password })
			_, err := c.GetEndpoint(t.Context(), "e1")
			var ae *otc.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("error = %v, want an *otc.APIError", err)
			}
			want(t, "Message", ae.Message, tt.wantMsg)
		})
	}
}

// logRecord is one line of a JSON log.
type logRecord struct {
	Level   string `json:"level"`
	Msg     string `json:"msg"`
	Op      string `json:"op"`
	Attempt int    `json:"attempt"`
	Reason  string `json:"reason"`
	Err     string `json:"err"`
}

func retryRecords(t *testing.T, log *bytes.Buffer) []logRecord {
	t.Helper()
	var out []logRecord
	for _, line := range strings.Split(strings.TrimSpace(log.String()), "\n") {
		var r logRecord
		if err := json.Unmarshal([]byte(line), &r); err != nil {
			t.Fatalf("log line %q: %v", line, err)
		}
		if r.Msg == "retry" {
			out = append(out, r)
		}
	}
	return out
}

// TestRetryLogging: retries after network failures and server errors are
// logged at WARN with op, attempt, reason and a readable err; throttled
// retries at DEBUG only. The final error names the server and the number
// of attempts and keeps the cause for errors.Is.
func TestRetryLogging(t *testing.T) {
	// Servers that answer once, then go down (a restart: connection
	// refused on a host that answered is retried).
	closed := httptest.NewServer(&script{op: otc.OpList, steps: []step{okStep}})
	t.Cleanup(closed.Close)
	iamClosed := newFakeCloud(t)
	iamDown := newFakeCloud(t)
	iamDown.iamStatus = http.StatusServiceUnavailable

	tests := []struct {
		name      string
		opts      func() otc.Options
		inClient  bool   // the failure is in Provider.Client (the token)
		down      func() // when set, the call succeeds once, then down is called
		op        string
		level     string
		reason    string
		wantInErr string // in each retry record's err
		wantFinal string // the final error
	}{
		{
			name: "VPCEP unreachable",
			opts: func() otc.Options {
				return fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, closed.URL)
			},
			down:      closed.Close,
			op:        otc.OpList,
			level:     "WARN",
			reason:    "network",
			wantInErr: "list: cannot reach the VPCEP API at " + closed.URL + " (connection refused)",
			wantFinal: "list: cannot reach the VPCEP API at " + closed.URL + " (connection refused) after 4 attempts",
		},
		{
			name: "VPCEP 500",
			opts: func() otc.Options {
				s := httptest.NewServer(&script{op: otc.OpList, steps: []step{st500}})
				t.Cleanup(s.Close)
				return fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, s.URL)
			},
			op:        otc.OpList,
			level:     "WARN",
			reason:    "server_error",
			wantInErr: "list: HTTP 500 EndPoint.0001: System error. Please retry.",
			wantFinal: "list: HTTP 500 EndPoint.0001: System error. Please retry.",
		},
		{
			name: "VPCEP throttled",
			opts: func() otc.Options {
				s := httptest.NewServer(&script{op: otc.OpList, steps: []step{st429}})
				t.Cleanup(s.Close)
				return fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, s.URL)
			},
			op:        otc.OpList,
			level:     "DEBUG",
			reason:    "throttled",
			wantInErr: "list: HTTP 429 APIGW.0308",
			wantFinal: "list: HTTP 429 APIGW.0308: The throttling threshold has been reached",
		},
		{
			name:      "IAM unreachable",
			opts:      func() otc.Options { return fastOptions(passwordCreds(iamClosed.srv.URL), "") },
			inClient:  true,
			down:      iamClosed.srv.Close,
			op:        otc.OpToken,
			level:     "WARN",
			reason:    "network",
			wantInErr: "token: cannot reach " + iamClosed.srv.URL + "/v3 (connection refused)",
			wantFinal: "token: cannot reach " + iamClosed.srv.URL + "/v3 (connection refused) after 4 attempts",
		},
		{
			name:      "IAM 503",
			opts:      func() otc.Options { return fastOptions(passwordCreds(iamDown.srv.URL), "") },
			inClient:  true,
			op:        otc.OpToken,
			level:     "WARN",
			reason:    "server_error",
			wantInErr: "token: HTTP 503",
			wantFinal: "token: HTTP 503: The username or password is wrong.", // the fake's body
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log bytes.Buffer
			opts := tt.opts()
			opts.Logger = slogJSON(&log)
			opts.HTTPClient = &http.Client{Transport: &http.Transport{DisableKeepAlives: true}}
			p := newProvider(t, opts)
			c, err := p.Client(t.Context(), "", "", nil)
			if tt.down != nil {
				err = answerThenDown(t, p, c, err, tt.inClient, func() { tt.down(); log.Reset() })
			}
			if !tt.inClient {
				if err != nil {
					t.Fatal(err)
				}
				_, err = c.ListEndpoints(t.Context(), otc.ListOptions{})
			}
			if err == nil {
				t.Fatal("no error")
			}
			want(t, "final error", err.Error(), tt.wantFinal)
			recs := retryRecords(t, &log)
			if len(recs) != 3 {
				t.Fatalf("%d retry records, want 3 (MaxRetries 3):\n%s", len(recs), log.String())
			}
			for i, r := range recs {
				want(t, "level", r.Level, tt.level)
				want(t, "op", r.Op, tt.op)
				want(t, "attempt", r.Attempt, i+2)
				want(t, "reason", r.Reason, tt.reason)
				if !strings.HasPrefix(r.Err, tt.wantInErr) {
					t.Errorf("retry err = %q, want it to start with %q", r.Err, tt.wantInErr)
				}
				for _, noise := range []string{"dial tcp", "/v1/", "/auth/tokens", "limit=", "*otc.", "*net."} {
					if strings.Contains(r.Err, noise) {
						t.Errorf("retry err %q contains %q", r.Err, noise)
					}
				}
			}
			if tt.reason == "network" {
				if !errors.Is(err, syscall.ECONNREFUSED) {
					t.Errorf("errors.Is(%v, ECONNREFUSED) = false; the cause must stay wrapped", err)
				}
				var oe *net.OpError
				if !errors.As(err, &oe) {
					t.Errorf("errors.As(%v, *net.OpError) = false", err)
				}
			}
		})
	}
}

// answerThenDown has the server answer (c, and clientErr, are the result
// of p.Client; with inClient the token was the answer), calls down and, with
// inClient, returns the error of a token request for another project.
func answerThenDown(t *testing.T, p *otc.Provider, c *otc.Client, clientErr error, inClient bool, down func()) error {
	t.Helper()
	if clientErr == nil && !inClient {
		_, clientErr = c.ListEndpoints(t.Context(), otc.ListOptions{})
	}
	if clientErr != nil {
		t.Fatalf("before the server went down: %v", clientErr)
	}
	down()
	if !inClient {
		return nil
	}
	_, err := p.Client(t.Context(), "", testPID2, nil)
	return err
}

// TestNetErrorText: the cause is named in plain words; without a URL the
// text is the operation and the cause, as before.
func TestNetErrorText(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: &netSyscallError{syscall.ECONNREFUSED}}
	tests := []struct {
		err  *otc.NetError
		want string
	}{
		{&otc.NetError{Op: otc.OpGet, Err: refused, URL: "https://vpcep.example", Attempts: 9},
			"get: cannot reach the VPCEP API at https://vpcep.example (connection refused) after 9 attempts"},
		{&otc.NetError{Op: otc.OpToken, Sent: true, Err: refused, URL: "https://iam.example/v3", Attempts: 1},
			"token: cannot reach https://iam.example/v3 (connection refused) after 1 attempt"},
		{&otc.NetError{Op: otc.OpCreate, Sent: true, Err: &net.OpError{Op: "read", Net: "tcp", Err: &netSyscallError{syscall.ECONNRESET}},
			URL: "https://vpcep.example", Attempts: 1},
			"create: no answer from the VPCEP API at https://vpcep.example (connection reset) after 1 attempt"},
		{&otc.NetError{Op: otc.OpGet, Err: &net.OpError{Op: "dial", Net: "tcp", Err: &net.DNSError{Err: "no such host", Name: "vpcep.example", IsNotFound: true}},
			URL: "https://vpcep.example", Attempts: 2},
			"get: cannot reach the VPCEP API at https://vpcep.example (no such host) after 2 attempts"},
		{&otc.NetError{Op: otc.OpGet, Err: errors.New("tls: failed to verify certificate"), URL: "https://vpcep.example"},
			"get: cannot reach the VPCEP API at https://vpcep.example (tls: failed to verify certificate)"},
		{&otc.NetError{Op: otc.OpGet, Err: errors.New("pacer: rate limit would pass the deadline")},
			"get: pacer: rate limit would pass the deadline"},
	}
	for _, tt := range tests {
		want(t, "Error", tt.err.Error(), tt.want)
	}
}

// netSyscallError stands in for *os.SyscallError ("connect: ...").
type netSyscallError struct{ errno syscall.Errno }

func (e *netSyscallError) Error() string { return "connect: " + e.errno.Error() }
func (e *netSyscallError) Unwrap() error { return e.errno }

// TestAttemptsOfDeleteAndTag: DeleteEndpoint and TagAction count their
// HTTP attempts, retries included, as CreateEndpoint does.
func TestAttemptsOfDeleteAndTag(t *testing.T) {
	for _, op := range []string{otc.OpDelete, otc.OpTag} {
		for _, tt := range []struct {
			name  string
			steps []step
			n     int
			ok    bool
		}{
			{"success", []step{okStep}, 1, true},
			{"429, 500, success", []step{st429, st500, okStep}, 3, true},
			{"404", []step{st404}, 1, false},
			{"500 throughout", []step{st500}, 4, false},
		} {
			t.Run(op+"/"+tt.name, func(t *testing.T) {
				c, _ := tokenClient(t, &script{op: op, steps: tt.steps})
				var n int
				var err error
				if op == otc.OpDelete {
					n, err = c.DeleteEndpoint(t.Context(), "e1")
				} else {
					n, err = c.TagAction(t.Context(), "e1", "create", []vpcep.Tag{{Key: "k", Value: "v"}})
				}
				want(t, "attempts", n, tt.n)
				want(t, "ok", err == nil, tt.ok)
			})
		}
	}
}
