package otc

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/go-retryablehttp"
	"go.yaml.in/yaml/v3"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// Credentials say how to authenticate. Exactly one mode is used, the first
// that is set, in the order DESIGN.md gives (see Mode): a password (with
// AuthURL), a fixed Token, AK/SK (AccessKey and SecretKey). Its String
// method never shows a secret.
type Credentials struct {
	AuthURL        string // IAM endpoint, e.g. https://iam.eu-de.otc.t-systems.com/v3
	Username       string
	Password       string
	UserDomainName string
	ProjectID      string
	ProjectName    string
	Region         string
	Token          string // OS_AUTH_TOKEN
	AccessKey      string
	SecretKey      string
	SecurityToken  string // temporary AK/SK
	TLS            TLS    // certificate checks and client certificate
}

// Mode names the authentication mode the credentials select.
func (c Credentials) Mode() string {
	// The order DESIGN.md gives: password (from clouds.yaml or OS_*), then
	// a token, then AK/SK.
	switch {
	case c.Password != "" && c.AuthURL != "":
		return "password"
	case c.Token != "":
		return "token"
	case c.AccessKey != "" && c.SecretKey != "":
		return "aksk"
	case c.Password != "":
		return "password" // incomplete: Validate says what is missing
	}
	return "none"
}

// String describes the credentials without secrets.
func (c Credentials) String() string {
	return fmt.Sprintf("mode=%s auth_url=%s user=%s project_id=%s project_name=%s region=%s",
		c.Mode(), c.AuthURL, c.Username, c.ProjectID, c.ProjectName, c.Region)
}

// GoString keeps %#v from printing secrets.
func (c Credentials) GoString() string { return "otc.Credentials{" + c.String() + "}" }

// LogValue keeps slog (text and JSON handlers alike) from logging secrets.
func (c Credentials) LogValue() slog.Value { return slog.StringValue(c.String()) }

// Secrets returns the secret values (for redaction and for tests that prove
// they never leak). Redaction skips those under six characters, which are
// no realistic secrets and cannot be scrubbed from a message without
// garbling it (see minRedactLen).
func (c Credentials) Secrets() []string {
	var out []string
	for _, s := range []string{c.Password, c.Token, c.SecretKey, c.SecurityToken} {
		if s != "" {
			out = append(out, s)
		}
	}
	return out
}

// Validate checks that the credentials are complete for their mode. Its
// errors are *ConfigError.
func (c Credentials) Validate() error {
	switch c.Mode() {
	case "aksk", "token":
		return nil
	case "password":
		var missing []string
		if c.AuthURL == "" {
			missing = append(missing, "OS_AUTH_URL")
		}
		if c.Username == "" {
			missing = append(missing, "OS_USERNAME")
		}
		if c.UserDomainName == "" {
			missing = append(missing, "OS_USER_DOMAIN_NAME")
		}
		if c.ProjectID == "" && c.ProjectName == "" {
			missing = append(missing, "OS_PROJECT_ID or OS_PROJECT_NAME")
		}
		if len(missing) > 0 {
			return configErrorf("credentials: password authentication needs %s", strings.Join(missing, ", "))
		}
		if u, err := url.Parse(c.AuthURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			return configErrorf("credentials: OS_AUTH_URL %q is not a URL; want e.g. https://iam.eu-de.otc.t-systems.com/v3", c.AuthURL)
		}
		return nil
	}
	return configErrorf("credentials: none found; set OS_CLOUD (clouds.yaml), OS_AUTH_URL/OS_USERNAME/OS_PASSWORD, OS_AUTH_TOKEN with --endpoint, or OS_ACCESS_KEY/OS_SECRET_KEY")
}

// systemClouds is the system-wide clouds.yaml (a variable so that tests
// never read the machine's own).
var systemClouds = "/etc/openstack/clouds.yaml"

// CloudsPaths are the places clouds.yaml is looked for, in order (the
// file named by OS_CLIENT_CONFIG_FILE comes before them).
func CloudsPaths(home string) []string {
	return []string{
		"clouds.yaml",
		filepath.Join(home, ".config", "openstack", "clouds.yaml"),
		systemClouds,
	}
}

