package main

// Found by the adversarial review of issue 10: plan files edited so that they touch
// endpoints their sets do not own, and are still applied.

//
// Each test's comment describes what the review found; the test checks
// that it no longer happens.

import (
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

// TestPlanFileDeletesAnotherSetsEndpoint: a plan file made for set
// payments (scope: sets [payments]) is edited so that its one delete names
// another set's endpoint together with that set's set and name. The
// fingerprint and the scope are untouched. CheckChanges only compares the
// change's own set/name with the endpoint's tags, never with the sets the
// plan declares, so the edited file deletes billing/db and exits 0.
func TestPlanFileDeletesAnotherSetsEndpoint(t *testing.T) {
	s, env := startSim(t, sim.Options{})
	dir := t.TempDir()
	m := writeManifest(t, dir, "payments", "keep")
	s.Put(sim.ProjectID, vpcep.Endpoint{EndpointServiceID: paymentsService, VPCID: vpcFor("payments", "keep"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "payments"}, {Key: manifests.TagName, Value: "keep"}}})
	s.Put(sim.ProjectID, vpcep.Endpoint{ID: "00000000-0000-4000-8000-00000000aaaa", EndpointServiceID: paymentsService, VPCID: vpcFor("other", "x"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "payments"}, {Key: manifests.TagName, Value: "gone"}}})
	const victim = "00000000-0000-4000-8000-00000000cccc"
	s.Put(sim.ProjectID, vpcep.Endpoint{ID: victim, EndpointServiceID: paymentsService, VPCID: vpcFor("other", "z"), SubnetID: testSubnet,
		Tags: []vpcep.Tag{{Key: manifests.TagSet, Value: "billing"}, {Key: manifests.TagName, Value: "db"}}})
	pf := filepath.Join(dir, "plan.json")
	if _, stderr, code := runCLI(t, env, "plan", "-f", m, "--prune", "--out", pf); code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, stderr)
	}
	good, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	body := string(good)
	for _, r := range [][2]string{
		{`"id": "00000000-0000-4000-8000-00000000aaaa"`, `"id": "` + victim + `"`},
		{`"set": "payments",
      "name": "gone"`, `"set": "billing",
      "name": "db"`},
	} {
		if !strings.Contains(body, r[0]) {
			t.Fatalf("plan file does not hold %q:\n%s", r[0], body)
		}
		body = strings.Replace(body, r[0], r[1], 1)
	}
	edited := filepath.Join(dir, "edited.json")
	if err := os.WriteFile(edited, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	before := changesSent(s)
	_, stderr, code := runCLI(t, env, "apply", "--yes", edited)
	if code != 3 {
		t.Errorf("apply of a payments plan edited to delete billing/db: exit %d, want 3\n%s", code, stderr)
	}
	if n := changesSent(s) - before; n != 0 {
		t.Errorf("%d change requests sent for a plan file that touches another set", n)
	}
	alive := false
	for _, e := range s.Endpoints(sim.ProjectID) {
		alive = alive || e.ID == victim && e.Status != vpcep.StatusDeleting
	}
	if !alive {
		t.Errorf("billing/db (%s), owned by a set the plan does not declare, was deleted", victim)
	}
}

