package apply

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// fakeAPI holds endpoints in memory and counts GETs and lists.
type fakeAPI struct {
	API
	mu    sync.Mutex
	eps   map[string]*vpcep.Endpoint
	order []string
	gets  int
	lists int
}

func newFakeAPI(n int) *fakeAPI {
	f := &fakeAPI{eps: map[string]*vpcep.Endpoint{}}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("ep-%05d", i)
		f.eps[id] = &vpcep.Endpoint{ID: id, Status: vpcep.StatusCreating}
		f.order = append(f.order, id)
	}
	return f
}

func (f *fakeAPI) GetEndpoint(_ context.Context, id string) (*vpcep.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.gets++
	e, ok := f.eps[id]
	if !ok {
		return nil, &otc.APIError{Op: otc.OpGet, Status: 404, Code: vpcep.CodeNotFound}
	}
	c := *e
	return &c, nil
}

func (f *fakeAPI) ListEndpoints(context.Context, otc.ListOptions) ([]vpcep.Endpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.lists++
	var out []vpcep.Endpoint
	for _, id := range f.order {
		if e, ok := f.eps[id]; ok {
			out = append(out, *e)
		}
	}
	return out, nil
}

func (f *fakeAPI) counts() (gets, lists int) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gets, f.lists
}

func TestPollGetsOrLists(t *testing.T) {
	ids := func(n int) []string {
		out := make([]string, n)
		for i := range out {
			out[i] = fmt.Sprintf("ep-%05d", i)
		}
		return out
	}
	tests := []struct {
		name      string
		project   int // endpoints in the project
		listed    int // as the last listing found
		waiting   int
		wantGets  int
		wantLists int
	}{
		{"few: GET each", 5000, 0, 3, 3, 0},
		{"many: one listing", 5000, 0, 4, 0, 1},
		{"fewer than the pages of a large project: GET each", 5000, 5000, 5, 5, 0},
		{"more than its pages: one listing", 5000, 5000, 6, 0, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFakeAPI(tt.project)
			p := newPoller(f, time.Hour, 0, 0, slog.New(slog.DiscardHandler))
			p.listed = tt.listed
			got, _, err := p.poll(context.Background(), ids(tt.waiting), nil, nil, nil)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != tt.waiting {
				t.Errorf("poll learnt about %d endpoints, want %d", len(got), tt.waiting)
			}
			if gets, lists := f.counts(); gets != tt.wantGets || lists != tt.wantLists {
				t.Errorf("%d GETs and %d lists, want %d and %d", gets, lists, tt.wantGets, tt.wantLists)
			}
		})
	}
}

// TestPollMissingFromList: an endpoint missing from a listing is gone for
// a delete, but a create's endpoint is GET first (a few per poll).
func TestPollMissingFromList(t *testing.T) {
	f := newFakeAPI(10)
	p := newPoller(f, time.Hour, 0, 0, slog.New(slog.DiscardHandler))
	waiting := []string{"ep-00000", "ep-00001", "gone-1", "gone-2", "new-1", "new-2", "new-3", "new-4", "new-5"}
	confirm := map[string]bool{"new-1": true, "new-2": true, "new-3": true, "new-4": true, "new-5": true}
	got, _, err := p.poll(context.Background(), waiting, nil, confirm, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"gone-1", "gone-2"} {
		if e, ok := got[id]; !ok || e != nil {
			t.Errorf("%s: %v, %v; want gone", id, e, ok)
		}
	}
	confirmed := 0
	for id := range confirm {
		if e, ok := got[id]; ok {
			confirmed++
			if e != nil {
				t.Errorf("%s = %+v, want gone after the GET", id, e)
			}
		}
	}
	if gets, lists := f.counts(); lists != 1 || gets != fewGets || confirmed != fewGets {
		t.Errorf("%d lists, %d GETs, %d confirmed; want 1 list and %d GETs", lists, gets, confirmed, fewGets)
	}
}

