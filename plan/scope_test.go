package plan

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// observed returns inputs as the caller of apply has them: targets and
// observed endpoints only.
func observed(inputs []Input) []Input {
	out := make([]Input, len(inputs))
	for i, in := range inputs {
		out[i] = Input{Target: in.Target, Observed: in.Observed}
	}
	return out
}

// edited returns a copy of the scenario's observation with f applied to
// target A's endpoints.
func edited(f func([]vpcep.Endpoint) []vpcep.Endpoint) []Input {
	in := observed(scenario())
	for i := range in {
		if in[i].Target == targetA {
			in[i].Observed = f(slices.Clone(in[i].Observed))
		}
	}
	return in
}

func setStatus(id, status string) func([]vpcep.Endpoint) []vpcep.Endpoint {
	return func(es []vpcep.Endpoint) []vpcep.Endpoint {
		for i := range es {
			if es[i].ID == id {
				es[i].Status = status
			}
		}
		return es
	}
}

// byTarget is observed as apply has it: endpoints by target.
func byTarget(inputs []Input) map[Target][]vpcep.Endpoint {
	out := map[Target][]vpcep.Endpoint{}
	for _, in := range inputs {
		out[in.Target] = append(out[in.Target], in.Observed...)
	}
	return out
}

// fingerprint is the fingerprint of the scenario's plan (opts) over now.
func fingerprint(t *testing.T, opts Options, now []Input) string {
	t.Helper()
	p, err := Diff(scenario(), opts)
	if err != nil {
		t.Fatal(err)
	}
	fp, _ := Fingerprint(&p.Scope, byTarget(now))
	return fp
}

func TestFingerprint(t *testing.T) {
	p, err := Diff(scenario(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	base := p.Fingerprint
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("Fingerprint = %q, want sha256:<64 hex digits>", base)
	}
	if got := fingerprint(t, Options{}, observed(scenario())); got != base {
		t.Errorf("Fingerprint of the observation alone %s, Diff's %s", got, base)
	}

	shuffled := func(seed int64) []Input {
		r := rand.New(rand.NewSource(seed))
		in := observed(scenario())
		r.Shuffle(len(in), func(i, j int) { in[i], in[j] = in[j], in[i] })
		for k := range in {
			es := slices.Clone(in[k].Observed)
			r.Shuffle(len(es), func(i, j int) { es[i], es[j] = es[j], es[i] })
			for i := range es {
				tags := slices.Clone(es[i].Tags)
				r.Shuffle(len(tags), func(i, j int) { tags[i], tags[j] = tags[j], tags[i] })
				es[i].Tags = tags
			}
			in[k].Observed = es
		}
		return in
	}
	add := func(e vpcep.Endpoint) []Input {
		return edited(func(es []vpcep.Endpoint) []vpcep.Endpoint { return append(es, e) })
	}

	same := []struct {
		name   string
		inputs []Input
	}{
		{"again", observed(scenario())},
		{"lists, tags and targets in another order", shuffled(1)},
		{"another order again", shuffled(2)},
		{"creating -> accepted", edited(setStatus("ep-creating", vpcep.StatusAccepted))},
		{"creating -> pendingAcceptance", edited(setStatus("ep-creating", vpcep.StatusPendingAcceptance))},
		{"deleting -> gone", edited(func(es []vpcep.Endpoint) []vpcep.Endpoint {
			return slices.DeleteFunc(es, func(e vpcep.Endpoint) bool { return e.ID == "ep-deleting" })
		})},
		{"an endpoint listed twice", edited(func(es []vpcep.Endpoint) []vpcep.Endpoint { return append(es, es[0]) })},
		{"the ip assigned", edited(func(es []vpcep.Endpoint) []vpcep.Endpoint {
			for i := range es {
				es[i].IP = "10.9.9.9"
				es[i].UpdatedAt = vpcep.Time{Time: t0.Add(99)}
			}
			return es
		})},
		// Another team's endpoints never make a plan stale.
		{"another set's endpoint appears", add(have("ep-x", "billing", "x"))},
		{"another set's endpoint with a declared natural key appears", add(have("ep-x", "billing", "app-new"))},
		{"an unmanaged endpoint nothing declared matches appears", add(have("ep-x", "", "", func(e *vpcep.Endpoint) {
			e.VPCID = "33333333-3333-4333-8333-333333333333"
		}))},
		{"another set's endpoint disappears", edited(func(es []vpcep.Endpoint) []vpcep.Endpoint {
			return slices.DeleteFunc(es, func(e vpcep.Endpoint) bool { return e.ID == "ep-billing" })
		})},
	}
	for _, tc := range same {
		if got := fingerprint(t, Options{}, tc.inputs); got != base {
			t.Errorf("Fingerprint after %s = %s, want it unchanged (%s)", tc.name, got, base)
		}
	}

	differ := []struct {
		name   string
		inputs []Input
		opts   Options
	}{
		{"an owned endpoint appears", add(have("ep-x", "payments", "app-x")), Options{}},
		{"an unmanaged endpoint with a declared natural key appears", add(have("ep-x", "", "")), Options{}},
		{"an endpoint of the set without a name tag appears", add(have("ep-x", "", "", func(e *vpcep.Endpoint) {
			e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "payments"}}
		})), Options{}},
		{"an endpoint disappears", edited(func(es []vpcep.Endpoint) []vpcep.Endpoint { return es[1:] }), Options{}},
		{"accepted -> deleting", edited(setStatus("ep-ok", vpcep.StatusDeleting)), Options{}},
		{"accepted -> failed", edited(setStatus("ep-ok", vpcep.StatusFailed)), Options{}},
		{"pendingAcceptance -> rejected", edited(setStatus("ep-pending", vpcep.StatusRejected)), Options{}},
		{"a tag changes", edited(func(es []vpcep.Endpoint) []vpcep.Endpoint {
			es[0].Tags = append(slices.Clone(es[0].Tags), vpcep.Tag{Key: "new", Value: "1"})
			return es
		}), Options{}},
		{"another shard", observed(scenario()), Options{Shard: Shard{I: 0, N: 2}}},
	}
	for _, tc := range differ {
		if got := fingerprint(t, tc.opts, tc.inputs); got == base {
			t.Errorf("Fingerprint after %s = %s, unchanged", tc.name, got)
		}
	}
}

