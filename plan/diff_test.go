package plan

import (
	"errors"
	"fmt"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// line is a change as the tests compare it.
type line struct {
	action Action
	name   string // set/name
	id     string
}

func (l line) String() string { return fmt.Sprintf("%s %s %s", l.action, l.name, l.id) }

func lines(p *Plan) []line {
	out := []line{}
	for _, c := range p.Changes {
		out = append(out, line{c.Action, c.Set + "/" + c.Name, c.ID})
	}
	return out
}

func TestDiff(t *testing.T) {
	all := Options{Adopt: true, Prune: true, AllowReplace: true}
	for _, tc := range []struct {
		name     string
		opts     Options
		sets     []string
		desired  []*manifests.Endpoint
		observed []vpcep.Endpoint
		want     []line // changes; noops are only counted
		noop     int
		unpruned int
		reason   string // in the first change's reason
	}{
		{
			name:    "nothing there: create",
			desired: []*manifests.Endpoint{want("p", "a")},
			want:    []line{{Create, "p/a", ""}},
		},
		{
			name:     "same: noop",
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a")},
			want:     []line{}, noop: 1,
		},
		{
			name:     "creating without its ip yet: noop, not a second create",
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.PortIP = "10.0.0.5" })},
			observed: []vpcep.Endpoint{have("e1", "p", "a", status(vpcep.StatusCreating), func(e *vpcep.Endpoint) { e.IP = "" })},
			want:     []line{}, noop: 1,
		},
		{
			name:     "pendingAcceptance: noop",
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a", status(vpcep.StatusPendingAcceptance))},
			want:     []line{}, noop: 1,
		},
		{
			name:     "rejected: conflict with the reason",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a", status(vpcep.StatusRejected))},
			want:     []line{{Conflict, "p/a", "e1"}}, reason: "status rejected",
		},
		{
			name:     "failed: replace without --allow-replace",
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a", status(vpcep.StatusFailed))},
			want:     []line{{Replace, "p/a", "e1"}}, reason: "status failed",
		},
		{
			name:     "drift without --allow-replace: conflict naming the flag and the field",
			opts:     Options{Adopt: true, Prune: true},
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.PortIP = "10.0.0.5" })},
			observed: []vpcep.Endpoint{have("e1", "p", "a")},
			want:     []line{{Conflict, "p/a", "e1"}}, reason: "forces replacement: port_ip 10.0.0.10 -> 10.0.0.5; --allow-replace",
		},
		{
			name:     "drift with --allow-replace: replace naming the field",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.EnableDNS = ptr(true) })},
			observed: []vpcep.Endpoint{have("e1", "p", "a")},
			want:     []line{{Replace, "p/a", "e1"}}, reason: "forces replacement: enable_dns false -> true",
		},
		{
			name:     "another vpc: replace",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.VPCID = vpc2 })},
			observed: []vpcep.Endpoint{have("e1", "p", "a")},
			want:     []line{{Replace, "p/a", "e1"}}, reason: "vpc_id " + vpc1 + " -> " + vpc2,
		},
		{
			name:     "gateway ignores enable_dns, unset routetables is the default",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "g", gateway, func(d *manifests.Endpoint) { d.EnableDNS = ptr(true) })},
			observed: []vpcep.Endpoint{have("e1", "p", "g", gatewayHave)},
			want:     []line{}, noop: 1,
		},
		{
			name: "gateway with routetables: [] and policy_statement: [] means the defaults",
			opts: all,
			desired: []*manifests.Endpoint{want("p", "g", gateway, func(d *manifests.Endpoint) {
				d.RouteTables, d.PolicyStatement = []string{}, []manifests.PolicyStatement{}
			})},
			observed: []vpcep.Endpoint{have("e1", "p", "g", gatewayHave)},
			want:     []line{}, noop: 1,
		},
		{
			name: "gateway with routetables set and different: replace",
			opts: all,
			desired: []*manifests.Endpoint{want("p", "g", gateway, func(d *manifests.Endpoint) {
				d.RouteTables = []string{"eeeeeeee-0000-4000-8000-00000000000e"}
			})},
			observed: []vpcep.Endpoint{have("e1", "p", "g", gatewayHave)},
			want:     []line{{Replace, "p/g", "e1"}}, reason: "routetables [" + rtMain + "] -> [eeeeeeee",
		},
		{
			name: "gateway policy in another order: noop",
			desired: []*manifests.Endpoint{want("p", "g", gateway, func(d *manifests.Endpoint) {
				d.PolicyStatement = []manifests.PolicyStatement{{Effect: "Allow", Action: []string{"obs:*:*"}, Resource: []string{"*:*:*:*:*"}}}
			})},
			observed: []vpcep.Endpoint{have("e1", "p", "g", gatewayHave)},
			want:     []line{}, noop: 1,
		},
		{
			name: "gateway policy different: conflict",
			desired: []*manifests.Endpoint{want("p", "g", gateway, func(d *manifests.Endpoint) {
				d.PolicyStatement = []manifests.PolicyStatement{{Effect: "Deny", Action: []string{"obs:*:*"}, Resource: []string{"*:*:*:*:*"}}}
			})},
			observed: []vpcep.Endpoint{have("e1", "p", "g", gatewayHave)},
			want:     []line{{Conflict, "p/g", "e1"}}, reason: "policy_statement",
		},
		{
			name:    "whitelist in another order, ids in upper case: noop",
			desired: []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.Whitelist = []string{"10.0.0.1", "10.0.0.2"} })},
			observed: []vpcep.Endpoint{have("e1", "p", "a", func(e *vpcep.Endpoint) {
				e.Whitelist, e.VPCID = []string{"10.0.0.2", "10.0.0.1"}, strings.ToUpper(vpc1)
			})},
			want: []line{}, noop: 1,
		},
		{
			name:     "description set and different: conflict; unset: not compared",
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.Description = "new text" }), want("p", "b")},
			observed: []vpcep.Endpoint{have("e1", "p", "a"), have("e2", "p", "b", func(e *vpcep.Endpoint) { e.Description = "old" })},
			want:     []line{{Conflict, "p/a", "e1"}}, noop: 1, reason: `description "" -> "new text"`,
		},
		{
			name:     "only tags differ: tag",
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.Tags["env"] = "prod" })},
			observed: []vpcep.Endpoint{have("e1", "p", "a")},
			want:     []line{{Tag, "p/a", "e1"}}, reason: "tags: +env=prod",
		},
		{
			name:     "a user tag too many: tag",
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a", func(e *vpcep.Endpoint) { e.Tags = append(e.Tags, vpcep.Tag{Key: "x", Value: "y"}) })},
			want:     []line{{Tag, "p/a", "e1"}}, reason: "tags: -x",
		},
		{
			name:     "unmanaged with the natural key, no --adopt: conflict naming the flag",
			opts:     Options{Prune: true, AllowReplace: true},
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("u1", "", "")},
			want:     []line{{Conflict, "p/a", "u1"}}, reason: "--adopt",
		},
		{
			name:     "unmanaged with the natural key, --adopt: adopt",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("u1", "", "")},
			want:     []line{{Adopt, "p/a", "u1"}}, reason: "unmanaged endpoint with the same service, VPC and subnet",
		},
		{
			name:     "unmanaged with a name tag only is unmanaged",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("u1", "", "", func(e *vpcep.Endpoint) { e.Tags = []vpcep.Tag{{Key: manifests.TagName, Value: "a"}} })},
			want:     []line{{Adopt, "p/a", "u1"}},
		},
		{
			name:     "adopt says what will force replacement once adopted",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a", func(d *manifests.Endpoint) { d.PortIP = "10.0.0.5" })},
			observed: []vpcep.Endpoint{have("u1", "", "")},
			want:     []line{{Adopt, "p/a", "u1"}}, reason: "once adopted, forces replacement: port_ip",
		},
		{
			name:     "unmanaged interface endpoint in another subnet: create",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("u1", "", "", func(e *vpcep.Endpoint) { e.SubnetID = subB })},
			want:     []line{{Create, "p/a", ""}},
		},
		{
			name:     "unmanaged gateway endpoint: the subnet is not part of the key",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "g", gateway)},
			observed: []vpcep.Endpoint{have("u1", "", "", gatewayHave)},
			want:     []line{{Adopt, "p/g", "u1"}}, reason: "same service and VPC",
		},
		{
			name:     "one unmanaged endpoint, two wanting it: one adopts, one creates",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "b"), want("p", "a")},
			observed: []vpcep.Endpoint{have("u1", "", "")},
			want:     []line{{Adopt, "p/a", "u1"}, {Create, "p/b", ""}},
		},
		{
			name:     "two unmanaged: the accepted one is adopted",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("u1", "", "", status(vpcep.StatusFailed), age(-time.Hour)), have("u2", "", "")},
			want:     []line{{Adopt, "p/a", "u2"}},
		},
		{
			// The plan of a set is the same whichever other manifests are
			// passed: another set's endpoint is never in the way.
			name:     "another set's endpoint with the natural key: create, as if it were not there",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("o1", "other", "a")},
			want:     []line{{Create, "p/a", ""}},
		},
		{
			name:     "another set's endpoint of the same name elsewhere: untouched",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("o1", "other", "a", func(e *vpcep.Endpoint) { e.VPCID = vpc2 }), have("e1", "p", "a")},
			want:     []line{}, noop: 1,
		},
		{
			// The keeper rule reads facts that never change (created_at,
			// id), not the status, so overlapping runs agree on it.
			name:    "duplicates: the oldest is kept, whatever its status",
			opts:    all,
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e1", "p", "a", status(vpcep.StatusCreating), age(-time.Hour)),
				have("e2", "p", "a", age(time.Hour)),
			},
			want: []line{{Delete, "p/a", "e2"}}, noop: 1, reason: "duplicate of e1, the oldest, which is kept",
		},
		{
			name:    "duplicates created in the same second: the smallest id is kept",
			opts:    all,
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e3", "p", "a"), have("e1", "p", "a", status(vpcep.StatusCreating)), have("e2", "p", "a"),
			},
			want: []line{{Delete, "p/a", "e2"}, {Delete, "p/a", "e3"}}, noop: 1, reason: "duplicate of e1",
		},
		{
			name:    "a failed keeper is replaced, its duplicates deleted",
			opts:    Options{},
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e1", "p", "a", status(vpcep.StatusFailed), age(-time.Hour)),
				have("e2", "p", "a"),
			},
			want: []line{{Delete, "p/a", "e2"}, {Replace, "p/a", "e1"}},
		},
		{
			name:    "duplicates, none accepted: the oldest is kept",
			opts:    all,
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e1", "p", "a", status(vpcep.StatusCreating), age(time.Hour)),
				have("e2", "p", "a", status(vpcep.StatusPendingAcceptance), age(-time.Hour)),
				have("e3", "p", "a", status(vpcep.StatusCreating)),
			},
			want: []line{{Delete, "p/a", "e1"}, {Delete, "p/a", "e3"}}, noop: 1,
		},
		{
			name:    "duplicates need no flag",
			opts:    Options{},
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e1", "p", "a"),
				have("e2", "p", "a", age(time.Hour)),
			},
			want: []line{{Delete, "p/a", "e2"}}, noop: 1,
		},
		{
			name:    "duplicates of a name no longer declared: pruned with it",
			opts:    all,
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e1", "p", "a"), have("e2", "p", "gone"), have("e3", "p", "gone", age(time.Hour)),
			},
			want: []line{{Delete, "p/gone", "e2"}, {Delete, "p/gone", "e3"}}, noop: 1,
		},
		{
			name:     "listed twice (pages shifted): one endpoint, not a duplicate",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a"), have("e1", "p", "a")},
			want:     []line{}, noop: 1,
		},
		{
			name:     "no longer declared: delete with --prune",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a"), have("e2", "p", "gone")},
			want:     []line{{Delete, "p/gone", "e2"}}, noop: 1, reason: "no longer declared",
		},
		{
			name:     "no longer declared, no --prune: counted",
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a"), have("e2", "p", "gone")},
			want:     []line{}, noop: 1, unpruned: 1,
		},
		{
			name:     "a set declared with no endpoints owns its endpoints",
			opts:     all,
			sets:     []string{"empty"},
			observed: []vpcep.Endpoint{have("e1", "empty", "a"), have("e2", "undeclared", "b"), have("u1", "", "")},
			want:     []line{{Delete, "empty/a", "e1"}},
		},
		{
			name:     "a set not declared: nothing is deleted",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a"), have("o1", "other", "x"), have("o2", "other", "y", status(vpcep.StatusFailed))},
			want:     []line{}, noop: 1,
		},
		{
			name:     "deleting: neither kept nor deleted again",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a", status(vpcep.StatusDeleting)), have("e2", "p", "gone", status(vpcep.StatusDeleting))},
			want:     []line{{Create, "p/a", ""}},
		},
		{
			name:    "lost its name tag: tagged again by natural key, not created twice",
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "", "", func(e *vpcep.Endpoint) {
				e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "p"}, {Key: "team", Value: "p"}}
			})},
			want: []line{{Tag, "p/a", "e1"}}, reason: "lost its vpcepctl-name tag; the same service, VPC and subnet; tags: +vpcepctl-name=a",
		},
		{
			name:    "lost its name tag, other subnet: no match; created, and the other pruned",
			opts:    all,
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "", "", func(e *vpcep.Endpoint) {
				e.SubnetID = subB
				e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "p"}}
			})},
			want: []line{{Delete, "p/", "e1"}, {Create, "p/a", ""}},
		},
		{
			name:    "lost its name tag, two candidates: the oldest is tagged",
			desired: []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{
				have("e2", "", "", func(e *vpcep.Endpoint) { e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "p"}} }),
				have("e1", "", "", age(time.Hour), func(e *vpcep.Endpoint) { e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "p"}} }),
			},
			want: []line{{Tag, "p/a", "e2"}}, unpruned: 1,
		},
		{
			name:     "owned without a name tag: owned by the set, pruned",
			opts:     all,
			desired:  []*manifests.Endpoint{want("p", "a")},
			observed: []vpcep.Endpoint{have("e1", "p", "a"), have("e2", "", "", func(e *vpcep.Endpoint) { e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "p"}} })},
			want:     []line{{Delete, "p/", "e2"}}, noop: 1, reason: "without a vpcepctl-name tag",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := Input{Target: targetA, Desired: tc.desired, Sets: tc.sets, Observed: tc.observed, Services: services()}
			p, err := Diff([]Input{in}, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			if got := lines(p); !reflect.DeepEqual(got, tc.want) {
				t.Errorf("Diff changes = %v, want %v", got, tc.want)
			}
			if p.Summary.Noop != tc.noop || p.Unpruned != tc.unpruned {
				t.Errorf("Diff noop %d, unpruned %d; want %d, %d", p.Summary.Noop, p.Unpruned, tc.noop, tc.unpruned)
			}
			if tc.reason != "" && len(p.Changes) > 0 && !strings.Contains(p.Changes[0].Reason, tc.reason) {
				t.Errorf("Diff reason %q, want it to contain %q", p.Changes[0].Reason, tc.reason)
			}
			checkSummary(t, p)
		})
	}
}

