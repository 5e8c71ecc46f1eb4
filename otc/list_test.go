package otc_test

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// listServer pages over a list kept in created_at order, as the API does
// with sort_key=created_at&sort_dir=asc, and lets a test change the list
// between requests.
type listServer struct {
	t        *testing.T
	mu       sync.Mutex
	items    []string
	ever     map[string]bool // every id that ever existed
	deleted  map[string]bool // every id deleted
	next     int
	limitCap int           // the largest page the server answers; 0 = 1000
	delay    time.Duration // per request, outside the lock
	// perSecond is how many endpoints share a created_at second (ids are
	// created in that order); 0 = 10, as a bulk create at 10/s makes.
	perSecond int
	// shuffle answers the endpoints of one second in a fresh order on
	// each request, as the API does (no tie-breaker).
	shuffle bool
	rng     *rand.Rand
	second  map[string]int // id -> created_at second
	// mutate runs under the lock before request n (1-based) is answered.
	mutate func(s *listServer, n int)

	requests    int
	inflight    int
	maxInflight int
	firstDone   bool
	overlapped  bool // a request ran while the first was in flight
}

func newListServer(t *testing.T, n int) *listServer {
	return newListServerPer(t, n, 10)
}

// newListServerPer makes a server of n endpoints, perSecond to a
// created_at second.
func newListServerPer(t *testing.T, n, perSecond int) *listServer {
	s := &listServer{t: t, ever: map[string]bool{}, deleted: map[string]bool{}, second: map[string]int{},
		perSecond: perSecond, rng: rand.New(rand.NewPCG(uint64(n), 3))}
	for range n {
		s.create()
	}
	return s
}

// create appends an endpoint (the newest). Callers hold mu or own s.
func (s *listServer) create() {
	s.next++
	id := fmt.Sprintf("ep-%06d", s.next)
	s.items = append(s.items, id)
	s.ever[id] = true
	s.second[id] = s.next / s.perSecond
}

// order returns the items as this request sees them. Callers hold mu.
func (s *listServer) order() []string {
	if !s.shuffle {
		return s.items
	}
	out := slices.Clone(s.items)
	for i := 0; i < len(out); {
		j := i + 1
		for j < len(out) && s.second[out[j]] == s.second[out[i]] {
			j++
		}
		run := out[i:j]
		s.rng.Shuffle(len(run), func(a, b int) { run[a], run[b] = run[b], run[a] })
		i = j
	}
	return out
}

// deleteAt deletes the endpoint at index i. Callers hold mu.
func (s *listServer) deleteAt(i int) {
	s.deleted[s.items[i]] = true
	s.items = slices.Delete(s.items, i, i+1)
}

func (s *listServer) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if q.Get("sort_key") != "created_at" || q.Get("sort_dir") != "asc" || r.URL.Path != "/v1/"+testPID+"/vpc-endpoints" {
		s.t.Errorf("unexpected request %s", r.URL)
	}
	limit, _ := strconv.Atoi(q.Get("limit"))
	offset, _ := strconv.Atoi(q.Get("offset"))
	s.mu.Lock()
	s.requests++
	n := s.requests
	if n > 1 && !s.firstDone {
		s.overlapped = true
	}
	s.inflight++
	s.maxInflight = max(s.maxInflight, s.inflight)
	s.mu.Unlock()
	time.Sleep(s.delay)

	s.mu.Lock()
	if s.mutate != nil {
		s.mutate(s, n)
	}
	if s.limitCap > 0 {
		limit = min(limit, s.limitCap)
	}
	var body strings.Builder
	body.WriteString(`{"endpoints":[`)
	items := s.order()
	base := time.Date(2024, 8, 23, 7, 37, 37, 0, time.UTC)
	for i := offset; i < len(items) && i < offset+limit; i++ {
		if i > offset {
			body.WriteByte(',')
		}
		at := base.Add(time.Duration(s.second[items[i]]) * time.Second).Format(time.RFC3339)
		fmt.Fprintf(&body, `{"id":%q,"status":"accepted","created_at":%q}`, items[i], at)
	}
	fmt.Fprintf(&body, `],"total_count":%d}`, len(s.items))
	s.inflight--
	if n == 1 {
		s.firstDone = true
	}
	s.mu.Unlock()
	w.Write([]byte(body.String()))
}

