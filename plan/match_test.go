package plan

// Matching without tags: unmanaged endpoints that several sets' endpoints
// could take, and endpoints of a set that lost their name tags.

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// setChanges returns the changes of one set, as "action name id".
func setChanges(p *Plan, set string) []string {
	var out []string
	for _, c := range p.Changes {
		if c.Set == set {
			out = append(out, fmt.Sprintf("%s %s %s", c.Action, c.Name, c.ID))
		}
	}
	return out
}

// TestDiffContendedUnmanaged: sets a and b each declare an endpoint with
// one natural key (service, VPC, subnet), and one unmanaged endpoint has
// that key. Planned alone, a/x adopts it (or is a conflict naming
// --adopt). Planned with b's manifest, neither set takes it on the
// strength of which manifests were passed: both are conflicts naming the
// other, and neither creates a second endpoint beside it (DESIGN.md's
// create rule). Found by the adversarial review of issue 10: b/w used to
// take it, and a/x became a create.
func TestDiffContendedUnmanaged(t *testing.T) {
	for _, adoptFlag := range []bool{false, true} {
		t.Run(fmt.Sprintf("adopt=%v", adoptFlag), func(t *testing.T) {
			observed := []vpcep.Endpoint{have("ep-console", "", "")}
			alone, err := Diff([]Input{{Target: targetA, Services: services(), Observed: observed,
				Desired: []*manifests.Endpoint{want("a", "x")}}}, Options{Adopt: adoptFlag})
			if err != nil {
				t.Fatal(err)
			}
			wantAlone := "conflict x ep-console"
			if adoptFlag {
				wantAlone = "adopt x ep-console"
			}
			if got := fmt.Sprint(setChanges(alone, "a")); got != "["+wantAlone+"]" {
				t.Errorf("set a alone: %s, want [%s]", got, wantAlone)
			}
			both, err := Diff([]Input{{Target: targetA, Services: services(), Observed: observed,
				Desired: []*manifests.Endpoint{want("a", "x"), want("b", "w")}}}, Options{Adopt: adoptFlag})
			if err != nil {
				t.Fatal(err)
			}
			for _, set := range []string{"a", "b"} {
				got := setChanges(both, set)
				if len(got) != 1 || !strings.HasPrefix(got[0], "conflict ") {
					t.Errorf("set %s with both manifests: %v, want one conflict", set, got)
				}
			}
			for _, c := range both.Changes {
				other := map[string]string{"a": "b/w", "b": "a/x"}[c.Set]
				if !strings.Contains(c.Reason, other) {
					t.Errorf("%s/%s: reason %q does not name %s", c.Set, c.Name, c.Reason, other)
				}
			}
		})
	}
}

// TestDiffNamelessByPortIP: two names of a set share a natural key (one
// subnet; they differ by port_ip), and both endpoints lost their name
// tags. Each name takes the endpoint whose fields match it, and is tagged
// again; neither is replaced. Found by the adversarial review of issue 10:
// matching by natural key alone swapped them.
func TestDiffNamelessByPortIP(t *testing.T) {
	nameless := func(e *vpcep.Endpoint) {
		e.Tags = []vpcep.Tag{{Key: "team", Value: "s"}, {Key: manifests.TagSet, Value: "s"}}
	}
	observed := []vpcep.Endpoint{
		// b's endpoint is the older one.
		have("ep-b", "", "", nameless, age(-time.Hour), func(e *vpcep.Endpoint) { e.IP = "10.0.0.6" }),
		have("ep-a", "", "", nameless, func(e *vpcep.Endpoint) { e.IP = "10.0.0.5" }),
	}
	desired := []*manifests.Endpoint{
		want("s", "a", func(d *manifests.Endpoint) { d.PortIP = "10.0.0.5" }),
		want("s", "b", func(d *manifests.Endpoint) { d.PortIP = "10.0.0.6" }),
	}
	p, err := Diff([]Input{{Target: targetA, Services: services(), Observed: observed, Desired: desired}}, Options{AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(setChanges(p, "s")); got != "[tag a ep-a tag b ep-b]" {
		t.Errorf("changes %s, want each name tagged again on its own endpoint", got)
	}
}