// checkSummary checks that the summary counts the changes.
func checkSummary(t *testing.T, p *Plan) {
	t.Helper()
	var s Summary
	for _, c := range p.Changes {
		if c.Action == Noop {
			t.Errorf("noop %s/%s in the changes", c.Set, c.Name)
		}
		(*s.field(c.Action))++
	}
	s.Noop = p.Summary.Noop
	if s != p.Summary {
		t.Errorf("summary %+v, changes count %+v", p.Summary, s)
	}
}

func TestDiffCreateBody(t *testing.T) {
	d := want("p", "a", func(d *manifests.Endpoint) {
		d.Tags = map[string]string{"b": "2", "a": "1"}
		d.EnableDNS, d.PortIP, d.Description = ptr(true), "10.0.0.9", "x"
	})
	p, err := Diff([]Input{{Target: targetA, Desired: []*manifests.Endpoint{d, want("p", "g", gateway, func(d *manifests.Endpoint) {
		d.EnableDNS, d.RouteTables = ptr(true), []string{rtMain}
	})}, Services: services()}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	iface, gw := p.Changes[0].Desired, p.Changes[1].Desired
	wantTags := []vpcep.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: manifests.TagSet, Value: "p"}, {Key: manifests.TagName, Value: "a"}}
	if !reflect.DeepEqual(iface.Tags, wantTags) {
		t.Errorf("create body tags = %v, want %v", iface.Tags, wantTags)
	}
	if iface.SubnetID != subA || iface.PortIP != "10.0.0.9" || iface.EnableDNS == nil || !*iface.EnableDNS || iface.Description != "x" || iface.EndpointServiceID != svcIf.ID {
		t.Errorf("interface create body = %+v", iface)
	}
	if gw.EnableDNS != nil || gw.SubnetID != "" || !reflect.DeepEqual(gw.RouteTables, []string{rtMain}) {
		t.Errorf("gateway create body = %+v, want routetables and no enable_dns or subnet", gw)
	}
}