// CredentialsFromEnv reads credentials the OpenStack way: cloud (or
// OS_CLOUD) selects an entry of clouds.yaml (OS_CLIENT_CONFIG_FILE, then
// CloudsPaths; the first file that has the cloud), and OS_* variables fill
// in or override its values. getenv is os.Getenv in production. A cloud
// that cannot be found or read is a *ConfigError.
func CredentialsFromEnv(getenv func(string) string, cloud string) (Credentials, error) {
	var c Credentials
	if cloud == "" {
		cloud = getenv("OS_CLOUD")
	}
	if cloud != "" {
		home, _ := os.UserHomeDir()
		if h := getenv("HOME"); h != "" {
			home = h
		}
		paths := CloudsPaths(home)
		if f := getenv("OS_CLIENT_CONFIG_FILE"); f != "" {
			paths = append([]string{f}, paths...)
		}
		cc, err := loadCloud(paths, cloud)
		if err != nil {
			return c, err
		}
		c = cc
	}
	set := func(dst *string, keys ...string) {
		for _, k := range keys {
			if v := getenv(k); v != "" {
				*dst = v
				return
			}
		}
	}
	set(&c.AuthURL, "OS_AUTH_URL")
	set(&c.Username, "OS_USERNAME")
	set(&c.Password, "OS_PASSWORD")
	set(&c.UserDomainName, "OS_USER_DOMAIN_NAME", "OS_DOMAIN_NAME")
	set(&c.ProjectID, "OS_PROJECT_ID", "OS_TENANT_ID")
	set(&c.ProjectName, "OS_PROJECT_NAME", "OS_TENANT_NAME")
	set(&c.Region, "OS_REGION_NAME")
	set(&c.Token, "OS_AUTH_TOKEN")
	set(&c.AccessKey, "OS_ACCESS_KEY", "OS_ACCESS_KEY_ID")
	set(&c.SecretKey, "OS_SECRET_KEY", "OS_SECRET_ACCESS_KEY")
	set(&c.SecurityToken, "OS_SECURITY_TOKEN")
	set(&c.TLS.CACert, "OS_CACERT")
	set(&c.TLS.Cert, "OS_CERT")
	set(&c.TLS.Key, "OS_KEY")
	if c.Region == "" && c.ProjectName != "" {
		// OTC project names start with the region: eu-de_myproject.
		if i := strings.IndexByte(c.ProjectName, '_'); i > 0 {
			c.Region = c.ProjectName[:i]
		} else {
			c.Region = c.ProjectName
		}
	}
	return c, nil
}

func loadCloud(paths []string, name string) (Credentials, error) {
	var c Credentials
	for _, p := range paths {
		data, err := os.ReadFile(p)
		if errors.Is(err, os.ErrNotExist) {
			continue
		}
		if err != nil {
			return c, &ConfigError{Msg: "clouds.yaml", Err: err}
		}
		var doc struct {
			Clouds map[string]struct {
				Auth struct {
					AuthURL        string `yaml:"auth_url"`
					Username       string `yaml:"username"`
					Password       string `yaml:"password"`
					UserDomainName string `yaml:"user_domain_name"`
					DomainName     string `yaml:"domain_name"`
					ProjectID      string `yaml:"project_id"`
					ProjectName    string `yaml:"project_name"`
					Token          string `yaml:"token"`
					AK             string `yaml:"ak"`
					SK             string `yaml:"sk"`
					AccessKey      string `yaml:"access_key"`
					SecretKey      string `yaml:"secret_key"`
					SecurityToken  string `yaml:"security_token"`
				} `yaml:"auth"`
				RegionName string `yaml:"region_name"`
				CACert     string `yaml:"cacert"`
				Cert       string `yaml:"cert"`
				Key        string `yaml:"key"`
				Verify     any    `yaml:"verify"` // false, or (as requests takes it) a CA file
			} `yaml:"clouds"`
		}
		if err := yaml.Unmarshal(data, &doc); err != nil {
			return c, configErrorf("%s: not a valid clouds.yaml", p)
		}
		cl, ok := doc.Clouds[name]
		if !ok {
			continue
		}
		a := cl.Auth
		c = Credentials{
			AuthURL: a.AuthURL, Username: a.Username, Password: a.Password,
			UserDomainName: firstNonEmpty(a.UserDomainName, a.DomainName),
			ProjectID:      a.ProjectID, ProjectName: a.ProjectName, Region: cl.RegionName,
			Token: a.Token, AccessKey: firstNonEmpty(a.AK, a.AccessKey), SecretKey: firstNonEmpty(a.SK, a.SecretKey),
			SecurityToken: a.SecurityToken,
			TLS:           TLS{CACert: cl.CACert, Cert: cl.Cert, Key: cl.Key},
		}
		switch v := cl.Verify.(type) {
		case bool:
			c.TLS.Insecure = !v
		case string:
			if b, err := strconv.ParseBool(v); err == nil {
				c.TLS.Insecure = !b
			} else if c.TLS.CACert == "" {
				c.TLS.CACert = v
			}
		}
		return c, nil
	}
	return c, configErrorf("clouds.yaml: cloud %q not found in %s", name, strings.Join(paths, ", "))
}

