package otc_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
)

const (
	testUser     = "vpcepctl"
	testPassword = "Secr3t-Pa55word!"
	testDomain   = "OTC-EU-DE-00000000001000000001"
	testPName    = "eu-de_payments"
	testPID2     = "6e9dfd51d1124e8d8498dce894923a0d"
	testPName2   = "eu-de_ledger"
)

var projectsByName = map[string]string{testPName: testPID, testPName2: testPID2}

// fakeCloud is IAM (POST /v3/auth/tokens) and a VPCEP API that accepts the
// tokens IAM issued for the project in the path.
type fakeCloud struct {
	srv *httptest.Server

	mu       sync.Mutex
	tokenReq []map[string]any // decoded token request bodies
	issued   map[string]string
	seq      int
	vpcep    int
	// knobs
	iamDelay  time.Duration
	iamStatus int                            // 0 = issue tokens
	catalog   func(base, pid string) []any   // nil = a vpcep entry base/v1/pid
	expires   time.Duration                  // 0 = 24h
	reject    func(token string, n int) bool // VPCEP answers 401 when true
	answer    func(w http.ResponseWriter)    // VPCEP answer for accepted requests; nil = an endpoint
}

func newFakeCloud(t *testing.T) *fakeCloud {
	f := &fakeCloud{issued: map[string]string{}}
	f.srv = httptest.NewServer(f)
	t.Cleanup(f.srv.Close)
	return f
}

func (f *fakeCloud) tokenRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.tokenReq)
}

func (f *fakeCloud) vpcepRequests() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.vpcep
}

func (f *fakeCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == "/v3/auth/tokens" && r.Method == http.MethodPost {
		f.issue(w, r)
		return
	}
	parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/"), "/")
	if len(parts) < 3 || parts[0] != "v1" {
		http.NotFound(w, r)
		return
	}
	tok := r.Header.Get("X-Auth-Token")
	f.mu.Lock()
	f.vpcep++
	n := f.vpcep
	pid, ok := f.issued[tok]
	reject := f.reject != nil && f.reject(tok, n)
	answer := f.answer
	f.mu.Unlock()
	if !ok || pid != parts[1] || reject {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error_code":"EndPoint.0003","error_msg":"Authentication failed or authentication information is invalid."}`)
		return
	}
	if answer != nil {
		answer(w)
		return
	}
	fmt.Fprint(w, `{"id":"e1","status":"accepted"}`)
}

func (f *fakeCloud) issue(w http.ResponseWriter, r *http.Request) {
	var body map[string]any
	b, _ := io.ReadAll(r.Body)
	json.Unmarshal(b, &body)
	f.mu.Lock()
	f.tokenReq = append(f.tokenReq, body)
	f.seq++
	seq, delay, status := f.seq, f.iamDelay, f.iamStatus
	f.mu.Unlock()
	time.Sleep(delay)
	if status != 0 {
		w.WriteHeader(status)
		fmt.Fprintf(w, `{"error":{"code":%d,"title":"Unauthorized","message":"The username or password is wrong."}}`, status)
		return
	}
	var req struct {
		Auth struct {
			Identity struct {
				Password struct {
					User struct {
						Name, Password string
						Domain         struct{ Name string }
					}
				}
			}
			Scope struct {
				Project struct {
					ID, Name string
					Domain   *struct{ Name string }
				}
			}
		}
	}
	json.Unmarshal(b, &req)
	u := req.Auth.Identity.Password.User
	sc := req.Auth.Scope.Project
	pid := sc.ID
	if pid == "" && sc.Domain != nil && sc.Domain.Name == testDomain {
		pid = projectsByName[sc.Name]
	}
	if u.Name != testUser || u.Password != testPassword || u.Domain.Name != testDomain || pid == "" {
		w.WriteHeader(http.StatusUnauthorized)
		fmt.Fprint(w, `{"error":{"code":401,"title":"Unauthorized","message":"The username or password is wrong."}}`)
		return
	}
	tok := fmt.Sprintf("MIIDkgYJKoZIhvcNAQcC-issued-%d-%s", seq, pid)
	f.mu.Lock()
	f.issued[tok] = pid
	catalog := f.catalog
	exp := f.expires
	f.mu.Unlock()
	if exp == 0 {
		exp = 24 * time.Hour
	}
	var cat []any
	if catalog != nil {
		cat = catalog("http://"+r.Host, pid)
	} else {
		cat = []any{map[string]any{"type": "vpcep", "endpoints": []any{map[string]any{
			"interface": "public", "region": "eu-de", "region_id": "eu-de", "url": "http://" + r.Host + "/v1/" + pid}}}}
	}
	name := ""
	for n, id := range projectsByName {
		if id == pid {
			name = n
		}
	}
	out := map[string]any{"token": map[string]any{
		"expires_at": time.Now().Add(exp).UTC().Format("2006-01-02T15:04:05.000000Z"),
		"project":    map[string]any{"id": pid, "name": name, "domain": map[string]any{"name": testDomain}},
		"catalog":    cat,
		"methods":    []string{"password"},
	}}
	w.Header().Set("X-Subject-Token", tok)
	w.WriteHeader(http.StatusCreated)
	json.NewEncoder(w).Encode(out)
}

