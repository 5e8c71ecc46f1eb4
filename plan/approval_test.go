package plan

import (
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestApproval: an owned endpoint awaiting approval is approved where
// the same project owns the service and --approve is given; a conflict
// naming the flag without it; nothing to do where another project owns
// the service (it awaits them), and a conflict saying who must approve
// when --approve asks for it.
func TestApproval(t *testing.T) {
	tests := []struct {
		owned, approve bool
		action         Action
		reason         string
	}{
		{true, true, Approve, "this project owns service com.t-systems.otc.eu-de.dns: accept the connection"},
		{true, false, Conflict, "--approve accepts it"},
		{false, false, Noop, ""},
		{false, true, Conflict, "ask them to accept endpoint ep-1 (--approve accepts only services the same project owns)"},
	}
	for _, tt := range tests {
		in := Input{Target: targetA, Services: services(),
			Desired:  []*manifests.Endpoint{want("p", "a")},
			Observed: []vpcep.Endpoint{have("ep-1", "p", "a", status(vpcep.StatusPendingAcceptance))}}
		if tt.owned {
			in.OwnedServices = map[string]bool{strings.ToLower(svcIf.ID): true}
		}
		p, err := Diff([]Input{in}, Options{Approve: tt.approve})
		if err != nil {
			t.Fatal(err)
		}
		got := Noop
		var reason string
		if len(p.Changes) == 1 {
			got, reason = p.Changes[0].Action, p.Changes[0].Reason
		}
		if got != tt.action || !strings.Contains(reason, tt.reason) || p.Summary.Count(tt.action) != 1 {
			t.Errorf("owned %v, --approve %v: %s %q (summary %+v), want %s with %q", tt.owned, tt.approve, got, reason, p.Summary, tt.action, tt.reason)
		}
		if wantAwaiting := tt.action == Noop; (p.AwaitingApproval == 1) != wantAwaiting {
			t.Errorf("owned %v, --approve %v: awaiting approval %d", tt.owned, tt.approve, p.AwaitingApproval)
		}
	}
}