func TestDiffServiceByName(t *testing.T) {
	d := want("p", "a", func(d *manifests.Endpoint) { d.EndpointServiceID, d.EndpointServiceName = "", svcIf.ServiceName })
	p, err := Diff([]Input{{Target: targetA, Desired: []*manifests.Endpoint{d}, Observed: []vpcep.Endpoint{have("e1", "p", "a")}, Services: services()}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Noop != 1 {
		t.Errorf("Diff by service name = %v, want a noop", lines(p))
	}
}

func TestDiffErrors(t *testing.T) {
	unknown := want("p", "unknown", func(d *manifests.Endpoint) {
		d.EndpointServiceID = "99999999-0000-4000-8000-000000000000"
		d.FieldPos["endpoint_service_id"] = manifests.Pos{File: "p.yaml", Line: 3, Col: 7}
	})
	byName := want("p", "byname", func(d *manifests.Endpoint) {
		d.EndpointServiceID, d.EndpointServiceName = "", "com.example.nope"
		d.Pos = manifests.Pos{File: "p.yaml", Line: 20, Col: 5}
	})
	noSubnet := want("p", "nosubnet", func(d *manifests.Endpoint) {
		d.SubnetID = ""
		d.Pos = manifests.Pos{File: "p.yaml", Line: 30, Col: 5}
	})
	dup1 := want("p", "twice", func(d *manifests.Endpoint) { d.Pos = manifests.Pos{File: "p.yaml", Line: 40, Col: 5} })
	dup2 := want("p", "twice", func(d *manifests.Endpoint) { d.Pos = manifests.Pos{File: "p.yaml", Line: 50, Col: 5} })
	_, err := Diff([]Input{{Target: targetA, Desired: []*manifests.Endpoint{dup2, noSubnet, byName, unknown, dup1}, Services: services()}}, Options{})
	if err == nil {
		t.Fatal("Diff = nil error, want manifest errors")
	}
	var me *manifests.Error
	if !errors.As(err, &me) {
		t.Fatalf("Diff error %T, want *manifests.Error values", err)
	}
	got := strings.Split(err.Error(), "\n")
	wantPrefixes := []string{
		`p.yaml:3:7: endpoint_service_id: no endpoint service "99999999-0000-4000-8000-000000000000" in region eu-de`,
		`p.yaml:20:5: endpoint_service_name: no endpoint service "com.example.nope"`,
		`p.yaml:30:5: missing subnet_id`,
		`p.yaml:50:5: endpoint "twice" is declared twice in set "p" for eu-de/` + projA + ` (first at p.yaml:40:5)`,
	}
	if len(got) != len(wantPrefixes) {
		t.Fatalf("Diff errors:\n%s\nwant %d lines", err, len(wantPrefixes))
	}
	for i, w := range wantPrefixes {
		if !strings.HasPrefix(got[i], w) {
			t.Errorf("error %d = %q, want prefix %q", i, got[i], w)
		}
	}
	if _, err := Diff(nil, Options{Shard: Shard{I: 3, N: 2}}); err == nil {
		t.Error("Diff with shard 3/2 = nil error")
	}
}

func TestDiffTargets(t *testing.T) {
	// The same target given twice (two manifests, one target) is one target.
	a1 := Input{Target: targetA, Desired: []*manifests.Endpoint{want("p", "a")}, Services: services()}
	a2 := Input{Target: targetA, Desired: []*manifests.Endpoint{want("q", "b")}, Services: services(), Observed: []vpcep.Endpoint{have("e1", "q", "b")}}
	b := Input{Target: targetB, Desired: []*manifests.Endpoint{want("p", "a")}, Services: services()}
	p, err := Diff([]Input{b, a1, a2}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if want := []Target{targetA, targetB}; !reflect.DeepEqual(p.Targets, want) {
		t.Errorf("targets = %v, want %v", p.Targets, want)
	}
	if got, want := lines(p), []line{{Create, "p/a", ""}, {Create, "p/a", ""}}; !reflect.DeepEqual(got, want) || p.Summary.Noop != 1 {
		t.Errorf("changes = %v (noop %d), want %v and 1 noop", got, p.Summary.Noop, want)
	}
	if p.Changes[0].Target() != targetA || p.Changes[1].Target() != targetB {
		t.Errorf("change targets %v, %v", p.Changes[0].Target(), p.Changes[1].Target())
	}
	// An empty run still lists its targets, once.
	p, err = Diff([]Input{{Target: targetA}, {Target: targetA}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if len(p.Targets) != 1 || len(p.Changes) != 0 || p.Fingerprint == "" {
		t.Errorf("empty plan = %+v", p)
	}
}

func TestDiffQuota(t *testing.T) {
	desired := []*manifests.Endpoint{want("p", "a"), want("p", "b"), want("p", "c"), want("p", "d")}
	for _, tc := range []struct {
		name  string
		quota *vpcep.Quota
		shard Shard
		want  string
	}{
		{"fits", &vpcep.Quota{Used: 10, Quota: 50}, Shard{}, ""},
		{"exactly fits", &vpcep.Quota{Used: 46, Quota: 50}, Shard{}, ""},
		{"unknown", nil, Shard{}, ""},
		{"over", &vpcep.Quota{Used: 48, Quota: 50}, Shard{}, "eu-de/" + projA + ": 4 endpoints to create, but only 2 more fit in the quota (48 of 50 used)"},
		{"full", &vpcep.Quota{Used: 51, Quota: 50}, Shard{}, "but only 0 more fit"},
		{"shards add up", &vpcep.Quota{Used: 47, Quota: 50}, Shard{I: 0, N: 4}, "4 endpoints to create in all shards ("},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, err := Diff([]Input{{Target: targetA, Desired: desired, Services: services(), Quota: tc.quota}}, Options{Shard: tc.shard})
			if err != nil {
				t.Fatal(err)
			}
			got := strings.Join(p.Warnings, "\n")
			if tc.want == "" && got != "" || !strings.Contains(got, tc.want) {
				t.Errorf("warnings = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestTagDiff(t *testing.T) {
	want := []vpcep.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: manifests.TagSet, Value: "p"}}
	have := []vpcep.Tag{{Key: "b", Value: "3"}, {Key: "c", Value: "4"}, {Key: manifests.TagSet, Value: "p"}, {Key: "c", Value: "4"}}
	add, del := TagDiff(want, have)
	if w := []vpcep.Tag{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}}; !reflect.DeepEqual(add, w) {
		t.Errorf("TagDiff add = %v, want %v", add, w)
	}
	if w := []string{"c"}; !reflect.DeepEqual(del, w) {
		t.Errorf("TagDiff del = %v, want %v", del, w)
	}
	if add, del := TagDiff(want, want); add != nil || del != nil {
		t.Errorf("TagDiff(same) = %v, %v", add, del)
	}
}

func TestFieldDiffs(t *testing.T) {
	d := want("p", "a", func(d *manifests.Endpoint) {
		d.PortIP, d.EnableWhitelist, d.Whitelist = "10.0.0.5", ptr(true), []string{"10.0.0.0/8"}
	})
	var got []string
	for _, f := range fieldDiffs(d, svcIf, &vpcep.Endpoint{EndpointServiceID: svcIf.ID, VPCID: vpc1, SubnetID: subB, IP: "10.0.0.6"}, nil) {
		got = append(got, f.String())
	}
	w := []string{
		"subnet_id " + subB + " -> " + subA,
		"port_ip 10.0.0.6 -> 10.0.0.5",
		"whitelist [] -> [10.0.0.0/8]",
		"enable_whitelist false -> true",
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("fieldDiffs = %q, want %q", got, w)
	}
}