func passwordCreds(authURL string) otc.Credentials {
	return otc.Credentials{AuthURL: authURL + "/v3", Username: testUser, Password: testPassword,
		UserDomainName: testDomain, ProjectID: testPID, Region: "eu-de"}
}

func newProvider(t *testing.T, opts otc.Options) *otc.Provider {
	t.Helper()
	p, err := otc.NewProvider(opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// TestPasswordTokenScope checks the token request body for both scopes and
// that the client ends up in the right project.
func TestPasswordTokenScope(t *testing.T) {
	tests := []struct {
		name      string
		creds     func(otc.Credentials) otc.Credentials
		scope     map[string]any
		wantPID   string
		wantRegio string
	}{
		{
			name:    "by project id",
			creds:   func(c otc.Credentials) otc.Credentials { return c },
			scope:   map[string]any{"project": map[string]any{"id": testPID}},
			wantPID: testPID, wantRegio: "eu-de",
		},
		{
			name: "by project name",
			creds: func(c otc.Credentials) otc.Credentials {
				c.ProjectID, c.ProjectName, c.Region = "", testPName2, ""
				return c
			},
			scope:   map[string]any{"project": map[string]any{"name": testPName2, "domain": map[string]any{"name": testDomain}}},
			wantPID: testPID2, wantRegio: "eu-de", // from the catalog
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCloud(t)
			p := newProvider(t, fastOptions(tt.creds(passwordCreds(f.srv.URL)), ""))
			c, err := p.Client(t.Context(), "", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			want(t, "ProjectID", c.ProjectID(), tt.wantPID)
			want(t, "Region", c.Region(), tt.wantRegio)
			want(t, "BaseURL", c.BaseURL(), f.srv.URL)
			if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
				t.Fatal(err)
			}
			wantBody := map[string]any{"auth": map[string]any{
				"identity": map[string]any{
					"methods": []any{"password"},
					"password": map[string]any{"user": map[string]any{
						"name": testUser, "password": testPassword, "domain": map[string]any{"name": testDomain}}},
				},
				"scope": tt.scope,
			}}
			if f.tokenRequests() != 1 {
				t.Fatalf("%d token requests, want 1", f.tokenRequests())
			}
			got, _ := json.Marshal(f.tokenReq[0])
			wb, _ := json.Marshal(wantBody)
			if string(got) != string(wb) {
				t.Errorf("token request body\n got %s\nwant %s", got, wb)
			}
		})
	}
}

// TestTokenOncePerProject: concurrent first calls share one token request
// per project; later calls use the cached token.
func TestTokenOncePerProject(t *testing.T) {
	f := newFakeCloud(t)
	f.iamDelay = 30 * time.Millisecond
	p := newProvider(t, fastOptions(passwordCreds(f.srv.URL), ""))
	const n = 16
	clients := make([]*otc.Client, 2*n)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Go(func() {
			pid := testPID
			if i%2 == 1 {
				pid = testPID2
			}
			c, err := p.Client(t.Context(), "", pid, nil)
			if err != nil {
				t.Error(err)
				return
			}
			clients[i] = c
		})
	}
	wg.Wait()
	want(t, "token requests after concurrent Client calls", f.tokenRequests(), 2)
	for _, c := range clients {
		wg.Go(func() {
			if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want(t, "token requests after calls", f.tokenRequests(), 2)
	want(t, "VPCEP requests", f.vpcepRequests(), 2*n)
}

// TestTokenRefreshOn401: when the API rejects the token, concurrent
// requests share one new token and are each resent once.
func TestTokenRefreshOn401(t *testing.T) {
	f := newFakeCloud(t)
	f.iamDelay = 20 * time.Millisecond
	p := newProvider(t, fastOptions(passwordCreds(f.srv.URL), ""))
	c, err := p.Client(t.Context(), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	first := func(tok string, _ int) bool { return strings.Contains(tok, "-issued-1-") }
	f.mu.Lock()
	f.reject = first // the token IAM issued first is now revoked
	f.mu.Unlock()
	const n = 16
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	want(t, "token requests", f.tokenRequests(), 2)
	want(t, "VPCEP requests (each sent twice)", f.vpcepRequests(), 2*n)
}

// TestTokenRefreshOnlyOnce: a 401 that persists after the refresh is an
// error; the request was sent twice and one new token fetched.
func TestTokenRefreshOnlyOnce(t *testing.T) {
	f := newFakeCloud(t)
	f.reject = func(string, int) bool { return true }
	p := newProvider(t, fastOptions(passwordCreds(f.srv.URL), ""))
	c, err := p.Client(t.Context(), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.GetEndpoint(t.Context(), "e1")
	var ae *otc.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusUnauthorized {
		t.Fatalf("error = %v, want a 401 APIError", err)
	}
	want(t, "Classify", otc.Classify(err), otc.Permanent)
	want(t, "VPCEP requests", f.vpcepRequests(), 2)
	want(t, "token requests", f.tokenRequests(), 2)
}

// TestTokenExpiry: a token about to expire is replaced before use.
func TestTokenExpiry(t *testing.T) {
	f := newFakeCloud(t)
	f.expires = 2 * time.Hour
	var mu sync.Mutex
	now := time.Now()
	opts := fastOptions(passwordCreds(f.srv.URL), "")
	opts.Now = func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	p := newProvider(t, opts)
	c, err := p.Client(t.Context(), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	want(t, "token requests before expiry", f.tokenRequests(), 1)
	mu.Lock()
	now = now.Add(2*time.Hour - 30*time.Second) // within the minute before expiry
	mu.Unlock()
	if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	want(t, "token requests after expiry", f.tokenRequests(), 2)
}

// TestTokenErrors: a wrong password is not retried; an IAM outage is.
func TestTokenErrors(t *testing.T) {
	tests := []struct {
		name      string
		status    int
		password  string
		requests  int
		wantClass otc.Class
	}{
		{"wrong password", 0, "wrong", 1, otc.Permanent},
		{"IAM 503", http.StatusServiceUnavailable, testPassword, 4, otc.ServerError},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCloud(t)
			f.iamStatus = tt.status
			creds := passwordCreds(f.srv.URL)
			creds.Password = tt.password
			p := newProvider(t, fastOptions(creds, ""))
			_, err := p.Client(t.Context(), "", "", nil)
			var ae *otc.APIError
			if !errors.As(err, &ae) || ae.Op != otc.OpToken {
				t.Fatalf("error = %v, want a token APIError", err)
			}
			want(t, "Classify", otc.Classify(err), tt.wantClass)
			want(t, "token requests", f.tokenRequests(), tt.requests)
			if !strings.HasPrefix(err.Error(), "token: HTTP ") {
				t.Errorf("error %q does not name the operation and status", err)
			}
		})
	}
}

// TestAuthTokenMode: OS_AUTH_TOKEN is sent as is, no IAM request, no
// refresh on 401.
func TestAuthTokenMode(t *testing.T) {
	var tokens []string
	var mu sync.Mutex
	status := http.StatusOK
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		tokens = append(tokens, r.URL.Path+" "+r.Header.Get("X-Auth-Token"))
		w.WriteHeader(status)
		fmt.Fprint(w, `{"id":"e1"}`)
	}))
	t.Cleanup(srv.Close)
	env := map[string]string{"OS_AUTH_TOKEN": testToken, "OS_PROJECT_ID": testPID, "OS_REGION_NAME": "eu-de"}
	creds, err := otc.CredentialsFromEnv(func(k string) string { return env[k] }, "")
	if err != nil {
		t.Fatal(err)
	}
	want(t, "Mode", creds.Mode(), "token")
	c := newClient(t, fastOptions(creds, srv.URL))
	if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
		t.Fatal(err)
	}
	status = http.StatusUnauthorized
	if _, err := c.GetEndpoint(t.Context(), "e1"); !errors.As(err, new(*otc.APIError)) {
		t.Fatalf("error = %v, want an APIError", err)
	}
	wantReq := "/v1/" + testPID + "/vpc-endpoints/e1 " + testToken
	if len(tokens) != 2 || tokens[0] != wantReq || tokens[1] != wantReq {
		t.Errorf("requests = %q, want twice %q", tokens, wantReq)
	}
}

