package main

// The CLI against a hostile cloud (issue 11, "Secrets stay home"): the
// simulator behind a front (httptest, loopback only) that redirects to a
// second host, echoes secrets, issues tokens that expire on issue, lists
// a plain-http VPCEP URL, refuses the credentials, or serves a certificate
// nobody trusts. Every run writes every output there is (stdout, stderr at
// debug in JSON, a report or plan file, a metrics file), and all of it is
// searched for every secret of the environment and every token the
// simulator issued.

import (
	"encoding/json"
	"encoding/pem"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"

	"github.com/vpcepctl/vpcepctl/sim"
)

// hostileCloud is the simulator behind a front that misbehaves in one way
// at a time (mode).
type hostileCloud struct {
	t     *testing.T
	sim   *sim.Sim
	srv   *httptest.Server
	evil  *httptest.Server // the second host: must never be reached
	conns int              // connections accepted (TLS attempts)

	mu       sync.Mutex
	mode     string
	tokens   []string // issued by the simulator: secrets the run learns
	requests int      // every request the front answered
	iam      int      // token requests
	creates  int
	evilSeen []string
}

// Modes of the front.
const (
	modeRedirectVPCEP = "redirect-vpcep" // every VPCEP call: 307 to the second host
	modeRedirectIAM   = "redirect-iam"   // the token request: 307 to the second host
	modeEcho          = "echo"           // creates: 400 quoting the token and the password
	modeDecode        = "decode"         // lists: the token as enable_dns
	modeSkew          = "skew"           // tokens expire an hour before their issue
	modeCatalogHTTP   = "catalog-http"   // the catalog's VPCEP URL is plain http
	modeCatalogBogus  = "catalog-bogus"  // the catalog's VPCEP URL leads nowhere
	modeRefuseCreate  = "refuse-create"  // creates: 401
	modeSigExpired    = "sig-expired"    // every VPCEP call: 401 "signature expired"
)

func newHostileCloud(t *testing.T, tlsFront bool) *hostileCloud {
	h := &hostileCloud{t: t, sim: sim.New(sim.Options{AcceptAfter: 10 * time.Millisecond})}
	h.evil = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		h.mu.Lock()
		h.evilSeen = append(h.evilSeen, fmt.Sprintf("%s %s %v %s", r.Method, r.URL, r.Header, b))
		h.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(h.evil.Close)
	h.srv = httptest.NewUnstartedServer(h)
	h.srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			h.mu.Lock()
			h.conns++
			h.mu.Unlock()
		}
	}
	h.srv.Config.ErrorLog = log.New(io.Discard, "", 0)
	if tlsFront {
		h.srv.StartTLS()
	} else {
		h.srv.Start()
	}
	t.Cleanup(h.srv.Close)
	return h
}

func (h *hostileCloud) setMode(m string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.mode = m
}

func (h *hostileCloud) counts() (requests, iam, creates, conns int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.requests, h.iam, h.creates, h.conns
}

