package plan

import (
	"bytes"
	"cmp"
	"errors"
	"math/rand"
	"slices"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
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
func edited(f func([]otc.Endpoint) []otc.Endpoint) []Input {
	in := observed(scenario())
	for i := range in {
		if in[i].Target == targetA {
			in[i].Observed = f(slices.Clone(in[i].Observed))
		}
	}
	return in
}

func setStatus(id, status string) func([]otc.Endpoint) []otc.Endpoint {
	return func(es []otc.Endpoint) []otc.Endpoint {
		for i := range es {
			if es[i].ID == id {
				es[i].Status = status
			}
		}
		return es
	}
}

func TestFingerprint(t *testing.T) {
	base := Fingerprint(observed(scenario()), Shard{})
	if !strings.HasPrefix(base, "sha256:") || len(base) != len("sha256:")+64 {
		t.Fatalf("Fingerprint = %q, want sha256:<64 hex digits>", base)
	}
	p, err := Diff(scenario(), Options{})
	if err != nil {
		t.Fatal(err)
	}
	if p.Fingerprint != base {
		t.Errorf("Diff's fingerprint %s, Fingerprint of the observation alone %s", p.Fingerprint, base)
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

	same := []struct {
		name   string
		inputs []Input
	}{
		{"again", observed(scenario())},
		{"lists, tags and targets in another order", shuffled(1)},
		{"another order again", shuffled(2)},
		{"creating -> accepted", edited(setStatus("ep-creating", otc.StatusAccepted))},
		{"creating -> pendingAcceptance", edited(setStatus("ep-creating", otc.StatusPendingAcceptance))},
		{"deleting -> gone", edited(func(es []otc.Endpoint) []otc.Endpoint {
			return slices.DeleteFunc(es, func(e otc.Endpoint) bool { return e.ID == "ep-deleting" })
		})},
		{"an endpoint listed twice", edited(func(es []otc.Endpoint) []otc.Endpoint { return append(es, es[0]) })},
		{"the ip assigned", edited(func(es []otc.Endpoint) []otc.Endpoint {
			for i := range es {
				es[i].IP = "10.9.9.9"
				es[i].UpdatedAt = otc.Time{Time: t0.Add(99)}
			}
			return es
		})},
	}
	for _, tc := range same {
		if got := Fingerprint(tc.inputs, Shard{}); got != base {
			t.Errorf("Fingerprint after %s = %s, want it unchanged (%s)", tc.name, got, base)
		}
	}

	differ := []struct {
		name   string
		inputs []Input
		shard  Shard
	}{
		{"an endpoint appears", edited(func(es []otc.Endpoint) []otc.Endpoint { return append(es, have("ep-x", "payments", "app-x")) }), Shard{}},
		{"an unmanaged endpoint appears", edited(func(es []otc.Endpoint) []otc.Endpoint { return append(es, have("ep-x", "", "")) }), Shard{}},
		{"an endpoint disappears", edited(func(es []otc.Endpoint) []otc.Endpoint { return es[1:] }), Shard{}},
		{"accepted -> deleting", edited(setStatus("ep-ok", otc.StatusDeleting)), Shard{}},
		{"accepted -> failed", edited(setStatus("ep-ok", otc.StatusFailed)), Shard{}},
		{"pendingAcceptance -> rejected", edited(setStatus("ep-pending", otc.StatusRejected)), Shard{}},
		{"a tag changes", edited(func(es []otc.Endpoint) []otc.Endpoint {
			es[0].Tags = append(slices.Clone(es[0].Tags), otc.Tag{Key: "new", Value: "1"})
			return es
		}), Shard{}},
		{"a target more", append(observed(scenario()), Input{Target: Target{Region: "eu-ch2", ProjectID: projA}}), Shard{}},
		{"another shard", observed(scenario()), Shard{I: 0, N: 2}},
	}
	for _, tc := range differ {
		if got := Fingerprint(tc.inputs, tc.shard); got == base {
			t.Errorf("Fingerprint after %s = %s, unchanged", tc.name, got)
		}
	}
}

// TestFingerprintShard: a shard's fingerprint does not change when an
// endpoint of another shard does, so shards applied one after another do
// not make each other's plans stale.
func TestFingerprintShard(t *testing.T) {
	in := []Input{{Target: targetA}}
	var mine, theirs string
	for i := 0; mine == "" || theirs == ""; i++ {
		name := "n" + string(rune('a'+i))
		if (Shard{I: 0, N: 2}).Contains(projA, "p", name) {
			mine = cmp.Or(mine, name)
		} else {
			theirs = cmp.Or(theirs, name)
		}
	}
	in[0].Observed = []otc.Endpoint{have("e1", "p", mine)}
	shard := Shard{I: 0, N: 2}
	base := Fingerprint(in, shard)
	other := []Input{{Target: targetA, Observed: []otc.Endpoint{have("e1", "p", mine), have("e2", "p", theirs)}}}
	if Fingerprint(other, shard) != base {
		t.Error("an endpoint of shard 1 changed shard 0's fingerprint")
	}
	if Fingerprint(other, Shard{I: 1, N: 2}) == Fingerprint(in, Shard{I: 1, N: 2}) {
		t.Error("an endpoint of shard 1 did not change shard 1's fingerprint")
	}
	unmanaged := []Input{{Target: targetA, Observed: []otc.Endpoint{have("e1", "p", mine), have("u1", "", "")}}}
	if Fingerprint(unmanaged, shard) == base {
		t.Error("an unmanaged endpoint (any shard may adopt it) did not change the fingerprint")
	}
}

// TestStalePlan: a plan file is refused once the endpoints changed, and
// accepted while they did not (the caller compares, as apply does).
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
	if err := fresh(saved, observed(inputs), opts.Shard); err != nil {
		t.Errorf("unchanged endpoints: %v", err)
	}
	// Someone else deletes an endpoint between plan and apply.
	changed := edited(func(es []otc.Endpoint) []otc.Endpoint { return es[1:] })
	if err := fresh(saved, changed, opts.Shard); !errors.Is(err, ErrStale) {
		t.Errorf("changed endpoints: %v, want ErrStale", err)
	}
	// The plan is applied; applying it again is refused.
	if err := fresh(saved, observed(applyModel(inputs, p)), opts.Shard); !errors.Is(err, ErrStale) {
		t.Errorf("plan applied twice: %v, want ErrStale", err)
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
	if err := fresh(p, observed(inputs), Shard{}); err != nil {
		t.Errorf("nothing changed: %v", err)
	}
	after := applyModel(inputs, p)
	if err := fresh(p, observed(after), Shard{}); !errors.Is(err, ErrStale) {
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
	// An empty plan of an empty target is fresh until something appears.
	empty, err := Diff([]Input{{Target: targetA}}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	if err := fresh(empty, []Input{{Target: targetA}}, Shard{}); err != nil {
		t.Errorf("empty plan, nothing changed: %v", err)
	}
	if err := fresh(empty, []Input{{Target: targetA, Observed: []otc.Endpoint{have("e1", "p", "a")}}}, Shard{}); !errors.Is(err, ErrStale) {
		t.Errorf("empty plan, endpoint appeared: %v, want ErrStale", err)
	}
}

// fresh is the check apply makes before it sends anything.
func fresh(p *Plan, now []Input, shard Shard) error {
	if Fingerprint(now, shard) != p.Fingerprint {
		return ErrStale
	}
	return nil
}