// TestVPCEPURL: --endpoint; else the catalog's vpcep URL, with or without
// /v1/{project_id}; else https://vpcep.{region}.otc.t-systems.com.
func TestVPCEPURL(t *testing.T) {
	entry := func(iface, region, url string) map[string]any {
		return map[string]any{"interface": iface, "region": region, "region_id": region, "url": url}
	}
	vpcep := func(eps ...any) []any {
		return []any{
			map[string]any{"type": "identity", "endpoints": []any{entry("public", "*", "https://iam.example/v3")}},
			map[string]any{"type": "vpcep", "endpoints": eps},
		}
	}
	tests := []struct {
		name     string
		catalog  func(base, pid string) []any
		region   string // the Client call's region
		endpoint string // Options.Endpoint
		want     string // "" = the fake cloud itself
		wantErr  bool
	}{
		{name: "catalog with /v1/{project_id}", catalog: func(b, pid string) []any { return vpcep(entry("public", "eu-de", b+"/v1/"+pid)) }},
		{name: "catalog with /v1/{project_id}/", catalog: func(b, pid string) []any { return vpcep(entry("public", "eu-de", b+"/v1/"+pid+"/")) }},
		{name: "catalog without project id", catalog: func(b, _ string) []any { return vpcep(entry("public", "eu-de", b)) }},
		{name: "catalog with /v1", catalog: func(b, _ string) []any { return vpcep(entry("public", "eu-de", b+"/v1")) }},
		{name: "catalog with a template", catalog: func(b, _ string) []any { return vpcep(entry("public", "eu-de", b+"/v1/$(tenant_id)s")) }},
		{name: "--endpoint wins over the catalog", endpoint: "https://vpcep.example.com/v1", want: "https://vpcep.example.com",
			catalog: func(b, _ string) []any { return vpcep(entry("public", "eu-de", b)) }},
		{name: "catalog entry of the client's region", region: "eu-nl",
			catalog: func(b, _ string) []any {
				return vpcep(entry("public", "eu-de", "https://vpcep.eu-de.example"), entry("public", "eu-nl", b+"/v1/x"))
			}},
		{name: "internal interface ignored, --endpoint used", endpoint: "https://vpcep.example.com/", want: "https://vpcep.example.com",
			catalog: func(b, _ string) []any { return vpcep(entry("internal", "eu-de", b)) }},
		{name: "no catalog, --endpoint", endpoint: "https://vpcep.example.com/v1/" + testPID, want: "https://vpcep.example.com",
			catalog: func(string, string) []any { return nil }},
		{name: "no catalog, no --endpoint", want: "https://vpcep.eu-de.otc.t-systems.com",
			catalog: func(string, string) []any { return nil }},
		{name: "other region, no --endpoint", region: "eu-nl", want: "https://vpcep.eu-nl.otc.t-systems.com",
			catalog: func(string, string) []any { return vpcep(entry("public", "eu-de", "https://vpcep.eu-de.example")) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeCloud(t)
			f.catalog = tt.catalog
			p := newProvider(t, fastOptions(passwordCreds(f.srv.URL), tt.endpoint))
			c, err := p.Client(t.Context(), tt.region, "", nil)
			if err != nil {
				t.Fatal(err)
			}
			if tt.want != "" {
				want(t, "BaseURL", c.BaseURL(), tt.want)
				return
			}
			want(t, "BaseURL", c.BaseURL(), f.srv.URL)
			if _, err := c.GetEndpoint(t.Context(), "e1"); err != nil {
				t.Fatal(err)
			}
		})
	}
	t.Run("no region anywhere", func(t *testing.T) {
		p := newProvider(t, fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID}, ""))
		if _, err := p.Client(t.Context(), "", "", nil); err == nil || !strings.Contains(err.Error(), "region") {
			t.Errorf("Client without region = %v, want an error about the region", err)
		}
	})
	t.Run("no project id", func(t *testing.T) {
		p := newProvider(t, fastOptions(otc.Credentials{Token: testToken, Region: "eu-de"}, ""))
		if _, err := p.Client(t.Context(), "", "", nil); err == nil || !strings.Contains(err.Error(), "project") {
			t.Errorf("Client without project = %v, want an error about the project", err)
		}
	})
}