func (h *hostileCloud) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h.mu.Lock()
	mode := h.mode
	h.requests++
	isIAM := strings.HasPrefix(r.URL.Path, "/v3/")
	isCreate := r.Method == http.MethodPost && strings.HasSuffix(r.URL.Path, "/vpc-endpoints")
	if isIAM {
		h.iam++
	}
	if isCreate {
		h.creates++
	}
	h.mu.Unlock()
	apiErr := func(status int, code, msg string) {
		io.Copy(io.Discard, r.Body)
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(map[string]string{"error_code": code, "error_msg": msg})
	}
	switch {
	case mode == modeRedirectVPCEP && !isIAM, mode == modeRedirectIAM && isIAM:
		http.Redirect(w, r, h.evil.URL+r.URL.Path+"?X-Auth-Token="+r.Header.Get("X-Auth-Token"), http.StatusTemporaryRedirect)
		return
	case mode == modeEcho && isCreate:
		apiErr(http.StatusBadRequest, "EndPoint.0002", "invalid token "+r.Header.Get("X-Auth-Token")+" for password "+sim.Password)
		return
	case mode == modeDecode && r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/vpc-endpoints"):
		fmt.Fprintf(w, `{"endpoints":[{"id":"e1","status":"accepted","enable_dns":%q}],"total_count":1}`, r.Header.Get("X-Auth-Token"))
		return
	case mode == modeRefuseCreate && isCreate:
		apiErr(http.StatusUnauthorized, "EndPoint.0003", "Authentication failed or authentication information is invalid.")
		return
	case mode == modeSigExpired && !isIAM:
		apiErr(http.StatusUnauthorized, "APIGW.0301", "Incorrect IAM authentication information: calc ak sk signature fail:signature expired")
		return
	}
	rec := httptest.NewRecorder()
	h.sim.Handler().ServeHTTP(rec, r)
	body := rec.Body.Bytes()
	if tok := rec.Header().Get("X-Subject-Token"); tok != "" {
		h.mu.Lock()
		h.tokens = append(h.tokens, tok)
		h.mu.Unlock()
		body = h.rewriteToken(mode, body)
	}
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
	w.Header().Del("Content-Length")
	w.WriteHeader(rec.Code)
	w.Write(body)
}

// rewriteToken changes the simulator's token document for the modes that
// need it.
func (h *hostileCloud) rewriteToken(mode string, body []byte) []byte {
	var doc map[string]any
	if json.Unmarshal(body, &doc) != nil {
		return body
	}
	tok := doc["token"].(map[string]any)
	switch mode {
	case modeSkew:
		tok["expires_at"] = time.Now().Add(-time.Hour).UTC().Format("2006-01-02T15:04:05.000000Z")
	case modeCatalogHTTP, modeCatalogBogus:
		url := "http://vpcep.example.com"
		if mode == modeCatalogBogus {
			url = "https://vpcep.invalid:1"
		}
		cat, _ := tok["catalog"].([]any)
		for _, e := range cat {
			entry := e.(map[string]any)
			if entry["type"] != "vpcep" {
				continue
			}
			for _, ep := range entry["endpoints"].([]any) {
				ep.(map[string]any)["url"] = url + "/v1/" + sim.ProjectID
			}
		}
	}
	out, _ := json.Marshal(doc)
	return out
}

func (h *hostileCloud) secrets() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string{sim.Password, sim.SecretKey, "MIIDkgYJKoZIhvcNAQcC"}, h.tokens...)
}

func (h *hostileCloud) reachedEvil() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.evilSeen...)
}

// hostileRun is one CLI run and everything it left.
type hostileRun struct {
	stdout, stderr string
	code           int
	files          map[string]string // name in the output directory -> content
	modes          map[string]os.FileMode
}

// runHostile runs the CLI with every output on: JSON logs at debug on
// stderr, and the named files (report, plan, metrics) in a fresh
// directory.
func runHostile(t *testing.T, env []string, args ...string) hostileRun {
	t.Helper()
	dir := t.TempDir()
	full := append([]string{"--log-level", "debug", "--log-format", "json", "--metrics-file", filepath.Join(dir, "metrics.prom")}, args...)
	switch args[0] {
	case "apply":
		full = append(full, "--report", filepath.Join(dir, "report.json"), "-o", "json", "--poll-interval", "10ms", "--max-retries", "2")
	case "plan":
		full = append(full, "--out", filepath.Join(dir, "plan.json"), "-o", "json", "--max-retries", "2")
	}
	stdout, stderr, code := runCLI(t, env, full...)
	r := hostileRun{stdout: stdout, stderr: stderr, code: code, files: map[string]string{}, modes: map[string]os.FileMode{}}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		fi, _ := e.Info()
		r.files[e.Name()] = readFile(t, filepath.Join(dir, e.Name()))
		r.modes[e.Name()] = fi.Mode().Perm()
	}
	return r
}

