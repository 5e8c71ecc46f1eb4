package apply

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestReportJSON pins the report document of DESIGN.md ("Apply").
func TestReportJSON(t *testing.T) {
	start := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	rep := &Report{
		FormatVersion: ReportFormatVersion,
		StartedAt:     start,
		FinishedAt:    start.Add(42500 * time.Millisecond),
		Summary:       ReportSummary{Succeeded: 1, Failed: 1, Skipped: 1},
		Results: []Result{
			{Action: "create", Set: "payments", Name: "app-a", ProjectID: sim.ProjectID, ID: "2b1e5c52-9a4f-4d0e-8a8f-0c1d2e3f4a5b", Status: "accepted", Attempts: 2},
			{Action: "replace", Set: "payments", Name: "app-b", ProjectID: sim.ProjectID, ID: "", Status: "deleted", Attempts: 1,
				Error: "replace: create payments/app-b: create: HTTP 400 Endpoint.1018: Quota exceeded."},
			{Action: "create", Set: "payments", Name: "app-c", ProjectID: sim.ProjectID, Error: "not started: interrupted", skipped: true},
		},
		Interrupted: true,
	}
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	const want = `{
  "format_version": "1",
  "started_at": "2026-03-01T12:00:00Z",
  "finished_at": "2026-03-01T12:00:42.5Z",
  "summary": {
    "succeeded": 1,
    "failed": 1,
    "skipped": 1,
    "awaiting_approval": 0
  },
  "results": [
    {
      "action": "create",
      "set": "payments",
      "name": "app-a",
      "project_id": "0df25bbc87a24b1f9c1d2e3f4a5b6c7d",
      "id": "2b1e5c52-9a4f-4d0e-8a8f-0c1d2e3f4a5b",
      "status": "accepted",
      "attempts": 2,
      "error": ""
    },
    {
      "action": "replace",
      "set": "payments",
      "name": "app-b",
      "project_id": "0df25bbc87a24b1f9c1d2e3f4a5b6c7d",
      "id": "",
      "status": "deleted",
      "attempts": 1,
      "error": "replace: create payments/app-b: create: HTTP 400 Endpoint.1018: Quota exceeded."
    },
    {
      "action": "create",
      "set": "payments",
      "name": "app-c",
      "project_id": "0df25bbc87a24b1f9c1d2e3f4a5b6c7d",
      "id": "",
      "status": "",
      "attempts": 0,
      "error": "not started: interrupted"
    }
  ]
}
`
	if got := buf.String(); got != want {
		t.Errorf("WriteJSON =\n%s\nwant\n%s", got, want)
	}
	if got, want := rep.SummaryLine(), "Apply: 1 succeeded, 1 failed, 1 skipped in 42.5s."; got != want {
		t.Errorf("SummaryLine() = %q, want %q", got, want)
	}
	if rep.OK() {
		t.Error("OK() = true for a report with a failure")
	}
}