// Token lifetimes. A token is renewed tokenMargin before its expires_at,
// but never sooner than minTokenRenewal after it was fetched: a token whose
// expires_at is past or near by this machine's clock (a skewed clock, or
// tokens that short-lived) would otherwise be fetched for every request.
// Such a token (less than minTokenLife to live when fetched) is reported
// once per run.
const (
	tokenMargin     = time.Minute
	minTokenRenewal = time.Minute
	minTokenLife    = 5 * time.Minute
)

// token is a project-scoped IAM token.
type token struct {
	value     string
	projectID string
	// catalog holds the public vpcep URLs of the token's catalog by region
	// ("*" or "" for an entry without region), without /v1/{pid}.
	catalog   map[string]string
	expires   time.Time
	fetched   time.Time // by this machine's clock
	refreshAt time.Time // zero: used until refused (no expires_at)
	// renewed is set on a token fetched because its predecessor was
	// refused: if it is refused too within minTokenRenewal, the refusal
	// stands (no third token).
	renewed bool
}

// usable reports whether the token may still be sent at now.
func (t *token) usable(now time.Time) bool {
	return t.refreshAt.IsZero() || now.Before(t.refreshAt)
}

// endpoint returns the catalog's VPCEP base URL for region, and the region
// it belongs to. With region empty, a catalog of one region answers.
func (t *token) endpoint(region string) (string, string) {
	if region != "" {
		if u, ok := t.catalog[region]; ok {
			return u, region
		}
	}
	for _, r := range []string{"*", ""} {
		if u, ok := t.catalog[r]; ok {
			return u, region
		}
	}
	if region == "" && len(t.catalog) == 1 {
		for r, u := range t.catalog {
			return u, r
		}
	}
	return "", region
}

// tokenSource fetches and caches one token per project. Concurrent callers
// that need the same project's token share one fetch.
type tokenSource struct {
	creds    Credentials
	http     *retryablehttp.Client
	now      func() time.Time
	log      *slog.Logger
	redactor *Redactor
	skewOnce sync.Once

	mu       sync.Mutex
	tokens   map[string]*token // by project id and by "name:"+project name
	inflight map[string]*tokenCall
}

// tokenCall is a fetch in progress; done is closed when tok or err is set.
type tokenCall struct {
	done chan struct{}
	tok  *token
	err  error
}

func newTokenSource(opts Options) *tokenSource {
	s := &tokenSource{creds: opts.Credentials, now: opts.Now, log: opts.Logger, redactor: opts.Redactor,
		tokens: map[string]*token{}, inflight: map[string]*tokenCall{}}
	rc := retryablehttp.NewClient()
	rc.HTTPClient = &http.Client{
		Transport: &tokenTransport{base: baseTransport(opts.HTTPClient), obs: opts.Observer, now: opts.Now},
		Timeout:   opts.RequestTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			return refuseRedirect(OpToken, req, via)
		},
	}
	rc.Logger = nil
	rc.RetryMax = opts.MaxRetries
	rc.RetryWaitMin, rc.RetryWaitMax = opts.RetryWaitMin, opts.RetryWaitMax
	rc.Backoff = Backoff
	rc.ErrorHandler = retryablehttp.PassthroughErrorHandler
	// A token request has no effect but the token: any failure that may be
	// transient is retried, whether or not the request was sent. Retries
	// are logged as the VPCEP calls' are (see logRetry).
	rc.CheckRetry = func(ctx context.Context, resp *http.Response, err error) (bool, error) {
		if ctx.Err() != nil {
			return false, ctx.Err()
		}
		st := tokenStateFrom(ctx)
		var cl interface{ Class() Class }
		if errors.As(err, &cl) && cl.Class() == Permanent { // a redirect, a certificate
			return false, nil
		}
		if err != nil {
			st.class = NetworkBeforeSend
			st.lastErr = &NetError{Op: OpToken, Sent: true, Err: redactURLError(err), URL: st.server}
			return true, nil
		}
		ae := &APIError{Op: OpToken, Status: resp.StatusCode}
		st.class, st.lastErr = ae.Class(), ae
		return st.class == Throttled || st.class == ServerError, nil
	}
	rc.RequestLogHook = func(_ retryablehttp.Logger, req *http.Request, i int) {
		st := tokenStateFrom(req.Context())
		st.n = i + 1
		if i == 0 {
			return
		}
		logRetry(opts.Logger, OpToken, st.n, st.class.String(), st.lastErr)
		if opts.Observer != nil {
			opts.Observer.Retry(OpToken, st.class.String())
		}
	}
	s.http = rc
	return s
}

