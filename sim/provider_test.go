package sim

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestProviderSide: the project that owns a service sees its details and
// connections and accepts or rejects them, one at a time, with the API's
// error codes; to another project the service does not exist here.
func TestProviderSide(t *testing.T) {
	e := newEnv(t, Options{AcceptAfter: time.Second})
	own := e.create(vpcep.CreateEndpointRequest{EndpointServiceID: ServiceOwnApprovalID, VPCID: vpcA, SubnetID: subnetA})
	svc := "/vpc-endpoint-services/" + ServiceOwnApprovalID
	action := func(act string, ids ...string) result {
		return e.call(http.MethodPost, pp(svc+"/connections/action"), map[string]any{"action": act, "endpoints": ids})
	}
	if r := action("receive", own.ID); r.status != 400 || r.errorCode() != "EndPoint.2019" {
		t.Errorf("accept while creating: %d %s, want 400 EndPoint.2019", r.status, r.body)
	}
	e.clock.Advance(time.Second)
	if got, _ := e.get(own.ID); got.Status != vpcep.StatusPendingAcceptance {
		t.Fatalf("status %s, want pendingAcceptance", got.Status)
	}
	if r := e.call(http.MethodGet, pp(svc), nil); r.status != 200 {
		t.Errorf("details of an own service: %d %s", r.status, r.body)
	}
	var conns struct {
		Connections []connection `json:"connections"`
	}
	r := e.call(http.MethodGet, pp(svc+"/connections"), nil)
	if err := json.Unmarshal(r.body, &conns); err != nil || len(conns.Connections) != 1 || conns.Connections[0].ID != own.ID ||
		conns.Connections[0].Status != vpcep.StatusPendingAcceptance {
		t.Errorf("connections: %d %s", r.status, r.body)
	}
	for _, c := range []struct {
		act  string
		ids  []string
		code string
	}{
		{"approve", []string{own.ID}, "EndPoint.2027"},
		{"receive", []string{own.ID, own.ID}, "EndPoint.2031"},
		{"receive", []string{"00000000-0000-4000-8000-000000000000"}, "EndPoint.2013"},
	} {
		if r := action(c.act, c.ids...); r.status != 400 || r.errorCode() != c.code {
			t.Errorf("%s %v: %d %s, want 400 %s", c.act, c.ids, r.status, r.body, c.code)
		}
	}
	if r := action("receive", own.ID); r.status != 200 {
		t.Fatalf("accept: %d %s", r.status, r.body)
	}
	if got, _ := e.get(own.ID); got.Status != vpcep.StatusAccepted {
		t.Errorf("after accept: %s, want accepted", got.Status)
	}
	if r := action("receive", own.ID); r.errorCode() != "EndPoint.2014" {
		t.Errorf("accept twice: %d %s, want EndPoint.2014", r.status, r.body)
	}
	// Another project's service: not there.
	for _, path := range []string{"/vpc-endpoint-services/" + ServiceApprovalID, "/vpc-endpoint-services/" + ServiceApprovalID + "/connections"} {
		if r := e.call(http.MethodGet, pp(path), nil); r.status != 400 || r.errorCode() != "EndPoint.2003" {
			t.Errorf("GET %s: %d %s, want 400 EndPoint.2003", path, r.status, r.body)
		}
	}
}