// checkNoSecret fails the test for every secret found anywhere in the
// run's output.
func (r hostileRun) checkNoSecret(t *testing.T, secrets []string) {
	t.Helper()
	places := map[string]string{"stdout": r.stdout, "stderr": r.stderr}
	for name, content := range r.files {
		places[name] = content
	}
	for place, content := range places {
		for _, s := range secrets {
			if strings.Contains(content, s) {
				t.Errorf("secret %.12s... appears in %s:\n%s", s, place, content)
			}
		}
	}
}

func (r hostileRun) want(t *testing.T, code int, stderr ...string) {
	t.Helper()
	if r.code != code {
		t.Errorf("exit %d, want %d\nstderr:\n%s", r.code, code, r.stderr)
	}
	for _, s := range stderr {
		if !strings.Contains(r.stderr, s) {
			t.Errorf("stderr does not contain %q:\n%s", s, r.stderr)
		}
	}
}

// TestHostileCloud drives each case of issue 11 through the CLI and
// searches every output for secrets.
func TestHostileCloud(t *testing.T) {
	dir := t.TempDir()
	mf := writeManifest(t, dir, "hostile", names("ep", 3)...)
	h := newHostileCloud(t, false)
	env := sim.Env(h.srv.URL)

	t.Run("1 redirect of a VPCEP call", func(t *testing.T) {
		h.setMode(modeRedirectVPCEP)
		r := runHostile(t, env, "plan", "-f", mf)
		r.want(t, exitFailure, "redirect to "+h.evil.URL+": not followed")
		r.checkNoSecret(t, h.secrets())
		if strings.Contains(r.stderr, "X-Auth-Token=") {
			t.Errorf("the redirect's query is shown:\n%s", r.stderr)
		}
	})
	t.Run("1 redirect of the token request", func(t *testing.T) {
		h.setMode(modeRedirectIAM)
		r := runHostile(t, env, "apply", "-f", mf, "--yes")
		r.want(t, exitFailure, "token: "+h.srv.URL+" answered HTTP 307, a redirect to "+h.evil.URL)
		r.checkNoSecret(t, h.secrets())
	})
	if seen := h.reachedEvil(); len(seen) > 0 {
		t.Errorf("the second host was reached: %q", seen)
	}

	t.Run("2 error messages echo the learned token", func(t *testing.T) {
		h.setMode(modeEcho)
		r := runHostile(t, env, "apply", "-f", mf, "--yes")
		r.want(t, exitFailure, "[REDACTED]")
		r.checkNoSecret(t, h.secrets())
		if !strings.Contains(r.files["report.json"], "invalid token [REDACTED] for password [REDACTED]") {
			t.Errorf("report without the redacted API message:\n%s", r.files["report.json"])
		}
		if m := r.modes["report.json"]; m != 0o600 {
			t.Errorf("report mode %v, want 0600", m)
		}
	})
	t.Run("2 a field echoes the learned token", func(t *testing.T) {
		h.setMode(modeDecode)
		r := runHostile(t, env, "plan", "-f", mf)
		r.want(t, exitFailure, "field endpoints.enable_dns has the wrong type (a JSON string, want a boolean")
		r.checkNoSecret(t, h.secrets())
	})
	t.Run("2 plan file mode", func(t *testing.T) {
		h.setMode("")
		r := runHostile(t, env, "plan", "-f", mf)
		r.want(t, exitOK)
		if m := r.modes["plan.json"]; m != 0o600 {
			t.Errorf("plan file mode %v, want 0600", m)
		}
		if m := r.modes["metrics.prom"]; m != 0o644 {
			t.Errorf("metrics file mode %v, want 0644", m)
		}
		r.checkNoSecret(t, h.secrets())
	})

	t.Run("3 tokens that expire before their issue", func(t *testing.T) {
		h.setMode(modeSkew)
		_, iam0, _, _ := h.counts()
		r := runHostile(t, env, "apply", "-f", writeManifest(t, dir, "skewed", names("ep", 20)...), "--yes")
		r.want(t, exitOK)
		r.checkNoSecret(t, h.secrets())
		_, iam, _, _ := h.counts()
		if iam-iam0 != 1 {
			t.Errorf("%d IAM calls for an apply of 20 endpoints, want 1", iam-iam0)
		}
		if n := strings.Count(r.stderr, "clock is probably skewed"); n != 1 {
			t.Errorf("%d warnings about the clock, want 1:\n%s", n, r.stderr)
		}
		mfs := parseTextfileString(t, r.files["metrics.prom"])
		if got, _ := sample(mfs, "vpcepctl_api_requests_total", "operation", "token", "code", "201"); got != float64(iam-iam0) {
			t.Errorf("api_requests_total{token,201} = %v, want %d", got, iam-iam0)
		}
	})

	t.Run("6 the catalog's VPCEP URL", func(t *testing.T) {
		tl := newHostileCloud(t, true)
		ca := filepath.Join(t.TempDir(), "ca.pem")
		os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: tl.srv.Certificate().Raw}), 0o600)
		tlsEnv := append(sim.Env(tl.srv.URL), "OS_CACERT="+ca)

		tl.setMode(modeCatalogHTTP)
		r := runHostile(t, tlsEnv, "plan", "-f", mf)
		r.want(t, exitInvalid, "the token's catalog gives the VPCEP URL http://vpcep.example.com, plain http")
		r.checkNoSecret(t, tl.secrets())

		tl.setMode(modeCatalogBogus)
		r = runHostile(t, tlsEnv, "plan", "-f", mf, "--endpoint", tl.srv.URL)
		r.want(t, exitOK)
		r.checkNoSecret(t, tl.secrets())
	})

	t.Run("7 creates refused for good", func(t *testing.T) {
		h.setMode(modeRefuseCreate)
		_, iam0, creates0, _ := h.counts()
		r := runHostile(t, env, "apply", "-f", writeManifest(t, dir, "refused", names("ep", 10)...), "--yes", "--concurrency", "1")
		r.want(t, exitFailure, "refused too", "not sent, refused before")
		r.checkNoSecret(t, h.secrets())
		_, iam, creates, _ := h.counts()
		if creates-creates0 != 2 || iam-iam0 != 2 {
			t.Errorf("10 creates refused: %d create requests and %d IAM calls, want 2 and 2", creates-creates0, iam-iam0)
		}
	})
	t.Run("7 AK/SK signature expired", func(t *testing.T) {
		h.setMode(modeSigExpired)
		r := runHostile(t, append(sim.EnvAKSK(h.srv.URL), "OS_SECURITY_TOKEN=temporary-security-token-0123"), "plan", "-f", mf)
		r.want(t, exitFailure, "signature expired", "this machine's clock", "NTP")
		r.checkNoSecret(t, append(h.secrets(), "temporary-security-token-0123"))
	})
}

