package sim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// post sends a create and reports whether an answer came, and its status.
func (e *env) postCreate(req vpcep.CreateEndpointRequest) (int, bool) {
	e.t.Helper()
	body, _ := json.Marshal(req)
	hr, _ := http.NewRequest("POST", e.srv.URL+pp("/vpc-endpoints"), bytes.NewReader(body))
	hr.Header.Set("X-Auth-Token", e.token)
	resp, err := e.srv.Client().Do(hr)
	if err != nil {
		return 0, false
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode, true
}

// A lost create with CommitDelay commits only later: nothing is there when
// the answer is lost, the endpoint appears within CommitDelay, with the
// commit time as created_at.
func TestCommitDelay(t *testing.T) {
	e := newEnv(t, Options{LostRate: 1, CommitDelay: 40 * time.Second, Seed: 4})
	start := e.clock.Now()
	for i := range 20 {
		if st, ok := e.postCreate(createReq(vpcA, subnetA, vpcep.Tag{Key: "n", Value: fmt.Sprint(i)})); ok && st != 504 {
			t.Fatalf("lost create answered %d", st)
		}
	}
	if n := len(e.sim.Endpoints(ProjectID)); n != 0 {
		t.Fatalf("%d endpoints right after the lost answers, want none yet", n)
	}
	if l := e.list("limit=1000"); l.TotalCount != 0 {
		t.Fatalf("list total_count = %d right after, want 0", l.TotalCount)
	}
	seen := map[string]bool{}
	var late int
	for step := range 40 {
		e.clock.Advance(time.Second)
		for _, ep := range e.sim.Endpoints(ProjectID) {
			if seen[ep.ID] {
				continue
			}
			seen[ep.ID] = true
			if step > 0 {
				late++
			}
			// Committed during the last second (between two looks), so
			// created_at is that second.
			if seenAt := start.Add(time.Duration(step+1) * time.Second); ep.CreatedAt.Before(seenAt.Add(-time.Second)) || ep.CreatedAt.After(seenAt) {
				t.Errorf("created_at %s, want the commit second (seen at %s)", ep.CreatedAt, seenAt)
			}
		}
	}
	if len(seen) != 20 {
		t.Fatalf("%d endpoints after CommitDelay, want 20", len(seen))
	}
	if late < 10 {
		t.Errorf("only %d of 20 committed after the first second: the delay is not spread", late)
	}
	// Bad bodies are refused at once, never committed late.
	if r := e.call("POST", pp("/vpc-endpoints"), createReq("nope", subnetA)); r.status != 400 {
		t.Errorf("bad create with CommitDelay = %d, want 400", r.status)
	}
}

// A pending create survives Save and Load and commits in the next process.
func TestCommitDelaySaveLoad(t *testing.T) {
	e := newEnv(t, Options{LostRate: 1, CommitDelay: 10 * time.Second, Seed: 2})
	e.postCreate(createReq(vpcA, subnetA, vpcep.Tag{Key: "vpcepctl-name", Value: "late"}))
	var saved bytes.Buffer
	if err := e.sim.Save(&saved); err != nil {
		t.Fatal(err)
	}
	s2 := New(Options{Now: e.clock.Now})
	if err := s2.Load(&saved); err != nil {
		t.Fatal(err)
	}
	if n := len(s2.Endpoints(ProjectID)); n != 0 {
		t.Fatalf("%d endpoints before the commit time", n)
	}
	e.clock.Advance(10 * time.Second)
	got := s2.Endpoints(ProjectID)
	if len(got) != 1 || got[0].Tags[0].Value != "late" {
		t.Fatalf("after the commit time: %+v, want the late endpoint", got)
	}
	saved.Reset()
	if err := s2.Save(&saved); err != nil {
		t.Fatal(err)
	}
	s3 := New(Options{Now: e.clock.Now})
	if err := s3.Load(&saved); err != nil {
		t.Fatal(err)
	}
	if n := len(s3.Endpoints(ProjectID)); n != 1 {
		t.Errorf("committed twice or lost: %d endpoints", n)
	}
}

// With TieOrder random, endpoints of one created_at second come back in a
// different order on each list request, and pages stitched by offset can
// miss some of them: the fault vpcepctl's listing must survive.
func TestTieOrderRandom(t *testing.T) {
	e := newEnv(t, Options{TieOrder: TieRandom, Seed: 9})
	for i := range 300 {
		e.sim.Put(ProjectID, vpcep.Endpoint{EndpointServiceID: ServiceInterfaceID, VPCID: vpcA, SubnetID: subnetA})
		if i%30 == 29 {
			e.clock.Advance(time.Second)
		}
	}
	ids := func(l vpcep.ListEndpointsResponse) []string {
		var out []string
		for _, ep := range l.Endpoints {
			out = append(out, ep.ID)
		}
		return out
	}
	a, b := e.list("limit=1000&sort_key=created_at&sort_dir=asc"), e.list("limit=1000&sort_key=created_at&sort_dir=asc")
	if slices.Equal(ids(a), ids(b)) {
		t.Fatal("two lists gave the same order: ties are not shuffled")
	}
	for i := 1; i < len(a.Endpoints); i++ {
		if a.Endpoints[i].CreatedAt.Before(a.Endpoints[i-1].CreatedAt.Time) {
			t.Fatalf("list not sorted by created_at at %d", i)
		}
	}
	x, y := slices.Clone(ids(a)), ids(b)
	slices.Sort(x)
	slices.Sort(y)
	if !slices.Equal(x, y) {
		t.Fatal("the two lists hold different endpoints")
	}
	// Naive offset paging (no overlap) loses some endpoints in some listing.
	missed := 0
	for range 20 {
		seen := map[string]bool{}
		for off := 0; off < 300; off += 50 {
			for _, id := range ids(e.list(fmt.Sprintf("limit=50&offset=%d&sort_key=created_at&sort_dir=asc", off))) {
				seen[id] = true
			}
		}
		missed += 300 - len(seen)
	}
	if missed == 0 {
		t.Error("naive paging never missed an endpoint: the fault does not bite")
	}
	// Stable order (the default) is the same on every request.
	s := newEnv(t, Options{Seed: 9})
	for range 40 {
		s.sim.Put(ProjectID, vpcep.Endpoint{EndpointServiceID: ServiceInterfaceID, VPCID: vpcA, SubnetID: subnetA})
	}
	if !slices.Equal(ids(s.list("limit=1000&sort_dir=asc")), ids(s.list("limit=1000&sort_dir=asc"))) {
		t.Error("stable tie order differs between lists")
	}
}

// With GetLag, GET answers 404 for a fresh endpoint that lists show.
func TestGetLag(t *testing.T) {
	e := newEnv(t, Options{GetLag: 3 * time.Second})
	ep := e.create(createReq(vpcA, subnetA))
	if _, r := e.get(ep.ID); r.status != 404 {
		t.Fatalf("GET right after create = %d, want 404", r.status)
	}
	if l := e.list("limit=10"); l.TotalCount != 1 {
		t.Fatalf("list right after create: %d endpoints, want 1", l.TotalCount)
	}
	e.clock.Advance(3 * time.Second)
	if _, r := e.get(ep.ID); r.status != 200 {
		t.Errorf("GET after the lag = %d, want 200", r.status)
	}
}