// TestReportOfRun checks the document of a real run: exactly the keys of
// DESIGN.md, a summary that adds up, results in plan order.
func TestReportOfRun(t *testing.T) {
	e := newSimEnv(t, sim.Options{}, clientOpts{})
	p := e.makePlan(t, endpoints("r", 3, 1), plan.Options{})
	p.Changes = append(p.Changes, plan.Change{Action: plan.Conflict, Set: "r", Name: "x", Reason: "owned by set other"})
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), p, time.Minute)
	var buf bytes.Buffer
	if err := rep.WriteJSON(&buf); err != nil {
		t.Fatal(err)
	}
	var doc map[string]json.RawMessage
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatal(err)
	}
	keys := func(m map[string]json.RawMessage) []string { return slices.Sorted(maps.Keys(m)) }
	if got, want := keys(doc), []string{"finished_at", "format_version", "results", "started_at", "summary"}; !slices.Equal(got, want) {
		t.Errorf("keys = %v, want %v", got, want)
	}
	var summary map[string]json.RawMessage
	var results []map[string]json.RawMessage
	if err := json.Unmarshal(doc["summary"], &summary); err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(doc["results"], &results); err != nil {
		t.Fatal(err)
	}
	if got, want := keys(summary), []string{"awaiting_approval", "failed", "skipped", "succeeded"}; !slices.Equal(got, want) {
		t.Errorf("summary keys = %v, want %v", got, want)
	}
	wantResult := []string{"action", "attempts", "error", "id", "name", "project_id", "set", "status"}
	for i, r := range results {
		if got := keys(r); !slices.Equal(got, wantResult) {
			t.Errorf("result %d keys = %v, want %v", i, got, wantResult)
		}
	}
	var back Report
	if err := json.Unmarshal(buf.Bytes(), &back); err != nil {
		t.Fatal(err)
	}
	if back.Summary != (ReportSummary{Succeeded: 3, Skipped: 1}) || len(back.Results) != 4 {
		t.Fatalf("summary %+v with %d results", back.Summary, len(back.Results))
	}
	for i, r := range back.Results {
		if c := p.Changes[i]; r.Name != c.Name || r.Action != string(c.Action) {
			t.Errorf("result %d = %s %s, want %s %s (plan order)", i, r.Action, r.Name, c.Action, c.Name)
		}
	}
	if back.FormatVersion != "1" || !back.FinishedAt.After(back.StartedAt) && !back.FinishedAt.Equal(back.StartedAt) {
		t.Errorf("format_version %q, started %v, finished %v", back.FormatVersion, back.StartedAt, back.FinishedAt)
	}
}

// instantAPI answers creates and deletes at once; deletes of "bad" fail.
type instantAPI struct{}

func (instantAPI) CreateEndpoint(_ context.Context, req *vpcep.CreateEndpointRequest) (*vpcep.Endpoint, int, error) {
	return &vpcep.Endpoint{ID: "ep-" + req.VPCID, Status: vpcep.StatusAccepted}, 1, nil
}

func (instantAPI) DeleteEndpoint(_ context.Context, id string) (int, error) {
	if id == "bad" {
		return 1, &otc.APIError{Op: otc.OpDelete, Status: http.StatusBadRequest, Code: "EndPoint.0005", Message: "invalid"}
	}
	return 1, nil
}

func (instantAPI) GetEndpoint(context.Context, string) (*vpcep.Endpoint, error) {
	return nil, errors.New("not used")
}
func (instantAPI) ListEndpoints(context.Context, otc.ListOptions) ([]vpcep.Endpoint, error) {
	return nil, nil
}
func (instantAPI) TagAction(context.Context, string, string, []vpcep.Tag) (int, error) {
	return 1, nil
}

func (instantAPI) AcceptConnection(context.Context, string, string) (int, error) { return 1, nil }
func (instantAPI) OwnsService(context.Context, string) (bool, error)             { return false, nil }

// retryingAPI answers every delete and tag call after three HTTP attempts.
type retryingAPI struct{ instantAPI }

func (retryingAPI) DeleteEndpoint(context.Context, string) (int, error) { return 3, nil }
func (retryingAPI) TagAction(context.Context, string, string, []vpcep.Tag) (int, error) {
	return 3, nil
}

// TestReportAttemptsCountHTTPAttempts: a result's attempts are the HTTP
// attempts the client made, for deletes and tags as for creates.
func TestReportAttemptsCountHTTPAttempts(t *testing.T) {
	tgt := plan.Target{Region: "eu-de", ProjectID: "p"}
	p := &plan.Plan{Changes: []plan.Change{
		{Action: plan.Delete, Set: "s", Name: "a", Region: tgt.Region, ProjectID: tgt.ProjectID, ID: "x"},
		{Action: plan.Tag, Set: "s", Name: "b", Region: tgt.Region, ProjectID: tgt.ProjectID, ID: "y",
			Desired: &vpcep.CreateEndpointRequest{Tags: []vpcep.Tag{{Key: "team", Value: "a"}}},
			Current: &vpcep.Endpoint{ID: "y", Tags: []vpcep.Tag{{Key: "team", Value: "b"}}}},
	}}
	rep := New(map[plan.Target]API{tgt: retryingAPI{}}, Options{}).Run(t.Context(), p)
	for _, r := range rep.Results {
		if r.Error != "" {
			t.Fatalf("%s: %s", r.Name, r.Error)
		}
	}
	if got := rep.Results[0].Attempts; got != 3 {
		t.Errorf("delete attempts = %d, want 3", got)
	}
	if got := rep.Results[1].Attempts; got != 3 {
		t.Errorf("tag attempts = %d, want 3 (one tag call)", got)
	}
}