// TestPollerWait: waiters get the endpoint once done says so, a timed-out
// waiter gets the last endpoint seen and is forgotten.
func TestPollerWait(t *testing.T) {
	f := newFakeAPI(1)
	p := newPoller(f, time.Millisecond, 0, 0, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.run(ctx)

	short, stop := context.WithTimeout(ctx, 20*time.Millisecond)
	defer stop()
	e, err := p.wait(short, "ep-00000", false, func(e *vpcep.Endpoint) bool { return e == nil || e.Status != vpcep.StatusCreating })
	if err == nil || e == nil || e.Status != vpcep.StatusCreating {
		t.Errorf("wait with a timeout = %+v, %v; want the creating endpoint and an error", e, err)
	}

	done := make(chan *vpcep.Endpoint)
	go func() {
		e, _ := p.wait(ctx, "ep-00000", false, func(e *vpcep.Endpoint) bool { return e != nil && e.Status == vpcep.StatusAccepted })
		done <- e
	}()
	f.mu.Lock()
	f.eps["ep-00000"].Status = vpcep.StatusAccepted
	f.mu.Unlock()
	select {
	case e := <-done:
		if e == nil || e.Status != vpcep.StatusAccepted {
			t.Errorf("wait = %+v, want accepted", e)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("wait did not return")
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.waiting) != 0 {
		t.Errorf("waiters left: %v", p.waiting)
	}
}

// TestPollSchedule: a wait is first polled a second after it began, then
// after gaps that double up to the poll interval; a poll covers the waits
// due within half the minimum gap, and a listing reports the others too.
func TestPollSchedule(t *testing.T) {
	p := newPoller(newFakeAPI(1), 10*time.Second, 100, 0, slog.New(slog.DiscardHandler))
	if p.first != time.Second || p.minGap != 500*time.Millisecond {
		t.Fatalf("first poll %v, minimum gap %v; want 1s and 0.5s at 100 requests/s", p.first, p.minGap)
	}
	if q := newPoller(newFakeAPI(1), 10*time.Second, 10, 0, nil); q.minGap != time.Second {
		t.Errorf("minimum gap at 10 requests/s = %v, want 1s (a tenth of the requests)", q.minGap)
	}
	w := &waiter{}
	p.waiting["a"] = []*waiter{w}
	p.begin(&w.schedule)
	t0 := w.due.Add(-time.Second)
	prev := t0
	var gaps []time.Duration
	for range 6 {
		next := p.next()
		gaps = append(gaps, next.Sub(prev))
		if ids, _, _, _ := p.collect(next); len(ids) != 1 {
			t.Fatalf("poll at %v covers %v, want the wait", next.Sub(t0), ids)
		}
		prev = next
	}
	want := []time.Duration{1, 2, 4, 8, 10, 10}
	for i := range want {
		want[i] *= time.Second
	}
	if fmt.Sprint(gaps) != fmt.Sprint(want) {
		t.Errorf("gaps between the polls of one wait %v, want %v", gaps, want)
	}

	// A poll at t covers what is due by t plus half the minimum gap.
	late := &waiter{schedule: schedule{due: t0.Add(41*time.Second + 200*time.Millisecond), gap: time.Second}}
	p.waiting["b"] = []*waiter{late}
	w.due = t0.Add(41 * time.Second)
	ids, others, _, _ := p.collect(t0.Add(41 * time.Second))
	if fmt.Sprint(ids) != "[a b]" && fmt.Sprint(ids) != "[b a]" || len(others) != 0 {
		t.Errorf("poll at 41s covers %v (others %v), want both waits", ids, others)
	}
	ids, others, _, _ = p.collect(t0.Add(42 * time.Second))
	if len(ids) != 0 || len(others) != 2 {
		t.Errorf("poll at 42s covers %v, others %v; want none due, both others", ids, others)
	}
}