func TestBaseURL(t *testing.T) {
	for in, out := range map[string]string{
		"https://vpcep.eu-de.otc.t-systems.com":                                     "https://vpcep.eu-de.otc.t-systems.com",
		"https://vpcep.eu-de.otc.t-systems.com/":                                    "https://vpcep.eu-de.otc.t-systems.com",
		"https://vpcep.eu-de.otc.t-systems.com/v1":                                  "https://vpcep.eu-de.otc.t-systems.com",
		"https://vpcep.eu-de.otc.t-systems.com/v1/":                                 "https://vpcep.eu-de.otc.t-systems.com",
		"https://vpcep.eu-de.otc.t-systems.com/v1/0df25bbc87a24b1f9c1d2e3f4a5b6c7d": "https://vpcep.eu-de.otc.t-systems.com",
		"https://vpcep.eu-de.otc.t-systems.com/v1/%(project_id)s":                   "https://vpcep.eu-de.otc.t-systems.com",
		"http://127.0.0.1:8787/v1/x/":                                               "http://127.0.0.1:8787",
	} {
		want(t, "BaseURL("+in+")", otc.BaseURL(in), out)
	}
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
}

const cloudsYAML = `clouds:
  otc:
    auth:
      auth_url: https://iam.eu-de.otc.t-systems.com/v3
      username: yaml-user
      password: yaml-password
      user_domain_name: OTC-EU-DE-1
      project_name: eu-de_yaml
    region_name: eu-de
  aksk:
    auth:
      ak: YAML-AK
      sk: yaml-sk
      security_token: yaml-security-token
      project_id: 11111111111111111111111111111111
    region_name: eu-nl
  private:
    auth:
      auth_url: https://iam.private.example/v3
      token: yaml-token-0123456789
      project_id: 11111111111111111111111111111111
    region_name: eu-de
    cacert: pki/private-ca.pem
    cert: pki/client.pem
    key: pki/client.key
  lab:
    auth:
      token: yaml-token-0123456789
    verify: false
  lab-ca:
    auth:
      token: yaml-token-0123456789
    verify: pki/lab-ca.pem
`