// TestAwaitingApproval: a create whose endpoint ends pendingAcceptance is
// in place but not approved: counted and said apart from the successes.
func TestAwaitingApproval(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 20 * time.Millisecond}, clientOpts{})
	ds := []*manifests.Endpoint{
		{Set: "a", Name: "needs-ok", EndpointServiceID: sim.ServiceApprovalID, VPCID: uuid(1, 1), SubnetID: uuid(2, 1), Tags: map[string]string{}},
		{Set: "a", Name: "plain", EndpointServiceID: sim.ServiceInterfaceID, VPCID: uuid(1, 2), SubnetID: uuid(2, 2), Tags: map[string]string{}},
	}
	p := e.makePlan(t, ds, plan.Options{})
	var results []string
	o := fastOpts()
	o.Progress = func(ev Event) {
		if ev.Result != nil {
			results = append(results, ev.Result.Name+" "+ev.Result.result())
		}
	}
	rep := runFor(t, context.Background(), New(e.clients(), o), p, time.Minute)
	if want := (ReportSummary{Succeeded: 1, AwaitingApproval: 1}); rep.Summary != want {
		t.Errorf("summary %+v, want %+v", rep.Summary, want)
	}
	slices.Sort(results)
	if want := []string{"needs-ok awaiting_approval", "plain succeeded"}; !slices.Equal(results, want) {
		t.Errorf("results %v, want %v", results, want)
	}
	if line := rep.SummaryLine(); !strings.HasPrefix(line, "Apply: 1 succeeded, 1 awaiting approval, 0 failed, 0 skipped in ") {
		t.Errorf("summary line %q", line)
	}
}

// TestAdoptOnce: a plan that adopts one endpoint for two declared
// endpoints (a plan file edited, or merged) adopts it for the first; the
// second is left a conflict, never a second re-tagging that would take
// the endpoint from the first.
func TestAdoptOnce(t *testing.T) {
	e := newSimEnv(t, sim.Options{}, clientOpts{})
	ep := e.put("", "", sim.ServiceInterfaceID, uuid(1, 1), uuid(2, 1), vpcep.StatusAccepted)
	var changes []plan.Change
	for _, set := range []string{"a", "b"} {
		d := &manifests.Endpoint{Set: set, Name: "x", EndpointServiceID: sim.ServiceInterfaceID, VPCID: uuid(1, 1), SubnetID: uuid(2, 1), Tags: map[string]string{}}
		changes = append(changes, plan.Change{Action: plan.Adopt, Set: set, Name: "x", Region: sim.Region, ProjectID: sim.ProjectID, ID: ep.ID,
			Current: &ep, Desired: plan.CreateBody(d, &vpcep.Service{ID: sim.ServiceInterfaceID, ServiceType: vpcep.ServiceInterface})})
	}
	rep := runFor(t, context.Background(), New(e.clients(), fastOpts()), &plan.Plan{Changes: changes}, time.Minute)
	if want := (ReportSummary{Succeeded: 1, Skipped: 1, Conflicts: 1}); rep.Summary != want {
		t.Fatalf("summary %+v, want %+v; %+v", rep.Summary, want, rep.Results)
	}
	got, err := e.client.GetEndpoint(context.Background(), ep.ID)
	if err != nil {
		t.Fatal(err)
	}
	set, _ := got.TagValue(manifests.TagSet)
	won, lost := rep.Results[0], rep.Results[1]
	if won.result() != Succeeded {
		won, lost = lost, won
	}
	if set != won.Set || !strings.Contains(lost.Error, "adopted by "+won.Set+"/x in this run") {
		t.Errorf("endpoint tagged set %q, results %+v, %+v; want the winner's set and a conflict naming it", set, won, lost)
	}
}

// failingOwns is an API that cannot tell who owns a service.
type failingOwns struct{ API }