// TestFingerprintShard: a shard's fingerprint does not change when an
// endpoint of another shard does, so shards applied one after another do
// not make each other's plans stale.
func TestFingerprintShard(t *testing.T) {
	var mine, theirs string
	for i := 0; mine == "" || theirs == ""; i++ {
		name := "n" + string(rune('a'+i))
		if (Shard{I: 0, N: 2}).Contains(projA, "p", name) {
			mine = cmp.Or(mine, name)
		} else {
			theirs = cmp.Or(theirs, name)
		}
	}
	in := []Input{{Target: targetA, Desired: []*manifests.Endpoint{want("p", mine)}, Services: services(),
		Observed: []vpcep.Endpoint{have("e1", "p", mine)}}}
	fp := func(shard Shard, observed ...vpcep.Endpoint) string {
		p, err := Diff(in, Options{Shard: shard})
		if err != nil {
			t.Fatal(err)
		}
		f, _ := Fingerprint(&p.Scope, map[Target][]vpcep.Endpoint{targetA: observed})
		return f
	}
	shard := Shard{I: 0, N: 2}
	base := fp(shard, have("e1", "p", mine))
	if fp(shard, have("e1", "p", mine), have("e2", "p", theirs)) != base {
		t.Error("an endpoint of shard 1 changed shard 0's fingerprint")
	}
	if fp(Shard{I: 1, N: 2}, have("e1", "p", mine), have("e2", "p", theirs)) == fp(Shard{I: 1, N: 2}, have("e1", "p", mine)) {
		t.Error("an endpoint of shard 1 did not change shard 1's fingerprint")
	}
}