func parseTextfileString(t *testing.T, text string) map[string]*dto.MetricFamily {
	t.Helper()
	path := filepath.Join(t.TempDir(), "m.prom")
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return parseTextfile(t, path)
}

// TestHostileTLS (case 4): a certificate nobody trusts ends the run after
// one attempt, with the x509 reason in one line; --cacert, OS_CACERT and
// --insecure (warned about) make it work.
func TestHostileTLS(t *testing.T) {
	h := newHostileCloud(t, true)
	mf := writeManifest(t, t.TempDir(), "tls", "ep-0")
	env := sim.Env(h.srv.URL)
	ca := filepath.Join(t.TempDir(), "ca.pem")
	os.WriteFile(ca, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: h.srv.Certificate().Raw}), 0o600)

	r := runHostile(t, env, "plan", "-f", mf, "--max-retries", "8")
	r.want(t, exitFailure, "token: TLS with "+h.srv.URL+" failed: x509: certificate signed by unknown authority")
	if _, _, _, conns := h.counts(); conns != 1 {
		t.Errorf("%d connections for a certificate nobody trusts, want 1", conns)
	}
	for _, line := range strings.Split(strings.TrimSpace(r.stderr), "\n") {
		if strings.Contains(line, "vpcepctl: error:") && !strings.Contains(line, "--cacert") {
			t.Errorf("error line without the --cacert hint: %s", line)
		}
	}
	r.checkNoSecret(t, h.secrets())

	for _, tt := range []struct {
		name string
		env  []string
		args []string
		warn bool
	}{
		{"--cacert", env, []string{"--cacert", ca}, false},
		{"OS_CACERT", append(env, "OS_CACERT="+ca), nil, false},
		{"--insecure", env, []string{"--insecure"}, true},
		{"VPCEPCTL_INSECURE", append(env, "VPCEPCTL_INSECURE=true"), nil, true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := runHostile(t, tt.env, append([]string{"plan", "-f", mf}, tt.args...)...)
			r.want(t, exitOK)
			if got := strings.Contains(r.stderr, "TLS certificate verification is off"); got != tt.warn {
				t.Errorf("warning about --insecure: %v, want %v\n%s", got, tt.warn, r.stderr)
			}
			r.checkNoSecret(t, h.secrets())
		})
	}
}