func (failingOwns) OwnsService(context.Context, string) (bool, error) {
	return false, errors.New("EndPoint.0001: internal error")
}

// TestCreatedOwnApproval: a created endpoint of a service the same
// project owns that ends awaiting approval is accepted in the run with
// --approve (one accept, ending accepted); without it, it stays awaiting
// approval and is counted as needing --approve; when ownership cannot be
// told, it only awaits approval. Another project's service asks once and
// is left to its owner.
func TestCreatedOwnApproval(t *testing.T) {
	for _, tt := range []struct {
		name        string
		approve     bool
		failOwns    bool
		status      string
		own, accept int
	}{
		{"--approve", true, false, vpcep.StatusAccepted, 0, 1},
		{"without --approve", false, false, vpcep.StatusPendingAcceptance, 1, 0},
		{"ownership unknown", true, true, vpcep.StatusPendingAcceptance, 0, 0},
	} {
		t.Run(tt.name, func(t *testing.T) {
			e := newSimEnv(t, sim.Options{AcceptAfter: 20 * time.Millisecond}, clientOpts{})
			ds := []*manifests.Endpoint{
				{Set: "a", Name: "own", EndpointServiceID: sim.ServiceOwnApprovalID, VPCID: uuid(1, 1), SubnetID: uuid(2, 1), Tags: map[string]string{}},
				{Set: "a", Name: "theirs", EndpointServiceID: sim.ServiceApprovalID, VPCID: uuid(1, 2), SubnetID: uuid(2, 2), Tags: map[string]string{}},
			}
			p := e.makePlan(t, ds, plan.Options{Approve: tt.approve})
			clients := e.clients()
			if tt.failOwns {
				for k, c := range clients {
					clients[k] = failingOwns{c}
				}
			}
			rep := runFor(t, context.Background(), New(clients, fastOpts()), p, time.Minute)
			byName := map[string]Result{}
			for _, r := range rep.Results {
				byName[r.Name] = r
			}
			if got := byName["own"]; got.Status != tt.status || got.Error != "" {
				t.Errorf("own: %+v, want status %s", got, tt.status)
			}
			if got := byName["theirs"]; got.Status != vpcep.StatusPendingAcceptance || got.Error != "" {
				t.Errorf("theirs: %+v, want pendingAcceptance", got)
			}
			if rep.Summary.OwnApproval != tt.own {
				t.Errorf("summary %+v, want %d own approval(s)", rep.Summary, tt.own)
			}
			if n := e.sim.Requests("connection_action", "POST"); n != tt.accept {
				t.Errorf("%d accept requests, want %d", n, tt.accept)
			}
		})
	}
}

// countingOwns counts the OwnsService questions.
type countingOwns struct {
	API
	n *atomic.Int64
}

func (c countingOwns) OwnsService(ctx context.Context, id string) (bool, error) {
	c.n.Add(1)
	return c.API.OwnsService(ctx, id)
}

// TestCreatedOwnApprovalAsksOnce: many endpoints of one service ending
// awaiting approval at once ask once whether the project owns it.
func TestCreatedOwnApprovalAsksOnce(t *testing.T) {
	e := newSimEnv(t, sim.Options{AcceptAfter: 20 * time.Millisecond}, clientOpts{})
	var ds []*manifests.Endpoint
	for i := range 12 {
		ds = append(ds, &manifests.Endpoint{Set: "a", Name: fmt.Sprint("own-", i), EndpointServiceID: sim.ServiceOwnApprovalID,
			VPCID: uuid(1, i), SubnetID: uuid(2, i), Tags: map[string]string{}})
	}
	p := e.makePlan(t, ds, plan.Options{Approve: true})
	var n atomic.Int64
	clients := e.clients()
	for k, c := range clients {
		clients[k] = countingOwns{c, &n}
	}
	o := fastOpts()
	o.Concurrency = 12
	rep := runFor(t, context.Background(), New(clients, o), p, time.Minute)
	if rep.Summary.Succeeded != 12 || n.Load() != 1 {
		t.Errorf("summary %+v, %d OwnsService questions; want 12 accepted after one question", rep.Summary, n.Load())
	}
}
