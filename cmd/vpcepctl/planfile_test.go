package main

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// changesSent counts the requests that change something.
func changesSent(s *sim.Sim) int {
	return s.Requests("create", "POST") + s.Requests("delete", "DELETE") + s.Requests("tags", "POST")
}

// TestPlanFileEdited: a plan file edited to touch an endpoint its sets do
// not own (an untagged one, another set's) is refused with exit 3 before
// any change is sent; the refusal names the change.
func TestPlanFileEdited(t *testing.T) {
	s, env := startSim(t, sim.Options{})
	dir := t.TempDir()
	m := writeManifest(t, dir, "payments", "keep")
	// keep is owned; gone is owned and no longer declared (--prune deletes
	// it); two endpoints a plan must never touch.
	s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: paymentsService, VPCID: vpcFor("payments", "keep"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "payments"}, {Key: manifests.TagName, Value: "keep"}}})
	s.Put(sim.ProjectID, vpcep.Endpoint{ID: "00000000-0000-4000-8000-00000000aaaa", EndpointServiceID: paymentsService, VPCID: vpcFor("other", "x"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "payments"}, {Key: manifests.TagName, Value: "gone"}}})
	s.Put(sim.ProjectID, vpcep.Endpoint{ID: "00000000-0000-4000-8000-00000000bbbb", EndpointServiceID: paymentsService, VPCID: vpcFor("other", "y"), SubnetID: testSubnet})
	s.Put(sim.ProjectID, vpcep.Endpoint{ID: "00000000-0000-4000-8000-00000000cccc", EndpointServiceID: paymentsService, VPCID: vpcFor("other", "z"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "billing"}, {Key: manifests.TagName, Value: "db"}}})
	pf := filepath.Join(dir, "plan.json")
	if _, stderr, code := runCLI(t, env, "plan", "-f", m, "--prune", "--out", pf); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	good, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(good), `"id": "00000000-0000-4000-8000-00000000aaaa"`) {
		t.Fatalf("the plan does not delete gone:\n%s", good)
	}
	for _, victim := range []string{"00000000-0000-4000-8000-00000000bbbb", "00000000-0000-4000-8000-00000000cccc"} {
		t.Run(victim, func(t *testing.T) {
			edited := filepath.Join(dir, "edited.json")
			body := strings.Replace(string(good), `"id": "00000000-0000-4000-8000-00000000aaaa"`, `"id": "`+victim+`"`, 1)
			if err := os.WriteFile(edited, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			before := changesSent(s)
			_, stderr, code := runCLI(t, env, "apply", "--yes", edited)
			if code != 3 || !strings.Contains(stderr, "touches endpoints it does not own") || !strings.Contains(stderr, "delete payments/gone "+victim) {
				t.Errorf("apply of an edited plan: exit %d, want 3 naming the change\n%s", code, stderr)
			}
			if n := changesSent(s) - before; n != 0 {
				t.Errorf("%d change requests sent for a refused plan file", n)
			}
		})
	}
	// The plan as made applies, and deletes gone only.
	if _, stderr, code := runCLI(t, env, "apply", "--yes", pf); code != 0 {
		t.Fatalf("apply of the plan as made: exit %d\n%s", code, stderr)
	}
	ids := map[string]bool{}
	for _, e := range s.Endpoints(sim.ProjectID) {
		if e.Status != vpcep.StatusDeleting {
			ids[e.ID] = true
		}
	}
	if ids["00000000-0000-4000-8000-00000000aaaa"] || !ids["00000000-0000-4000-8000-00000000bbbb"] || !ids["00000000-0000-4000-8000-00000000cccc"] {
		t.Errorf("after the apply: %v, want gone deleted and the other two untouched", ids)
	}
}