// TestStalePlan: a plan file is refused once the endpoints changed, and
// accepted while they did not; the refusal names what changed.
func TestStalePlan(t *testing.T) {
	inputs := scenario()
	opts := Options{Adopt: true, Prune: true, AllowReplace: true}
	p, err := Diff(inputs, opts)
	if err != nil {
		t.Fatal(err)
	}
	var file bytes.Buffer
	if err := WriteJSON(&file, p); err != nil {
		t.Fatal(err)
	}
	saved, err := Read(&file)
	if err != nil {
		t.Fatal(err)
	}
	if err := saved.CheckFresh(byTarget(inputs)); err != nil {
		t.Errorf("unchanged endpoints: %v", err)
	}
	// Between plan and apply, someone deletes an endpoint, a new one of
	// the set appears, and one fails.
	changed := edited(func(es []vpcep.Endpoint) []vpcep.Endpoint {
		es = slices.DeleteFunc(es, func(e vpcep.Endpoint) bool { return e.ID == "ep-old" })
		es = append(es, have("ep-new", "payments", "app-x"))
		return setStatus("ep-ok", vpcep.StatusFailed)(es)
	})
	err = saved.CheckFresh(byTarget(changed))
	if !errors.Is(err, ErrStale) {
		t.Fatalf("changed endpoints: %v, want ErrStale", err)
	}
	const want = "plan is stale: 3 endpoints changed since it was made: new ep-new (payments/app-x), " +
		"ep-ok (payments/app-ok) changed status or tags, ep-old is gone; run plan again"
	if err.Error() != want {
		t.Errorf("stale error:\n%s\nwant one sentence:\n%s", err, want)
	}
	// The plan is applied; applying it again is refused.
	if err := saved.CheckFresh(byTarget(applyModel(inputs, p))); !errors.Is(err, ErrStale) {
		t.Errorf("plan applied twice: %v, want ErrStale", err)
	}
	// An edited scope makes the file stale too.
	saved.Scope.Targets[0].Sets = nil
	if err := saved.CheckFresh(byTarget(inputs)); !errors.Is(err, ErrStale) {
		t.Errorf("edited scope: %v, want ErrStale", err)
	}
}

// TestEmptyPlanReapplied: a plan made when nothing existed has a
// fingerprint, and once its creates ran, applying it again is refused
// (it would create every endpoint a second time).
func TestEmptyPlanReapplied(t *testing.T) {
	inputs := []Input{{
		Target:   targetA,
		Desired:  []*manifests.Endpoint{want("p", "a"), want("p", "b")},
		Services: services(),
	}}
	p, err := Diff(inputs, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint == "" || p.Summary.Create != 2 {
		t.Fatalf("plan of nothing observed: fingerprint %q, %d creates", p.Fingerprint, p.Summary.Create)
	}
	if err := p.CheckFresh(byTarget(inputs)); err != nil {
		t.Errorf("nothing changed: %v", err)
	}
	after := applyModel(inputs, p)
	if err := p.CheckFresh(byTarget(after)); !errors.Is(err, ErrStale) {
		t.Errorf("after the creates: %v, want ErrStale", err)
	}
	// Planning again from what exists now creates nothing.
	p2, err := Diff(after, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p2.Summary.Changes() != 0 || p2.Summary.Noop != 2 {
		t.Errorf("plan after apply: %+v, want 2 unchanged", p2.Summary)
	}
}

// TestCheckChanges: a plan file may touch only what its sets own; an
// edited one is refused before anything is sent, naming each change.
func TestCheckChanges(t *testing.T) {
	inputs := scenario()
	p, err := Diff(inputs, Options{Adopt: true, Prune: true, AllowReplace: true})
	if err != nil {
		t.Fatal(err)
	}
	now := byTarget(inputs)
	if err := p.CheckChanges(now); err != nil {
		t.Fatalf("the plan as made: %v", err)
	}
	index := func(a Action, id string) int {
		i := slices.IndexFunc(p.Changes, func(c Change) bool { return c.Action == a && (id == "" || c.ID == id) })
		if i < 0 {
			t.Fatalf("no %s %s in the plan", a, id)
		}
		return i
	}
	for _, tc := range []struct {
		name string
		edit func(p *Plan)
		want string
	}{
		{"a delete pointed at an unmanaged endpoint", func(p *Plan) { p.Changes[index(Delete, "ep-old")].ID = "ep-other" }, "touches only its own set"},
		{"a delete pointed at another set's endpoint", func(p *Plan) { p.Changes[index(Delete, "ep-old")].ID = "ep-billing" }, "vpcepctl-set=\"billing\""},
		{"a delete pointed at another name of the set", func(p *Plan) { p.Changes[index(Delete, "ep-old")].ID = "ep-ok" }, "vpcepctl-name=\"app-ok\""},
		{"an adopt of an owned endpoint", func(p *Plan) { p.Changes[index(Adopt, "")].ID = "ep-ok" }, "adopt takes only endpoints without it"},
		{"a tag of an endpoint that does not exist", func(p *Plan) { p.Changes[index(Tag, "")].ID = "nope" }, "no such endpoint"},
		{"a change of a set the plan does not declare", func(p *Plan) {
			c := &p.Changes[index(Delete, "ep-old")]
			c.Set, c.Name, c.ID = "billing", "db", "ep-billing"
		}, "set billing is not one the plan declares"},
		{"an adopt in a plan made without --adopt", func(p *Plan) { p.Scope.Adopt = false }, "without --adopt"},
		{"an adopt of an unmanaged endpoint with another natural key", func(p *Plan) { p.Changes[index(Adopt, "")].ID = "ep-other" }, "natural key"},
		{"a prune in a plan made without --prune", func(p *Plan) { p.Scope.Prune = false }, "without --prune"},
		{"a replace for drift in a plan made without --allow-replace", func(p *Plan) { p.Scope.AllowReplace = false }, "without --allow-replace"},
		{"a duplicate's delete that deletes the keeper", func(p *Plan) {
			c := &p.Changes[index(Delete, "ep-dup-1")]
			c.ID, c.KeptID = c.KeptID, c.ID
		}, "keeper rule"},
		{"a create that tags another set", func(p *Plan) {
			c := &p.Changes[index(Create, "")]
			d := *c.Desired
			d.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: "billing"}, {Key: manifests.TagName, Value: c.Name}}
			c.Desired = &d
		}, "desired tags"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var file bytes.Buffer
			if err := WriteJSON(&file, p); err != nil {
				t.Fatal(err)
			}
			edited, err := Read(&file)
			if err != nil {
				t.Fatal(err)
			}
			tc.edit(edited)
			err = edited.CheckChanges(now)
			if !errors.Is(err, ErrNotOwned) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("CheckChanges = %v, want ErrNotOwned saying %q", err, tc.want)
			}
		})
	}
}