// TestPlanFileAdoptWithoutAdopt: a plan made without --adopt
// (scope.adopt false) shows the unmanaged endpoint with the declared
// natural key as a conflict ("--adopt takes it over"). Edited to say
// "adopt" (the action only), the file is applied without --adopt: the
// unmanaged endpoint gets our tags. A second variant adopts an unmanaged
// endpoint that shares no natural key with anything declared.
func TestPlanFileAdoptWithoutAdopt(t *testing.T) {
	for _, variant := range []string{"conflict-to-adopt", "adopt-unrelated"} {
		t.Run(variant, func(t *testing.T) {
			s, env := startSim(t, sim.Options{})
			dir := t.TempDir()
			m := writeManifest(t, dir, "payments", "app")
			const mine = "00000000-0000-4000-8000-00000000dddd"
			const unrelated = "00000000-0000-4000-8000-00000000eeee"
			// Unmanaged, with app's natural key.
			s.Put(sim.ProjectID, vpcep.Endpoint{ID: mine, EndpointServiceID: paymentsService, VPCID: vpcFor("payments", "app"), SubnetID: testSubnet})
			// Unmanaged, another team's VPC: nothing declared has its key.
			s.Put(sim.ProjectID, vpcep.Endpoint{ID: unrelated, EndpointServiceID: paymentsService, VPCID: vpcFor("someone", "else"), SubnetID: testSubnet})
			pf := filepath.Join(dir, "plan.json")
			if _, stderr, code := runCLI(t, env, "plan", "-f", m, "--out", pf); code != 0 {
				t.Fatalf("plan: exit %d\n%s", code, stderr)
			}
			good, _ := os.ReadFile(pf)
			body := string(good)
			if !strings.Contains(body, `"action": "conflict"`) || !strings.Contains(body, `"adopt": false`) {
				t.Fatalf("want a conflict in a plan made without --adopt:\n%s", body)
			}
			body = strings.Replace(body, `"action": "conflict"`, `"action": "adopt"`, 1)
			// The summary counts the changes (plan.Read checks it).
			body = strings.Replace(body, `"adopt": 0,`, `"adopt": 1,`, 1)
			body = strings.Replace(body, `"conflict": 1,`, `"conflict": 0,`, 1)
			victim := mine
			if variant == "adopt-unrelated" {
				body = strings.Replace(body, `"id": "`+mine+`"`, `"id": "`+unrelated+`"`, 1)
				victim = unrelated
			}
			edited := filepath.Join(dir, "edited.json")
			if err := os.WriteFile(edited, []byte(body), 0o600); err != nil {
				t.Fatal(err)
			}
			before := changesSent(s)
			_, stderr, code := runCLI(t, env, "apply", "--yes", edited)
			t.Logf("apply: exit %d\n%s", code, stderr)
			if code != 3 {
				t.Errorf("apply of a plan made without --adopt, edited to adopt %s: exit %d, want 3\n%s", victim, code, stderr)
			}
			if n := changesSent(s) - before; n != 0 {
				t.Errorf("%d change requests sent", n)
			}
			for _, e := range s.Endpoints(sim.ProjectID) {
				if set, ok := e.TagValue(manifests.TagSet); e.ID == victim && ok {
					t.Errorf("unmanaged endpoint %s now carries %s=%s", victim, manifests.TagSet, set)
				}
			}
		})
	}
}

// TestGarbageServiceAnswerBlamedOnManifest: issue 10: "server
// garbage is exit 1 with the server named, never exit 3". A service
// lookup answered 400 or 404 with a body that is not an API error document
// (empty, an HTML page from a proxy) is taken for "no such service"
// (engine.go isBadService / IsNotFound) and reported as a manifest error
// with its file:line:col, exit 3, without naming the server.
func TestGarbageServiceAnswerBlamedOnManifest(t *testing.T) {
	for _, tc := range []struct {
		name, body string
		status     int
	}{
		{"400 empty", "", 400},
		{"400 html", "<html><body>Bad Gateway Config</body></html>", 400},
		{"404 html", "<html><body>404 Not Found</body></html>", 404},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s := sim.New(sim.Options{})
			h := s.Handler()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				if strings.HasSuffix(r.URL.Path, "/vpc-endpoint-services/describe") {
					w.WriteHeader(tc.status)
					w.Write([]byte(tc.body))
					return
				}
				h.ServeHTTP(w, r)
			}))
			t.Cleanup(srv.Close)
			m := writeManifest(t, t.TempDir(), "payments", "a")
			_, stderr, code := runCLI(t, sim.Env(srv.URL), "plan", "-f", m)
			if code != 1 || !strings.Contains(stderr, srv.URL) {
				t.Errorf("exit %d, want 1 naming %s\n%s", code, srv.URL, stderr)
			}
		})
	}
}