func TestCredentialsFromEnv(t *testing.T) {
	home := t.TempDir()
	writeFile(t, filepath.Join(home, ".config", "openstack", "clouds.yaml"), cloudsYAML)
	// The system-wide file is one of the test's own: never the machine's.
	system := filepath.Join(t.TempDir(), "etc", "clouds.yaml")
	writeFile(t, system, strings.ReplaceAll(cloudsYAML, "otc:", "system:"))
	defer otc.SetSystemClouds(system)()
	other := filepath.Join(t.TempDir(), "other.yaml")
	writeFile(t, other, strings.ReplaceAll(cloudsYAML, "yaml-user", "other-user"))
	bad := filepath.Join(t.TempDir(), "bad.yaml")
	writeFile(t, bad, "clouds:\n  otc:\n    auth: [password: "+testPassword+"\n")

	tests := []struct {
		name    string
		env     map[string]string
		cloud   string
		want    otc.Credentials
		wantErr string
	}{
		{
			name: "OS_CLOUD from ~/.config/openstack",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "otc"},
			want: otc.Credentials{AuthURL: "https://iam.eu-de.otc.t-systems.com/v3", Username: "yaml-user", Password: "yaml-password",
				UserDomainName: "OTC-EU-DE-1", ProjectName: "eu-de_yaml", Region: "eu-de"},
		},
		{
			name:  "--cloud wins over OS_CLOUD",
			env:   map[string]string{"HOME": home, "OS_CLOUD": "nope"},
			cloud: "aksk",
			want: otc.Credentials{AccessKey: "YAML-AK", SecretKey: "yaml-sk", SecurityToken: "yaml-security-token",
				ProjectID: "11111111111111111111111111111111", Region: "eu-nl"},
		},
		{
			name: "OS_* variables override clouds.yaml",
			env: map[string]string{"HOME": home, "OS_CLOUD": "otc", "OS_PASSWORD": "env-password", "OS_REGION_NAME": "eu-nl",
				"OS_PROJECT_ID": testPID},
			want: otc.Credentials{AuthURL: "https://iam.eu-de.otc.t-systems.com/v3", Username: "yaml-user", Password: "env-password",
				UserDomainName: "OTC-EU-DE-1", ProjectName: "eu-de_yaml", ProjectID: testPID, Region: "eu-nl"},
		},
		{
			name: "OS_CLIENT_CONFIG_FILE comes first",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "otc", "OS_CLIENT_CONFIG_FILE": other},
			want: otc.Credentials{AuthURL: "https://iam.eu-de.otc.t-systems.com/v3", Username: "other-user", Password: "yaml-password",
				UserDomainName: "OTC-EU-DE-1", ProjectName: "eu-de_yaml", Region: "eu-de"},
		},
		{
			name: "the system-wide clouds.yaml comes last",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "system"},
			want: otc.Credentials{AuthURL: "https://iam.eu-de.otc.t-systems.com/v3", Username: "yaml-user", Password: "yaml-password",
				UserDomainName: "OTC-EU-DE-1", ProjectName: "eu-de_yaml", Region: "eu-de"},
		},
		{
			name: "unknown cloud",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "missing"},
			wantErr: `clouds.yaml: cloud "missing" not found in ` + filepath.Join(home, ".config", "openstack", "clouds.yaml") +
				` (clouds: "aksk", "lab", "lab-ca", "otc", "private") or ` + system +
				` (clouds: "aksk", "lab", "lab-ca", "private", "system"); set OS_CLOUD or --cloud to one of those`,
		},
		{
			name:    "unreadable clouds.yaml",
			env:     map[string]string{"HOME": home, "OS_CLOUD": "otc", "OS_CLIENT_CONFIG_FILE": t.TempDir()}, // a directory
			wantErr: "clouds.yaml: read ",
		},
		{
			name:    "broken clouds.yaml",
			env:     map[string]string{"HOME": home, "OS_CLOUD": "otc", "OS_CLIENT_CONFIG_FILE": bad},
			wantErr: "not a valid clouds.yaml",
		},
		{
			name: "password variables, OS_DOMAIN_NAME, region from the project name",
			env: map[string]string{"OS_AUTH_URL": "https://iam/v3", "OS_USERNAME": "u", "OS_PASSWORD": "p",
				"OS_DOMAIN_NAME": "d", "OS_PROJECT_NAME": "eu-ch2_proj"},
			want: otc.Credentials{AuthURL: "https://iam/v3", Username: "u", Password: "p", UserDomainName: "d",
				ProjectName: "eu-ch2_proj", Region: "eu-ch2"},
		},
		{
			name: "clouds.yaml cacert, cert and key",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "private"},
			want: otc.Credentials{AuthURL: "https://iam.private.example/v3", Token: "yaml-token-0123456789",
				ProjectID: "11111111111111111111111111111111", Region: "eu-de",
				TLS: otc.TLS{CACert: "pki/private-ca.pem", Cert: "pki/client.pem", Key: "pki/client.key"}},
		},
		{
			name: "OS_CACERT, OS_CERT and OS_KEY override clouds.yaml",
			env: map[string]string{"HOME": home, "OS_CLOUD": "private", "OS_CACERT": "/ca.pem", "OS_CERT": "/c.pem",
				"OS_KEY": "/c.key"},
			want: otc.Credentials{AuthURL: "https://iam.private.example/v3", Token: "yaml-token-0123456789",
				ProjectID: "11111111111111111111111111111111", Region: "eu-de",
				TLS: otc.TLS{CACert: "/ca.pem", Cert: "/c.pem", Key: "/c.key"}},
		},
		{
			name: "clouds.yaml verify: false",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "lab"},
			want: otc.Credentials{Token: "yaml-token-0123456789", TLS: otc.TLS{Insecure: true}},
		},
		{
			name: "clouds.yaml verify: a CA file",
			env:  map[string]string{"HOME": home, "OS_CLOUD": "lab-ca"},
			want: otc.Credentials{Token: "yaml-token-0123456789", TLS: otc.TLS{CACert: "pki/lab-ca.pem"}},
		},
		{
			name: "AK/SK variables",
			env: map[string]string{"OS_ACCESS_KEY": "AK", "OS_SECRET_KEY": "SK", "OS_SECURITY_TOKEN": "ST",
				"OS_PROJECT_ID": testPID, "OS_REGION_NAME": "eu-de"},
			want: otc.Credentials{AccessKey: "AK", SecretKey: "SK", SecurityToken: "ST", ProjectID: testPID, Region: "eu-de"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := otc.CredentialsFromEnv(func(k string) string { return tt.env[k] }, tt.cloud)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("error = %v, want one containing %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), testPassword) {
					t.Errorf("error %q shows the password", err)
				}
				var ce *otc.ConfigError
				if !errors.As(err, &ce) {
					t.Errorf("error %v (%T) is not a *otc.ConfigError", err, err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("CredentialsFromEnv =\n%#v\nwant\n%#v\n(fields: %+v)", got, tt.want, fieldsOf(got))
			}
		})
	}
	t.Run("./clouds.yaml", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, filepath.Join(dir, "clouds.yaml"), strings.ReplaceAll(cloudsYAML, "yaml-user", "cwd-user"))
		t.Chdir(dir)
		got, err := otc.CredentialsFromEnv(func(k string) string { return map[string]string{"HOME": home, "OS_CLOUD": "otc"}[k] }, "")
		if err != nil {
			t.Fatal(err)
		}
		want(t, "Username", got.Username, "cwd-user")
	})
}

