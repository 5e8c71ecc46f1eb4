package otc_test

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
)

// TestListShuffledTies: endpoints of one created_at second come back in a
// fresh order on every request, as the API returns them. Stitching pages
// by position or by a shared id loses some of them; the listing must not,
// whatever the page boundaries cut, with or without changes meanwhile.
func TestListShuffledTies(t *testing.T) {
	for _, perSecond := range []int{2, 16, 100, 600} {
		for _, churn := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d per second, churn %v", perSecond, churn), func(t *testing.T) {
				for listing := range 10 {
					s := newListServerPer(t, 2500+listing*37, perSecond)
					s.shuffle = true
					if churn {
						s.mutate = func(s *listServer, n int) {
							if n > 1 {
								s.deleteAt((n * 131) % len(s.items))
								s.create()
							}
						}
					}
					start := s.snapshot()
					c, _ := tokenClient(t, s)
					got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
					if err != nil {
						t.Fatalf("listing %d: %v", listing, err)
					}
					s.check(t, start, got)
				}
			})
		}
	}
}

// TestListGiantSecond: more endpoints in one second than a page holds
// (a bulk import). In a stable order the pages link by the endpoints they
// share; shuffled, a listing either holds every endpoint or fails, never
// less.
func TestListGiantSecond(t *testing.T) {
	s := newListServerPer(t, 2500, 100000)
	c, _ := tokenClient(t, s)
	got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
	if err != nil {
		t.Fatalf("stable order: %v", err)
	}
	s.check(t, s.snapshot(), got)

	for seed := range 5 {
		s := newListServerPer(t, 2500+seed, 100000)
		s.shuffle = true
		c, _ := tokenClient(t, s)
		got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
		if err != nil {
			t.Logf("shuffled: %v", err)
			continue
		}
		s.check(t, s.snapshot(), got)
	}
}

// hostile answers list requests as a broken or lying server would; page
// is called with the offset and returns the status and body.
func hostile(page func(offset int) (int, string)) (http.Handler, *int) {
	var mu sync.Mutex
	n := new(int)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		*n++
		mu.Unlock()
		off, _ := strconv.Atoi(r.URL.Query().Get("offset"))
		status, body := page(off)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		w.Write([]byte(body))
	}), n
}

// listBody renders endpoints [from, to) of a list whose i-th endpoint is
// ep-i, 16 per created_at second.
func listBody(from, to, total int) string {
	var b strings.Builder
	b.WriteString(`{"endpoints":[`)
	base := time.Date(2024, 8, 23, 7, 0, 0, 0, time.UTC)
	for i := from; i < to; i++ {
		if i > from {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `{"id":"ep-%d","status":"accepted","created_at":%q}`, i, base.Add(time.Duration(i/16)*time.Second).Format(time.RFC3339))
	}
	fmt.Fprintf(&b, `],"total_count":%d}`, total)
	return b.String()
}

// TestListUntrusted: answers that are not a list, or pages that cannot be
// believed, are errors naming the server, never an empty or short list.
func TestListUntrusted(t *testing.T) {
	tests := []struct {
		name string
		page func(offset int) (int, string)
		want string // in the error; "" = no error, all 1005 listed
		max  int    // MaxEndpoints
		reqs int    // at most this many requests (0 = no check)
	}{
		{name: "empty body", page: func(int) (int, string) { return 200, "" }, want: "empty body"},
		{name: "empty object", page: func(int) (int, string) { return 200, "{}" }, want: "no endpoints array"},
		{name: "no content", page: func(int) (int, string) { return 204, "" }, want: "empty body"},
		{name: "error document with 200", page: func(int) (int, string) {
			return 200, `{"error_code":"EndPoint.0001","error_msg":"System error."}`
		}, want: "error document (EndPoint.0001)"},
		{name: "null endpoints", page: func(int) (int, string) { return 200, `{"endpoints":null,"total_count":0}` }, want: "no endpoints array"},
		{name: "no total_count", page: func(int) (int, string) { return 200, `{"endpoints":[]}` }, want: "no total_count"},
		{name: "html", page: func(int) (int, string) { return 200, `<html>maintenance</html>` }, want: "JSON object"},
		{name: "offset ignored", page: func(int) (int, string) { return 200, listBody(0, 1000, 1005) }, want: "offset ignored"},
		{
			// total_count says 1000 of 1005: a full page is never the last.
			name: "total_count too low",
			page: func(off int) (int, string) { return 200, listBody(off, min(off+1000, 1005), 1000) },
		},
		{
			name: "total_count too high, pages end early",
			page: func(off int) (int, string) { return 200, listBody(off, min(off+1000, 1000), 1005) },
			want: "total_count 1005, 1000 unique endpoints",
		},
		{
			name: "pages without end",
			page: func(off int) (int, string) { return 200, listBody(off, off+1000, 1005) },
			want: "do not end", max: 5000, reqs: 12,
		},
		{
			name: "total_count beyond the bound", page: func(int) (int, string) { return 200, listBody(0, 1000, 1_000_000_000) },
			want: "total_count 1000000000 is more than", max: 2100, reqs: 1,
		},
		{
			name: "not sorted", page: func(off int) (int, string) {
				return 200, strings.Replace(listBody(off, min(off+1000, 1005), 1005), `"ep-3","status":"accepted","created_at":"2024-08-23T07:00:00Z"`,
					`"ep-3","status":"accepted","created_at":"2030-01-01T00:00:00Z"`, 1)
			}, want: "not sorted by created_at",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h, n := hostile(tt.page)
			c, srv := tokenClient(t, h)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{MaxEndpoints: tt.max})
			if tt.want == "" {
				if err != nil {
					t.Fatalf("error %v, want all 1005", err)
				}
				if len(got) != 1005 {
					t.Fatalf("%d endpoints, want 1005", len(got))
				}
				return
			}
			if err == nil {
				t.Fatalf("%d endpoints and no error, want an error with %q", len(got), tt.want)
			}
			var re *otc.ResponseError
			if !errors.As(err, &re) || otc.Classify(err) != otc.Permanent {
				t.Errorf("error %v (%T), want a permanent *otc.ResponseError", err, err)
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.Contains(err.Error(), srv.URL) {
				t.Errorf("error %q, want %q and the server %s", err, tt.want, srv.URL)
			}
			if tt.reqs > 0 && *n > tt.reqs {
				t.Errorf("%d requests, want at most %d", *n, tt.reqs)
			}
		})
	}
}
