package otc_test

import (
	"context"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
)

const (
	testPID   = "0df25bbc87a24b1f9c1d2e3f4a5b6c7d"
	testToken = "MIIDkgYJKoZIhvcNAQcC-test-token-value"
)

// fastOptions are client options with retries that take milliseconds.
func fastOptions(creds otc.Credentials, endpoint string) otc.Options {
	return otc.Options{
		Credentials:    creds,
		Endpoint:       endpoint,
		MaxRetries:     3,
		RetryWaitMin:   time.Millisecond,
		RetryWaitMax:   5 * time.Millisecond,
		RequestTimeout: 2 * time.Second,
	}
}

// tokenClient returns a client with OS_AUTH_TOKEN credentials for a VPCEP
// API served by h. mod may change the options.
func tokenClient(t testing.TB, h http.Handler, mod ...func(*otc.Options)) (*otc.Client, *httptest.Server) {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	opts := fastOptions(otc.Credentials{Token: testToken, ProjectID: testPID, Region: "eu-de"}, srv.URL)
	for _, m := range mod {
		m(&opts)
	}
	return newClient(t, opts), srv
}

func newClient(t testing.TB, opts otc.Options) *otc.Client {
	t.Helper()
	p, err := otc.NewProvider(opts)
	if err != nil {
		t.Fatalf("NewProvider: %v", err)
	}
	c, err := p.Client(context.Background(), "", "", nil)
	if err != nil {
		t.Fatalf("Client: %v", err)
	}
	return c
}

// fixture reads a body from testdata (see testdata/README).
func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatalf("fixture: %v", err)
	}
	return string(b)
}

// TestTestsStayInRepository: no test of this package names a file outside
// the repository (a parent directory, the shared docs, the machine's own
// configuration), so that `make test` passes on a clean clone. Test data
// lives in testdata/.
func TestTestsStayInRepository(t *testing.T) {
	files, err := filepath.Glob("*_test.go")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	// Spelled so that this test does not find itself.
	dotdot := strings.Repeat(".", 2)
	outside := func(s string) bool {
		return s == dotdot || strings.HasPrefix(s, dotdot+"/") || strings.Contains(s, "/"+dotdot+"/") ||
			strings.Contains(s, "shared"+"/api") ||
			strings.HasPrefix(s, "/etc"+"/") || strings.HasPrefix(s, "/home"+"/") || strings.HasPrefix(s, "/root"+"/")
	}
	fset := token.NewFileSet()
	for _, name := range files {
		f, err := parser.ParseFile(fset, name, nil, parser.SkipObjectResolution)
		if err != nil {
			t.Fatal(err)
		}
		ast.Inspect(f, func(n ast.Node) bool {
			lit, ok := n.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				return true
			}
			s, err := strconv.Unquote(lit.Value)
			if err != nil {
				return true
			}
			if outside(s) {
				t.Errorf("%s: %q names a path outside the repository; put test data in testdata/", fset.Position(lit.Pos()), s)
			}
			return true
		})
	}
}

// hangUp closes the connection after reading the request: the request was
// sent, no answer comes back.
func hangUp(w http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	conn, _, err := w.(http.Hijacker).Hijack()
	if err != nil {
		panic(err)
	}
	conn.Close()
}

// hang answers nothing until the client goes away (or 10s pass). It reads
// the body first: the server notices a closed connection only then.
func hang(_ http.ResponseWriter, r *http.Request) {
	io.Copy(io.Discard, r.Body)
	select {
	case <-r.Context().Done():
	case <-time.After(10 * time.Second):
	}
}

func slogText(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

func slogJSON(w io.Writer) *slog.Logger {
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// recorder is an Observer that records what it is told.
type recorder struct {
	mu       sync.Mutex
	requests map[string]int // op + " " + code
	retries  map[string]int // op + " " + reason
	inflight atomic.Int64
	maxIn    atomic.Int64
}

func newRecorder() *recorder {
	return &recorder{requests: map[string]int{}, retries: map[string]int{}}
}

func (r *recorder) Request(op, code string, _ time.Duration) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.requests[op+" "+code]++
}

func (r *recorder) Retry(op, reason string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.retries[op+" "+reason]++
}

func (r *recorder) Inflight(d int) {
	n := r.inflight.Add(int64(d))
	for {
		m := r.maxIn.Load()
		if n <= m || r.maxIn.CompareAndSwap(m, n) {
			return
		}
	}
}

func (r *recorder) count(m map[string]int, key string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return m[key]
}

// attempts is the number of HTTP attempts of op the Observer saw.
func (r *recorder) attempts(op string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for k, v := range r.requests {
		if strings.HasPrefix(k, op+" ") {
			n += v
		}
	}
	return n
}

// retried is the number of retries the Observer saw, all operations.
func (r *recorder) retried() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	n := 0
	for _, v := range r.retries {
		n += v
	}
	return n
}
