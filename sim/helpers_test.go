package sim

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// env is a simulator served by httptest with a token for ProjectID.
type env struct {
	t     *testing.T
	sim   *Sim
	srv   *httptest.Server
	clock *testkit.Clock
	token string
}

func newEnv(t *testing.T, o Options) *env {
	t.Helper()
	c := newClock()
	if o.Now == nil {
		o.Now = c.Now
	}
	s := New(o)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(srv.Close)
	e := &env{t: t, sim: s, srv: srv, clock: c}
	e.token = e.login(ProjectID)
	return e
}

// login gets a token scoped to project pid by id.
func (e *env) login(pid string) string {
	e.t.Helper()
	body := fmt.Sprintf(`{"auth":{"identity":{"methods":["password"],"password":{"user":{"name":%q,"password":%q,"domain":{"name":%q}}}},"scope":{"project":{"id":%q}}}}`,
		Username, Password, DomainName, pid)
	resp, err := http.Post(e.srv.URL+"/v3/auth/tokens", "application/json", strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusCreated {
		b, _ := io.ReadAll(resp.Body)
		e.t.Fatalf("login: %d %s", resp.StatusCode, b)
	}
	return resp.Header.Get("X-Subject-Token")
}

type result struct {
	status int
	header http.Header
	body   []byte
}

func (r result) errorCode() string {
	var eb vpcep.ErrorBody
	json.Unmarshal(r.body, &eb)
	return eb.ErrorCode
}

// do sends a request with the env's token (token "" sends none). path is
// relative to the server, body is marshalled unless it is a string.
func (e *env) do(token, method, path string, body any) result {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("X-Auth-Token", token)
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := e.srv.Client().Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return result{status: resp.StatusCode, header: resp.Header, body: b}
}

func (e *env) call(method, path string, body any) result {
	e.t.Helper()
	return e.do(e.token, method, path, body)
}

func pp(path string) string { return "/v1/" + ProjectID + path }

// createReq is a valid interface create body.
func createReq(vpc, subnet string, tags ...vpcep.Tag) vpcep.CreateEndpointRequest {
	return vpcep.CreateEndpointRequest{EndpointServiceID: ServiceInterfaceID, VPCID: vpc, SubnetID: subnet, Tags: tags}
}

const (
	vpcA    = "84758cf5-9c62-43ae-a778-3dbd8370c0a4"
	vpcB    = "d7b2bf07-1b4c-43fa-bd88-d80c6ebea140"
	subnetA = "68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de"
	subnetB = "61881173-3899-4981-a700-170253d469b6"
)

func (e *env) create(req vpcep.CreateEndpointRequest) vpcep.Endpoint {
	e.t.Helper()
	r := e.call("POST", pp("/vpc-endpoints"), req)
	if r.status != http.StatusOK {
		e.t.Fatalf("create: %d %s", r.status, r.body)
	}
	var ep vpcep.Endpoint
	if err := json.Unmarshal(r.body, &ep); err != nil {
		e.t.Fatalf("decode create response: %v\n%s", err, r.body)
	}
	return ep
}

func (e *env) get(id string) (vpcep.Endpoint, result) {
	e.t.Helper()
	r := e.call("GET", pp("/vpc-endpoints/"+id), nil)
	var ep vpcep.Endpoint
	if r.status == http.StatusOK {
		if err := json.Unmarshal(r.body, &ep); err != nil {
			e.t.Fatalf("decode get response: %v\n%s", err, r.body)
		}
	}
	return ep, r
}

func (e *env) list(query string) vpcep.ListEndpointsResponse {
	e.t.Helper()
	r := e.call("GET", pp("/vpc-endpoints?"+query), nil)
	if r.status != http.StatusOK {
		e.t.Fatalf("list ?%s: %d %s", query, r.status, r.body)
	}
	var l vpcep.ListEndpointsResponse
	if err := json.Unmarshal(r.body, &l); err != nil {
		e.t.Fatalf("decode list response: %v\n%s", err, r.body)
	}
	return l
}

// testSign signs req with the SDK-HMAC-SHA256 scheme, written out step by
// step from the scheme's description (independently of aksk.go).
func testSign(req *http.Request, body []byte, ak, sk string, t time.Time) {
	date := t.UTC().Format("20060102T150405Z")
	req.Header.Set("X-Sdk-Date", date)
	if req.Header.Get("Host") == "" {
		req.Header.Set("Host", req.URL.Host)
	}
	// Sign every header we send, host included.
	names := []string{}
	for k := range req.Header {
		names = append(names, strings.ToLower(k))
	}
	sort.Strings(names)
	enc := func(s string) string {
		return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
	}
	var uri []string
	for _, seg := range strings.Split(req.URL.Path, "/") {
		uri = append(uri, enc(seg))
	}
	canonURI := strings.Join(uri, "/")
	if !strings.HasSuffix(canonURI, "/") {
		canonURI += "/"
	}
	q := req.URL.Query()
	var keys []string
	for k := range q {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	var qs []string
	for _, k := range keys {
		vs := q[k]
		sort.Strings(vs)
		for _, v := range vs {
			qs = append(qs, enc(k)+"="+enc(v))
		}
	}
	var hs strings.Builder
	for _, n := range names {
		hs.WriteString(n + ":" + strings.TrimSpace(req.Header.Get(n)) + "\n")
	}
	bodySum := sha256.Sum256(body)
	canonical := strings.Join([]string{req.Method, canonURI, strings.Join(qs, "&"), hs.String(),
		strings.Join(names, ";"), hex.EncodeToString(bodySum[:])}, "\n")
	crSum := sha256.Sum256([]byte(canonical))
	sts := "SDK-HMAC-SHA256\n" + date + "\n" + hex.EncodeToString(crSum[:])
	m := hmac.New(sha256.New, []byte(sk))
	m.Write([]byte(sts))
	req.Header.Set("Authorization", fmt.Sprintf("SDK-HMAC-SHA256 Access=%s, SignedHeaders=%s, Signature=%x",
		ak, strings.Join(names, ";"), m.Sum(nil)))
	req.Header.Del("Host") // net/http sends req.Host, taken from the URL
}

// newClock is the simulator tests' clock, at a fixed start.
func newClock() *testkit.Clock { return testkit.NewClock(time.Date(2025, 5, 6, 7, 8, 9, 0, time.UTC)) }