// check verifies a listing against what happened on the server: every
// endpoint that existed throughout is there, none twice, none invented.
func (s *listServer) check(t *testing.T, start []string, got []vpcep.Endpoint) {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	seen := map[string]bool{}
	for _, e := range got {
		if seen[e.ID] {
			t.Errorf("endpoint %s listed twice", e.ID)
		}
		seen[e.ID] = true
		if !s.ever[e.ID] {
			t.Errorf("endpoint %s never existed", e.ID)
		}
	}
	lost := 0
	for _, id := range start {
		if !s.deleted[id] && !seen[id] {
			lost++
			if lost <= 5 {
				t.Errorf("endpoint %s existed throughout but was not listed", id)
			}
		}
	}
	if lost > 5 {
		t.Errorf("... %d endpoints lost in all", lost)
	}
}

func (s *listServer) snapshot() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Clone(s.items)
}

func TestListSizes(t *testing.T) {
	tests := []struct {
		n, requests int
	}{
		// A full page is never the last: 1000 needs a second request.
		{0, 1}, {1, 1}, {999, 1}, {1000, 2}, {1001, 2}, {2500, 3},
	}
	for _, tt := range tests {
		t.Run(strconv.Itoa(tt.n), func(t *testing.T) {
			s := newListServer(t, tt.n)
			c, _ := tokenClient(t, s)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
			if err != nil {
				t.Fatal(err)
			}
			ids := make([]string, len(got))
			for i, e := range got {
				ids[i] = e.ID
			}
			if !slices.Equal(ids, s.snapshot()) {
				t.Errorf("ListEndpoints returned %d endpoints, want the %d in order", len(ids), tt.n)
			}
			want(t, "list requests", s.requests, tt.requests)
		})
	}
}

// TestListConcurrentPages: the first page is read alone, the rest at once
// (bounded by Concurrency).
func TestListConcurrentPages(t *testing.T) {
	for _, conc := range []int{0, 2} {
		t.Run(fmt.Sprintf("concurrency %d", conc), func(t *testing.T) {
			s := newListServer(t, 10000)
			s.delay = 20 * time.Millisecond
			c, _ := tokenClient(t, s)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{Concurrency: conc})
			if err != nil {
				t.Fatal(err)
			}
			s.check(t, s.snapshot(), got)
			want(t, "endpoints", len(got), 10000)
			want(t, "list requests", s.requests, 11) // 1 + ceil(9000/950)
			if s.overlapped {
				t.Error("a page was requested before the first page was answered")
			}
			limit := conc
			if conc == 0 {
				limit = 4
			}
			if s.maxInflight < 2 || s.maxInflight > limit {
				t.Errorf("at most %d pages in flight, want 2..%d", s.maxInflight, limit)
			}
		})
	}
}

// TestListCappedPageSize: an API that answers fewer than 1000 per page.
func TestListCappedPageSize(t *testing.T) {
	s := newListServer(t, 1000)
	s.limitCap = 300
	c, _ := tokenClient(t, s)
	got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	s.check(t, s.snapshot(), got)
	want(t, "endpoints", len(got), 1000)
}

func TestListVPCFilter(t *testing.T) {
	var got string
	c, _ := tokenClient(t, serveBody(200, `{"endpoints":[],"total_count":0}`, &got))
	if _, err := c.ListEndpoints(t.Context(), otc.ListOptions{VPCID: "84758cf5-9c62-43ae-a778-3dbd8370c0a4"}); err != nil {
		t.Fatal(err)
	}
	want(t, "request", got, "GET /v1/"+testPID+"/vpc-endpoints?limit=1000&offset=0&sort_dir=asc&sort_key=created_at&vpc_id=84758cf5-9c62-43ae-a778-3dbd8370c0a4")
}