// tokenState is the state of one token request across its attempts, kept
// in its context.
type tokenState struct {
	server  string // the IAM URL, for messages
	n       int    // attempts made
	class   Class  // of the last failed attempt (the retry reason)
	lastErr error  // of the last failed attempt, fit for logs
}

type tokenStateKey struct{}

func tokenStateFrom(ctx context.Context) *tokenState {
	st, _ := ctx.Value(tokenStateKey{}).(*tokenState)
	if st == nil {
		st = &tokenState{}
	}
	return st
}

// tokenTransport counts token requests for the Observer.
type tokenTransport struct {
	base http.RoundTripper
	obs  Observer
	now  func() time.Time
}

func (t *tokenTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	start := t.now()
	resp, err := t.base.RoundTrip(req)
	if t.obs != nil {
		code := "error"
		if err == nil {
			code = strconv.Itoa(resp.StatusCode)
		}
		t.obs.Request(OpToken, code, t.now().Sub(start))
	}
	if err != nil {
		if te := tlsFailure(OpToken, req.URL, err); te != nil {
			return nil, te
		}
	}
	return resp, err
}

type tokenRequest struct {
	Auth struct {
		Identity struct {
			Methods  []string `json:"methods"`
			Password struct {
				User struct {
					Name     string `json:"name"`
					Password string `json:"password"`
					Domain   struct {
						Name string `json:"name"`
					} `json:"domain"`
				} `json:"user"`
			} `json:"password"`
		} `json:"identity"`
		Scope struct {
			Project struct {
				ID     string `json:"id,omitempty"`
				Name   string `json:"name,omitempty"`
				Domain *struct {
					Name string `json:"name"`
				} `json:"domain,omitempty"`
			} `json:"project"`
		} `json:"scope"`
	} `json:"auth"`
}

type tokenResponse struct {
	Token struct {
		ExpiresAt string `json:"expires_at"`
		Project   struct {
			ID   string `json:"id"`
			Name string `json:"name"`
		} `json:"project"`
		Catalog []struct {
			Type      string `json:"type"`
			Endpoints []struct {
				Interface string `json:"interface"`
				Region    string `json:"region"`
				RegionID  string `json:"region_id"`
				URL       string `json:"url"`
			} `json:"endpoints"`
		} `json:"catalog"`
	} `json:"token"`
}

func tokenKey(projectID, projectName string) string {
	if projectID != "" {
		return projectID
	}
	return "name:" + projectName
}