// fieldsOf shows every field (tests only: secrets included).
func fieldsOf(c otc.Credentials) string {
	type plain otc.Credentials
	return fmt.Sprintf("%+v", plain(c))
}

func TestCredentialsValidate(t *testing.T) {
	tests := []struct {
		creds   otc.Credentials
		mode    string
		wantErr string
	}{
		{otc.Credentials{AccessKey: "a", SecretKey: "s"}, "aksk", ""},
		{otc.Credentials{AccessKey: "a", SecretKey: "s", Password: "p", Token: "t"}, "token", ""},
		{otc.Credentials{AuthURL: "https://iam/v3", Username: "n", Password: "p", UserDomainName: "d", ProjectID: "x", Token: "t", AccessKey: "a", SecretKey: "s"}, "password", ""},
		{otc.Credentials{AuthURL: "iam.eu-de.otc.t-systems.com/v3", Username: "n", Password: "p", UserDomainName: "d", ProjectID: "x"}, "password", "is not a URL"},
		{otc.Credentials{Token: "t", Password: "p"}, "token", ""},
		{otc.Credentials{Password: "p"}, "password", "OS_AUTH_URL, OS_USERNAME, OS_USER_DOMAIN_NAME (or OS_DOMAIN_NAME) and OS_PROJECT_ID (or OS_PROJECT_NAME)"},
		{otc.Credentials{AuthURL: "https://iam/v3", Username: "n", Password: "p", UserDomainName: "d", ProjectName: "x"}, "password", ""},
		{otc.Credentials{}, "none", "none found"},
	}
	for _, tt := range tests {
		want(t, "Mode", tt.creds.Mode(), tt.mode)
		err := tt.creds.Validate()
		if tt.wantErr == "" && err != nil || tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)) {
			t.Errorf("Validate(%s) = %v, want %q", tt.creds, err, tt.wantErr)
		}
		var ce *otc.ConfigError
		if err != nil && !errors.As(err, &ce) {
			t.Errorf("Validate(%s) = %v (%T), want a *otc.ConfigError", tt.creds, err, err)
		}
	}
}