// TestPlanFileScope: a plan file records how it was made; applying it
// with a shard or flags it was not made with is refused, and another
// team's new endpoint does not make it stale.
func TestPlanFileScope(t *testing.T) {
	s, env := startSim(t, sim.Options{})
	dir := t.TempDir()
	m := writeManifest(t, dir, "payments", names("app", 6)...)
	pf := filepath.Join(dir, "plan.json")
	if _, stderr, code := runCLI(t, env, "plan", "-f", m, "--shard", "1/2", "--out", pf); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	var doc struct {
		Scope struct {
			Shard string `json:"shard"`
		} `json:"scope"`
	}
	data, _ := os.ReadFile(pf)
	if err := json.Unmarshal(data, &doc); err != nil || doc.Scope.Shard != "1/2" {
		t.Fatalf("plan file scope %+v (%v), want shard 1/2", doc.Scope, err)
	}
	if _, stderr, code := runCLI(t, env, "apply", "--yes", pf, "--shard", "0/2"); code != 3 || !strings.Contains(stderr, "--shard 0/2 (the plan was made with 1/2)") {
		t.Errorf("apply with another shard: exit %d, want 3\n%s", code, stderr)
	}
	if _, stderr, code := runCLI(t, env, "apply", "--yes", pf, "--prune"); code != 3 || !strings.Contains(stderr, "--prune (the plan was made without it)") {
		t.Errorf("apply with --prune: exit %d, want 3\n%s", code, stderr)
	}
	// Another team creates an endpoint meanwhile: not this plan's business.
	s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: paymentsService, VPCID: vpcFor("other", "other"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "billing"}, {Key: manifests.TagName, Value: "db"}}})
	if _, stderr, code := runCLI(t, env, "apply", "--yes", pf); code != 0 {
		t.Fatalf("apply without --shard (the file has it): exit %d\n%s", code, stderr)
	}
	// Now one of the set's endpoints is gone: a plan file made before is
	// stale, and the refusal names it.
	pf2 := filepath.Join(dir, "plan2.json")
	if _, stderr, code := runCLI(t, env, "plan", "-f", m, "--out", pf2); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	var victim vpcep.Endpoint
	for _, e := range s.Endpoints(sim.ProjectID) {
		if v, _ := e.TagValue(manifests.TagSet); v == "payments" {
			victim = e
		}
	}
	if err := s.SetStatus(sim.ProjectID, victim.ID, vpcep.StatusFailed); err != nil {
		t.Fatal(err)
	}
	_, stderr, code := runCLI(t, env, "apply", "--yes", pf2)
	if code != 3 || !strings.Contains(stderr, "plan is stale") || !strings.Contains(stderr, victim.ID) {
		t.Errorf("stale plan: exit %d, want 3 naming %s\n%s", code, victim.ID, stderr)
	}
}

// TestGarbageAnswers: a server that answers a list with something that is
// not a list document makes the run fail with exit 1, naming the server;
// nothing is created on the word of an empty answer, and an empty answer
// to a service lookup is not blamed on the manifest.
func TestGarbageAnswers(t *testing.T) {
	for _, tc := range []struct {
		name, route, body string
		status            int
	}{
		{"empty list body", "list", "", 200},
		{"empty list object", "list", "{}", 200},
		{"list answered 204", "list", "", 204},
		{"error document with 200", "list", `{"error_code":"EndPoint.0001","error_msg":"oops"}`, 200},
		{"empty service answer", "service", "", 200},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Options{})
			h := s.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				isList := r.Method == http.MethodGet && strings.HasSuffix(r.URL.Path, "/vpc-endpoints")
				isService := strings.HasSuffix(r.URL.Path, "/vpc-endpoint-services/describe")
				if tc.route == "list" && isList || tc.route == "service" && isService {
					w.WriteHeader(tc.status)
					w.Write([]byte(tc.body))
					return
				}
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			m := writeManifest(t, t.TempDir(), "payments", "a", "b")
			_, stderr, code := runCLI(t, sim.Env(srv.URL), "apply", "-f", m, "--yes")
			if code != 1 || !strings.Contains(stderr, srv.URL) {
				t.Errorf("exit %d, want 1 naming %s\n%s", code, srv.URL, stderr)
			}
			if n := s.Requests("create", "POST"); n != 0 {
				t.Errorf("%d creates sent on the word of a garbage answer", n)
			}
		})
	}
}