// get returns the cached token for the project, fetching one if needed.
// stale, when not empty, is a token value the caller saw rejected: unless
// another caller has replaced it already, a new one is fetched.
func (s *tokenSource) get(ctx context.Context, projectID, projectName, stale string) (*token, error) {
	key := tokenKey(projectID, projectName)
	for {
		s.mu.Lock()
		if t, ok := s.tokens[key]; ok {
			now := s.now()
			if t.value != stale && t.usable(now) ||
				// Refused although just renewed after a refusal: the
				// refusal stands (the caller sees the same token).
				t.value == stale && t.renewed && now.Sub(t.fetched) < minTokenRenewal {
				s.mu.Unlock()
				return t, nil
			}
		}
		if call, ok := s.inflight[key]; ok {
			s.mu.Unlock()
			select {
			case <-call.done:
			case <-ctx.Done():
				return nil, &NetError{Op: OpToken, Err: ctx.Err()}
			}
			if call.err != nil && isContextError(call.err) && ctx.Err() == nil {
				continue // the fetching caller gave up; fetch for ourselves
			}
			return call.tok, call.err
		}
		call := &tokenCall{done: make(chan struct{})}
		s.inflight[key] = call
		s.mu.Unlock()

		call.tok, call.err = s.fetch(ctx, projectID, projectName)
		if call.err == nil {
			call.tok.renewed = stale != ""
		}
		s.mu.Lock()
		delete(s.inflight, key)
		if call.err == nil {
			s.tokens[key] = call.tok
			if call.tok.projectID != "" {
				s.tokens[call.tok.projectID] = call.tok
			}
		}
		s.mu.Unlock()
		close(call.done)
		return call.tok, call.err
	}
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (s *tokenSource) fetch(ctx context.Context, projectID, projectName string) (*token, error) {
	var body tokenRequest
	id := &body.Auth.Identity
	id.Methods = []string{"password"}
	id.Password.User.Name = s.creds.Username
	id.Password.User.Password = s.creds.Password
	id.Password.User.Domain.Name = s.creds.UserDomainName
	if projectID != "" {
		body.Auth.Scope.Project.ID = projectID
	} else {
		body.Auth.Scope.Project.Name = projectName
		body.Auth.Scope.Project.Domain = &struct {
			Name string `json:"name"`
		}{s.creds.UserDomainName}
	}
	b, err := json.Marshal(body)
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	u := strings.TrimRight(s.creds.AuthURL, "/")
	if !strings.HasSuffix(u, "/v3") {
		u += "/v3"
	}
	st := &tokenState{server: serverURL(u, true)}
	ctx = context.WithValue(ctx, tokenStateKey{}, st)
	req, err := retryablehttp.NewRequestWithContext(ctx, http.MethodPost, u+"/auth/tokens", b)
	if err != nil {
		return nil, fmt.Errorf("token: %w", redactURLError(err))
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Accept", "application/json")
	resp, err := s.http.Do(req)
	if err != nil {
		var typed interface{ Class() Class }
		if errors.As(err, &typed) && typed.Class() == Permanent { // a redirect, a certificate
			return nil, redactURLError(err)
		}
		if ctx.Err() != nil { // the caller gave up: IAM is not to blame
			return nil, &NetError{Op: OpToken, Sent: true, Err: redactURLError(err)}
		}
		return nil, &NetError{Op: OpToken, Sent: true, Err: redactURLError(err), URL: st.server, Attempts: st.n}
	}
	defer resp.Body.Close()
	data, err := readBody(resp.Body)
	if err != nil {
		if errors.Is(err, errBodyTooLarge) {
			return nil, &ResponseError{Op: OpToken, Status: resp.StatusCode, Err: err}
		}
		return nil, &NetError{Op: OpToken, Sent: true, Err: err, URL: st.server, Attempts: st.n}
	}
	t := &token{value: resp.Header.Get("X-Subject-Token"), catalog: map[string]string{}, fetched: s.now()}
	s.redactor.Add(t.value) // before anything could print it
	if resp.StatusCode/100 != 2 {
		e := decodeError(OpToken, resp, data)
		e.Message = s.redactor.Redact(e.Message)
		if e.authProblem() != "" {
			e.Hint = tokenHint(e, projectID, projectName)
		}
		return nil, e
	}
	tr, err := decodeToken(data)
	if err != nil {
		return nil, &ResponseError{Op: OpToken, Status: resp.StatusCode, URL: st.server, Err: err}
	}
	if t.value == "" {
		return nil, &ResponseError{Op: OpToken, Status: resp.StatusCode, Err: errors.New("no X-Subject-Token header")}
	}
	t.projectID = firstNonEmpty(tr.Token.Project.ID, projectID)
	if tr.Token.ExpiresAt != "" {
		if exp, err := vpcep.ParseTime(tr.Token.ExpiresAt); err == nil {
			t.expires = exp
			s.schedule(t)
		}
	}
	for _, c := range tr.Token.Catalog {
		if c.Type != "vpcep" {
			continue
		}
		for _, e := range c.Endpoints {
			if e.Interface != "" && e.Interface != "public" || e.URL == "" {
				continue
			}
			r := firstNonEmpty(e.Region, e.RegionID)
			if _, dup := t.catalog[r]; !dup {
				t.catalog[r] = BaseURL(e.URL)
			}
		}
	}
	return t, nil
}

// schedule sets when t is to be renewed, and reports (once per run) a
// token that has almost no time to live by this machine's clock.
func (s *tokenSource) schedule(t *token) {
	t.refreshAt = t.expires.Add(-tokenMargin)
	if floor := t.fetched.Add(minTokenRenewal); t.refreshAt.Before(floor) {
		t.refreshAt = floor
	}
	if life := t.expires.Sub(t.fetched); life < minTokenLife {
		s.skewOnce.Do(func() {
			s.log.Warn("IAM token expires "+describeLife(life)+" by this machine's clock: the clock is probably skewed (check NTP), "+
				"or tokens are that short-lived; each token is used until the API refuses it and renewed at most once a minute",
				"expires_at", t.expires.Format(time.RFC3339), "now", t.fetched.UTC().Format(time.RFC3339))
		})
	}
}

func describeLife(d time.Duration) string {
	if d <= 0 {
		return (-d).Round(time.Second).String() + " before it was issued"
	}
	return d.Round(time.Second).String() + " after it was issued"
}

// BaseURL strips a trailing /v1 or /v1/{project_id} (and slashes) from a
// VPCEP URL, as catalogs list it both ways.
func BaseURL(u string) string {
	u = strings.TrimRight(u, "/")
	if i := strings.LastIndex(u, "/v1/"); i >= 0 && !strings.Contains(u[i+4:], "/") {
		return u[:i]
	}
	return strings.TrimSuffix(u, "/v1")
}

// redactURLError keeps url.Error's operation and cause but drops the URL,
// which may carry query parameters.
func redactURLError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

// SignTimeFormat is the layout of the X-Sdk-Date header.
const SignTimeFormat = "20060102T150405Z"

// Sign signs req with the API gateway's SDK-HMAC-SHA256 scheme: it sets
// X-Sdk-Date (from now) and Authorization. body is the request body.
//
// The canonical request is, as the gateway's signers build it:
//
//	METHOD \n URI \n QUERY \n HEADERS \n SIGNED-HEADERS \n HEX(SHA256(BODY))
//
// URI is the unescaped path, each segment escaped again (RFC 3986
// unreserved characters kept, upper-case hex), ending in "/"; QUERY the
// parameters sorted by name, then value, each escaped the same way and
// joined with "&"; HEADERS one "name:trimmed value\n" line per signed
// header. The string to sign is "SDK-HMAC-SHA256\n" + X-Sdk-Date + "\n" +
// HEX(SHA256(canonical request)), and the signature its HMAC-SHA256 under
// the secret key, in hex. The signed headers are host, x-sdk-date and, when
// set, content-type, x-project-id and x-security-token.
func Sign(req *http.Request, body []byte, ak, sk string, now time.Time) {
	req.Header.Set("X-Sdk-Date", now.UTC().Format(SignTimeFormat))
	if req.Host == "" {
		req.Host = req.URL.Host
	}
	names := []string{"host", "x-sdk-date"}
	for _, h := range []string{"content-type", "x-project-id", "x-security-token"} {
		if req.Header.Get(h) != "" {
			names = append(names, h)
		}
	}
	sort.Strings(names)
	var canon strings.Builder
	canon.WriteString(req.Method + "\n")
	canon.WriteString(canonicalURI(req.URL) + "\n")
	canon.WriteString(canonicalQuery(req.URL) + "\n")
	for _, n := range names {
		v := req.Header.Get(n)
		if n == "host" {
			v = req.Host
		}
		canon.WriteString(n + ":" + strings.TrimSpace(v) + "\n")
	}
	canon.WriteString("\n" + strings.Join(names, ";") + "\n")
	h := sha256.Sum256(body)
	canon.WriteString(hex.EncodeToString(h[:]))
	sum := sha256.Sum256([]byte(canon.String()))
	toSign := "SDK-HMAC-SHA256\n" + req.Header.Get("X-Sdk-Date") + "\n" + hex.EncodeToString(sum[:])
	mac := hmac.New(sha256.New, []byte(sk))
	mac.Write([]byte(toSign))
	req.Header.Set("Authorization", fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%s",
		ak, strings.Join(names, ";"), hex.EncodeToString(mac.Sum(nil))))
}

func canonicalURI(u *url.URL) string {
	segs := strings.Split(u.Path, "/")
	for i, s := range segs {
		segs[i] = escapeRFC3986(s)
	}
	p := strings.Join(segs, "/")
	if !strings.HasSuffix(p, "/") {
		p += "/"
	}
	return p
}

func canonicalQuery(u *url.URL) string {
	q := u.Query()
	keys := make([]string, 0, len(q))
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var parts []string
	for _, k := range keys {
		vs := append([]string(nil), q[k]...)
		sort.Strings(vs)
		for _, v := range vs {
			parts = append(parts, escapeRFC3986(k)+"="+escapeRFC3986(v))
		}
	}
	return strings.Join(parts, "&")
}

// escapeRFC3986 percent-encodes all but the unreserved characters
// (QueryEscape writes a space as "+", which the scheme spells %20).
func escapeRFC3986(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}