// TestOutputsCheckedFirst (case 5): an output that cannot be written
// fails the run (exit 3, naming the flag and the path) before any request;
// a FIFO is refused at once instead of blocking; -, /dev/stdout and
// /dev/null work.
func TestOutputsCheckedFirst(t *testing.T) {
	h := newHostileCloud(t, false)
	env := sim.Env(h.srv.URL)
	dir := t.TempDir()
	mf := writeManifest(t, dir, "outputs", "ep-0")
	fifo := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	unwritable := t.TempDir()
	if os.Geteuid() == 0 {
		unwritable = "/sys" // root writes any directory; sysfs refuses even root
	} else if err := os.Chmod(unwritable, 0o500); err != nil {
		t.Fatal(err)
	}
	file := writeFile(t, dir, "file", "x")
	for _, flag := range []string{"--report", "--out", "--metrics-file"} {
		for _, tt := range []struct {
			name, path, want string
		}{
			{"unwritable directory", filepath.Join(unwritable, "out.json"), "cannot create files in " + unwritable},
			{"FIFO", fifo, "is a named pipe (FIFO)"},
			{"parent is a file", filepath.Join(file, "out.json"), file + " is not a directory"},
			{"directory", dir, "is a directory"},
		} {
			t.Run(flag+" "+tt.name, func(t *testing.T) {
				cmd := "apply"
				if flag == "--out" {
					cmd = "plan"
				}
				args := []string{cmd, "-f", mf, flag, tt.path}
				if cmd == "apply" {
					args = append(args, "--yes")
				}
				before, _, _, _ := h.counts()
				_, stderr, code := runCLI(t, env, args...)
				if code != exitInvalid || !strings.Contains(stderr, flag+" "+tt.path+": "+tt.want) {
					t.Errorf("exit %d, want 3 with %q\n%s", code, flag+" "+tt.path+": "+tt.want, stderr)
				}
				if after, _, _, _ := h.counts(); after != before {
					t.Errorf("%d requests before the output was refused, want none", after-before)
				}
			})
		}
	}
	t.Run("stdout and /dev/null", func(t *testing.T) {
		for _, out := range []string{"-", "/dev/stdout"} {
			stdout, stderr, code := runCLI(t, env, "plan", "-f", mf, "--out", out, "-o", "json")
			if code != 0 || strings.Count(stdout, `"format_version"`) != 2 {
				t.Errorf("--out %s: exit %d, stdout %q, want two plans\n%s", out, code, stdout, stderr)
			}
		}
		if _, stderr, code := runCLI(t, env, "apply", "-f", mf, "--yes", "--report", "/dev/null", "--metrics-file", "/dev/null",
			"--poll-interval", "10ms"); code != 0 {
			t.Errorf("--report /dev/null: exit %d\n%s", code, stderr)
		}
	})
	if entries, _ := os.ReadDir(dir); len(entries) != 3 { // outputs.yaml, fifo, file: no probes left
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("directory holds %v, want only the test's own files", names)
	}
}