// TestListUnderChange changes the list while it is read.
func TestListUnderChange(t *testing.T) {
	tests := []struct {
		name   string
		n      int
		conc   int
		mutate func(s *listServer, n int)
	}{
		{
			// total_count stays the same: only overlapping pages can tell.
			name: "delete early and create late after the first page", n: 2500,
			mutate: func(s *listServer, n int) {
				if n == 2 {
					s.deleteAt(5)
					s.create()
				}
			},
		},
		{
			name: "a delete before every page", n: 5000,
			mutate: func(s *listServer, n int) {
				if n > 1 {
					s.deleteAt(n * 7 % 900)
				}
			},
		},
		{
			name: "creates during the listing", n: 3500,
			mutate: func(s *listServer, n int) {
				for range 3 {
					s.create()
				}
			},
		},
		{
			name: "shrinks below the planned pages", n: 2500,
			mutate: func(s *listServer, n int) {
				if n == 2 {
					for range 1500 {
						s.deleteAt(500)
					}
				}
			},
		},
		{
			name: "grows past the planned pages", n: 2500,
			mutate: func(s *listServer, n int) {
				if n == 2 {
					for range 1500 {
						s.create()
					}
				}
			},
		},
		{
			name: "deletes and creates, pages one at a time", n: 4000, conc: 1,
			mutate: func(s *listServer, n int) {
				if n%2 == 0 {
					s.deleteAt(n % len(s.items))
					s.create()
				}
			},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newListServer(t, tt.n)
			s.mutate = tt.mutate
			start := s.snapshot()
			c, _ := tokenClient(t, s)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{Concurrency: tt.conc})
			if err != nil {
				t.Fatal(err)
			}
			s.check(t, start, got)
		})
	}
}

// TestListRandomChurn: random deletes and creates between requests, pages
// read concurrently. The listing is complete, or an error says why.
func TestListRandomChurn(t *testing.T) {
	for seed := range uint64(40) {
		t.Run(fmt.Sprint(seed), func(t *testing.T) {
			rng := rand.New(rand.NewPCG(seed, 7))
			var mu sync.Mutex
			s := newListServer(t, 1500+rng.IntN(3000))
			s.delay = time.Duration(rng.IntN(3)) * time.Millisecond
			deletes, creates := rng.IntN(30), rng.IntN(30)
			s.mutate = func(s *listServer, n int) {
				mu.Lock()
				defer mu.Unlock()
				for range rng.IntN(deletes + 1) {
					if len(s.items) > 0 {
						s.deleteAt(rng.IntN(len(s.items)))
					}
				}
				for range rng.IntN(creates + 1) {
					s.create()
				}
			}
			start := s.snapshot()
			c, _ := tokenClient(t, s)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
			if err != nil {
				if !strings.Contains(err.Error(), "kept changing") {
					t.Fatal(err)
				}
				t.Logf("gave up: %v", err)
				return
			}
			s.check(t, start, got)
		})
	}
}

// TestListTooMuchChange: a set that changes faster than it can be read is
// an error after a few tries, not a wrong answer.
func TestListTooMuchChange(t *testing.T) {
	s := newListServer(t, 6000)
	s.mutate = func(s *listServer, n int) {
		if n > 1 {
			for _, id := range s.items[:1000] {
				s.deleted[id] = true
			}
			s.items = slices.Delete(s.items, 0, 1000)
			for range 1000 {
				s.create()
			}
		}
	}
	c, _ := tokenClient(t, s)
	_, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
	if err == nil || !strings.HasPrefix(err.Error(), "list: ") || !strings.Contains(err.Error(), "kept changing") {
		t.Fatalf("error = %v, want list: ... kept changing", err)
	}
	t.Logf("gave up after %d list requests: %v", s.requests, err)
	if s.requests > 3*10 {
		t.Errorf("%d list requests: giving up took too long", s.requests)
	}
}

// TestListPageError: a page that fails after its retries fails the listing.
func TestListPageError(t *testing.T) {
	s := newListServer(t, 3000)
	inner := s.ServeHTTP
	var n int
	var mu sync.Mutex
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		n++
		mu.Unlock()
		if r.URL.Query().Get("offset") == "1900" {
			w.WriteHeader(400)
			json.NewEncoder(w).Encode(map[string]string{"error_code": "EndPoint.0010", "error_msg": "Invalid offset."})
			return
		}
		inner(w, r)
	})
	c, _ := tokenClient(t, h)
	_, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
	if otc.Classify(err) != otc.Permanent || !strings.Contains(err.Error(), "EndPoint.0010") {
		t.Fatalf("error = %v, want the page's 400", err)
	}
}