// TestCredentialsPrinting: no way of printing credentials shows a secret.
func TestCredentialsPrinting(t *testing.T) {
	c := otc.Credentials{AuthURL: "https://iam/v3", Username: "u", Password: testPassword, Token: testToken,
		AccessKey: "AK", SecretKey: "secret-key-value", SecurityToken: "security-token-value", ProjectID: testPID}
	var buf strings.Builder
	slogText(&buf).Info("creds", "creds", c, "ptr", &c)
	slogJSON(&buf).Info("creds", "creds", c, "ptr", &c)
	for _, f := range []string{"%v", "%+v", "%#v", "%s", "%q"} {
		fmt.Fprintf(&buf, f+"\n", c)
		fmt.Fprintf(&buf, f+"\n", &c)
	}
	fmt.Fprintf(&buf, "%+v\n", otc.Options{Credentials: c})
	out := buf.String()
	for _, s := range c.Secrets() {
		if strings.Contains(out, s) {
			t.Errorf("secret %q printed:\n%s", s, out)
		}
	}
	if !strings.Contains(out, "mode=password") {
		t.Errorf("output lacks the description:\n%s", out)
	}
}

// TestProviderOwnContext: a caller that gives up while another waits for
// the same token does not fail the other.
func TestProviderOwnContext(t *testing.T) {
	f := newFakeCloud(t)
	f.iamDelay = 100 * time.Millisecond
	p := newProvider(t, fastOptions(passwordCreds(f.srv.URL), ""))
	ctx, cancel := context.WithCancel(t.Context())
	errc := make(chan error, 1)
	go func() {
		_, err := p.Client(ctx, "", "", nil)
		errc <- err
	}()
	time.Sleep(20 * time.Millisecond) // the first caller's fetch is under way
	done := make(chan error, 1)
	go func() {
		_, err := p.Client(t.Context(), "", "", nil)
		done <- err
	}()
	time.Sleep(20 * time.Millisecond)
	cancel()
	if err := <-errc; !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled caller: %v, want context.Canceled", err)
	}
	if err := <-done; err != nil {
		t.Errorf("second caller: %v", err)
	}
}