// TestPushgatewayCredentials (case 8): the Pushgateway password comes
// from a file or VPCEPCTL_PUSHGATEWAY (one on the command line is warned
// about), is sent as basic auth, never printed, and never follows a
// redirect to another host (one to the same host is followed).
func TestPushgatewayCredentials(t *testing.T) {
	const password = "push-password-0123"
	var mu sync.Mutex
	var auths, bodies []string
	var redirect string
	other := newHostileCloud(t, false) // its second host records what reaches it
	evil := other.evil
	var pg *httptest.Server
	pg = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		defer mu.Unlock()
		bodies = append(bodies, string(b))
		if redirect != "" && !strings.HasPrefix(r.URL.Path, "/moved/") {
			to := evil.URL
			if redirect == "same" {
				to = pg.URL + "/moved"
			}
			http.Redirect(w, r, to+r.URL.Path, http.StatusTemporaryRedirect)
			return
		}
		u, p, _ := r.BasicAuth()
		auths = append(auths, u+":"+p)
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(pg.Close)
	h := newHostileCloud(t, false)
	mf := writeManifest(t, t.TempDir(), "pushed", "ep-0")
	pwFile := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pwFile, []byte(password+"\n"), 0o600)
	withUser := strings.Replace(pg.URL, "http://", "http://metrics@", 1)
	withPassword := strings.Replace(pg.URL, "http://", "http://metrics:"+password+"@", 1)

	tests := []struct {
		name     string
		env      []string
		args     []string
		redirect string
		code     int
		pushed   bool
		warn     bool
	}{
		{"password file", nil, []string{"--pushgateway", withUser, "--pushgateway-password-file", pwFile}, "", 0, true, false},
		{"VPCEPCTL_PUSHGATEWAY", []string{"VPCEPCTL_PUSHGATEWAY=" + withPassword}, nil, "", 0, true, false},
		{"password on the command line", nil, []string{"--pushgateway", withPassword}, "", 0, true, true},
		{"redirect to the same host", []string{"VPCEPCTL_PUSHGATEWAY=" + withPassword}, nil, "same", 0, true, false},
		{"redirect to another host", []string{"VPCEPCTL_PUSHGATEWAY=" + withPassword}, nil, "other", exitFailure, false, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mu.Lock()
			auths, redirect = nil, tt.redirect
			mu.Unlock()
			r := runHostile(t, append(sim.Env(h.srv.URL), tt.env...), append([]string{"plan", "-f", mf}, tt.args...)...)
			r.want(t, tt.code)
			mu.Lock()
			got := append([]string(nil), auths...)
			r.files["pushed metrics"] = strings.Join(bodies, "\n")
			mu.Unlock()
			r.checkNoSecret(t, append(h.secrets(), password))
			if tt.pushed && (len(got) != 1 || got[0] != "metrics:"+password) {
				t.Errorf("pushes with basic auth %q, want one as metrics", got)
			}
			if !tt.pushed && !strings.Contains(r.stderr, "redirect to "+evil.URL+" not followed") {
				t.Errorf("refused redirect not reported:\n%s", r.stderr)
			}
			if warned := strings.Contains(r.stderr, "other users of this machine can read"); warned != tt.warn {
				t.Errorf("warning about the password in argv: %v, want %v\n%s", warned, tt.warn, r.stderr)
			}
		})
	}
	if seen := other.reachedEvil(); len(seen) > 0 {
		t.Errorf("the second host was reached: %q", seen)
	}
}