// TestCheckChangesTargeting: a plan file made with --set or --name may
// touch only what they take in, as it may touch only its shard: an edited
// file that adds a change of another declared set (or name) is refused.
func TestCheckChangesTargeting(t *testing.T) {
	inputs := scenario()
	full, err := Diff(inputs, Options{Prune: true})
	if err != nil {
		t.Fatal(err)
	}
	old := full.Changes[slices.IndexFunc(full.Changes, func(c Change) bool { return c.ID == "ep-old" })]
	create := full.Changes[slices.IndexFunc(full.Changes, func(c Change) bool { return c.Action == Create && c.Name == "app-new" })]
	now := byTarget(inputs)
	for _, tt := range []struct {
		opts Options
		with string
	}{
		{Options{Prune: true, Sets: []string{"retired"}}, "--set retired"},
		{Options{Prune: true, Names: []string{"retired/cache", "payments/app-ok"}}, "--name payments/app-ok --name retired/cache"},
	} {
		p, err := Diff(inputs, tt.opts)
		if err != nil {
			t.Fatal(err)
		}
		if err := p.CheckChanges(now); err != nil {
			t.Fatalf("%v: the plan as made: %v", tt.opts, err)
		}
		n := len(p.Changes)
		// payments/app-old: declared set, pruned, not targeted; and a
		// create (no id yet) of a declared name, not targeted.
		p.Changes = append(p.Changes, old, create)
		err = p.CheckChanges(now)
		for _, want := range []string{
			fmt.Sprintf("\nchanges[%d] (delete payments/app-old ep-old): payments/app-old is outside the plan's --set/--name (it was made with %s)\n", n, tt.with),
			fmt.Sprintf("\nchanges[%d] (create payments/app-new): payments/app-new is outside the plan's --set/--name (it was made with %s)", n+1, tt.with),
		} {
			if !errors.Is(err, ErrNotOwned) || !strings.Contains(err.Error()+"\n", want) {
				t.Errorf("%v: CheckChanges = %v\nwant ErrNotOwned with the line %q", tt.opts, err, want)
			}
		}
	}
}
