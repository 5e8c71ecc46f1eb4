package plan

import (
	"encoding/json"
	"fmt"
	"math/rand"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

var (
	declaredSets   = []string{"p", "q"}
	undeclaredSets = []string{"x", "y"}
	statuses       = []string{vpcep.StatusCreating, vpcep.StatusAccepted, vpcep.StatusPendingAcceptance, vpcep.StatusRejected, vpcep.StatusFailed, vpcep.StatusDeleting}
)

func pick[T any](r *rand.Rand, xs ...T) T { return xs[r.Intn(len(xs))] }

// randomInput returns one target's desired and observed endpoints, drawn
// from a small space so that names, natural keys and statuses collide.
func randomInput(r *rand.Rand, target Target) Input {
	in := Input{Target: target, Services: services()}
	if r.Intn(3) == 0 {
		in.Sets = []string{"empty"}
	}
	names := []string{"a", "b", "c", "d", "e", "f"}
	for _, set := range declaredSets {
		for _, name := range names {
			if r.Intn(2) == 0 {
				continue
			}
			d := want(set, name, func(d *manifests.Endpoint) { d.VPCID, d.SubnetID = pick(r, vpc1, vpc2), pick(r, subA, subB) })
			if r.Intn(3) == 0 {
				gateway(d)
				if r.Intn(2) == 0 {
					d.RouteTables = []string{pick(r, rtMain, "dddddddd-0000-4000-8000-00000000000d")}
				}
			} else {
				if r.Intn(3) == 0 {
					d.PortIP = pick(r, "10.0.0.10", "10.0.0.11")
				}
				if r.Intn(3) == 0 {
					d.Whitelist = []string{pick(r, "10.0.0.0/8", "192.168.0.0/16")}
				}
			}
			if r.Intn(3) == 0 {
				d.EnableDNS = ptr(r.Intn(2) == 0)
			}
			if r.Intn(3) == 0 {
				d.Tags["env"] = pick(r, "dev", "prod")
			}
			in.Desired = append(in.Desired, d)
		}
	}
	n := r.Intn(25)
	for i := range n {
		if i > 0 && r.Intn(10) == 0 { // listed twice
			in.Observed = append(in.Observed, in.Observed[r.Intn(len(in.Observed))])
			continue
		}
		id := fmt.Sprintf("%s-e%02d", target.Region, i)
		set := pick(r, append(append([]string{"", "", "empty"}, declaredSets...), undeclaredSets...)...)
		e := have(id, set, pick(r, names...), status(pick(r, statuses...)), age(time.Duration(r.Intn(5))*time.Minute),
			func(e *vpcep.Endpoint) { e.VPCID, e.SubnetID = pick(r, vpc1, vpc2), pick(r, subA, subB) })
		if r.Intn(3) == 0 {
			gatewayHave(&e)
		}
		switch r.Intn(6) {
		case 0: // only a name tag: unmanaged
			e.Tags = []vpcep.Tag{{Key: manifests.TagName, Value: "a"}}
		case 1: // set tag only
			if set != "" {
				e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: set}}
			}
		case 2:
			e.Tags = append(e.Tags, vpcep.Tag{Key: "env", Value: pick(r, "dev", "prod")})
		}
		if r.Intn(4) == 0 {
			e.EnableDNS = true
		}
		in.Observed = append(in.Observed, e)
	}
	return in
}

func randomOptions(r *rand.Rand) Options {
	return Options{Adopt: r.Intn(2) == 0, Prune: r.Intn(2) == 0, AllowReplace: r.Intn(2) == 0}
}

// checkSafe checks what a plan may do to each observed endpoint.
func checkSafe(t *testing.T, inputs []Input, opts Options, p *Plan) {
	t.Helper()
	type where struct {
		t  Target
		id string
	}
	observed := map[where]*vpcep.Endpoint{}
	declared := map[Target]map[string]bool{}
	for _, in := range inputs {
		if declared[in.Target] == nil {
			declared[in.Target] = map[string]bool{}
		}
		for _, d := range in.Desired {
			declared[in.Target][d.Set] = true
		}
		for _, s := range in.Sets {
			declared[in.Target][s] = true
		}
		for i := range in.Observed {
			observed[where{in.Target, in.Observed[i].ID}] = &in.Observed[i]
		}
	}
	acted := map[where]Action{}
	desiredSeen := map[string]bool{}
	for _, c := range p.Changes {
		if !opts.Shard.Contains(c.ProjectID, c.Set, c.Name) {
			t.Errorf("%s %s/%s is not in shard %s", c.Action, c.Set, c.Name, opts.Shard)
		}
		if c.Action != Delete {
			k := c.Target().String() + " " + c.Set + "/" + c.Name
			if desiredSeen[k] {
				t.Errorf("%s: two changes for one desired endpoint", k)
			}
			desiredSeen[k] = true
		}
		if c.Action == Create {
			if c.ID != "" || c.Current != nil {
				t.Errorf("create %s/%s names an endpoint: %q", c.Set, c.Name, c.ID)
			}
			continue
		}
		e := observed[where{c.Target(), c.ID}]
		if e == nil {
			t.Errorf("%s %s/%s: id %q was not observed", c.Action, c.Set, c.Name, c.ID)
			continue
		}
		if e.Status == vpcep.StatusDeleting {
			t.Errorf("%s %s/%s: %s is deleting", c.Action, c.Set, c.Name, c.ID)
		}
		set, hasSet := e.TagValue(manifests.TagSet)
		name, _ := e.TagValue(manifests.TagName)
		switch c.Action {
		case Conflict:
			continue // never acted on
		case Adopt:
			if !opts.Adopt || hasSet {
				t.Errorf("adopt of %s (set tag %v) with --adopt=%v", c.ID, hasSet, opts.Adopt)
			}
		case Tag, Replace, Delete:
			// An endpoint of the set that lost its name tag may be tagged
			// again (or replaced) for a declared name, or pruned.
			if !hasSet || set != c.Set || !declared[c.Target()][set] || name != c.Name && name != "" {
				t.Errorf("%s of %s tagged %q/%q for %s/%s (declared %v)", c.Action, c.ID, set, name, c.Set, c.Name, declared[c.Target()])
			}
		}
		switch {
		case c.Action == Delete && !opts.Prune && c.KeptID == "":
			t.Errorf("delete of %s without --prune", c.ID)
		case c.KeptID != "" && (c.Action != Delete || observed[where{c.Target(), c.KeptID}] == nil):
			t.Errorf("%s of %s as a duplicate of %q, which was not observed", c.Action, c.ID, c.KeptID)
		case c.Action == Replace && !opts.AllowReplace && e.Status != vpcep.StatusFailed:
			t.Errorf("replace of %s (%s) without --allow-replace", c.ID, e.Status)
		}
		w := where{c.Target(), c.ID}
		if a, ok := acted[w]; ok {
			t.Errorf("%s acted on twice: %s and %s", c.ID, a, c.Action)
		}
		acted[w] = c.Action
	}
	// Every desired endpoint of the shard is one change or one noop.
	n := 0
	for _, in := range inputs {
		for _, d := range in.Desired {
			if opts.Shard.Contains(in.Target.ProjectID, d.Set, d.Name) {
				n++
			}
		}
	}
	if got := len(desiredSeen) + p.Summary.Noop; got != n {
		t.Errorf("%d desired endpoints in the shard, %d changes and noops", n, got)
	}
	checkSummary(t, p)
}

// TestDiffSafety: for random observations, the plan never proposes a
// change to an endpoint without our tags (other than adopt when asked)
// nor to one of another set, and never acts without its flag.
func TestDiffSafety(t *testing.T) {
	r := rand.New(rand.NewSource(5))
	for i := range 2000 {
		inputs := []Input{randomInput(r, targetA), randomInput(r, targetB)}
		opts := randomOptions(r)
		if r.Intn(3) == 0 {
			opts.Shard = Shard{N: 3, I: r.Intn(3)}
		}
		p, err := Diff(inputs, opts)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		checkSafe(t, inputs, opts, p)
		if t.Failed() {
			t.Fatalf("case %d (opts %+v):\n%s", i, opts, text(p))
		}
	}
}

// TestDiffConverges applies random plans (all flags) to a model of the
// API and plans again: nothing is left to do but the conflicts, and the
// second plan's fingerprint differs from the first whenever anything was
// done (the first plan file is stale).
func TestDiffConverges(t *testing.T) {
	r := rand.New(rand.NewSource(7))
	opts := Options{Adopt: true, Prune: true, AllowReplace: true}
	for i := range 500 {
		inputs := []Input{randomInput(r, targetA), randomInput(r, targetB)}
		p, err := Diff(inputs, opts)
		if err != nil {
			t.Fatal(err)
		}
		after := applyModel(inputs, p)
		if stale := p.CheckFresh(byTarget(after)) != nil; stale != (p.Summary.Changes() > 0) {
			t.Errorf("case %d: %d changes applied, plan stale = %v", i, p.Summary.Changes(), stale)
		}
		p2, err := Diff(after, opts)
		if err != nil {
			t.Fatal(err)
		}
		// An adopted endpoint that is failed, rejected or differs is
		// replaced or a conflict next time, as the adopt's reason said;
		// nothing else is left.
		announced := map[string]bool{}
		conflicts := map[string]bool{}
		for _, c := range p.Changes {
			if c.Action == Adopt && strings.Contains(c.Reason, "once adopted") {
				announced[c.ID] = true
			}
			if c.Action == Conflict {
				conflicts[c.Target().String()+" "+c.Set+"/"+c.Name] = true
			}
		}
		for _, c := range p2.Changes {
			if c.Action == Conflict && !conflicts[c.Target().String()+" "+c.Set+"/"+c.Name] && !announced[c.ID] {
				t.Errorf("case %d: new conflict for %s/%s: %s", i, c.Set, c.Name, c.Reason)
			}
			if c.Action != Conflict && !(c.Action == Replace && announced[c.ID]) {
				t.Fatalf("case %d: second plan has changes:\n%s\nfirst plan:\n%s", i, text(p2), text(p))
			}
		}
		p3, err := Diff(applyModel(after, p2), opts)
		if err != nil {
			t.Fatal(err)
		}
		if p3.Summary.Changes() != 0 {
			t.Fatalf("case %d: third plan has changes:\n%s", i, text(p3))
		}
	}
}

// applyModel does what apply would do with p, on copies of the inputs:
// endpoints deleted are gone, created ones accepted.
func applyModel(inputs []Input, p *Plan) []Input {
	out := make([]Input, len(inputs))
	for i, in := range inputs {
		out[i] = in
		out[i].Observed = slices.Clone(in.Observed)
	}
	find := func(t Target) *Input {
		for i := range out {
			if out[i].Target == t {
				return &out[i]
			}
		}
		panic("no target " + t.String())
	}
	n := 0
	for _, c := range p.Changes {
		in := find(c.Target())
		remove := func() {
			in.Observed = slices.DeleteFunc(in.Observed, func(e vpcep.Endpoint) bool { return e.ID == c.ID })
		}
		switch c.Action {
		case Delete:
			remove()
		case Tag, Adopt:
			for i := range in.Observed {
				if in.Observed[i].ID == c.ID {
					in.Observed[i].Tags = slices.Clone(c.Desired.Tags)
				}
			}
		case Replace:
			remove()
			fallthrough
		case Create:
			n++
			in.Observed = append(in.Observed, created(fmt.Sprintf("new-%d", n), c.Desired))
		}
	}
	return out
}

// created is the endpoint the API makes of a create body.
func created(id string, b *vpcep.CreateEndpointRequest) vpcep.Endpoint {
	e := vpcep.Endpoint{
		ID: id, Status: vpcep.StatusAccepted, EndpointServiceID: b.EndpointServiceID, VPCID: b.VPCID,
		Description: b.Description, SpecificationName: "default", Tags: slices.Clone(b.Tags), CreatedAt: vpcep.Time{Time: t0.Add(time.Hour)},
	}
	if b.EndpointServiceID == svcGw.ID {
		e.ServiceType, e.RouteTables, e.PolicyStatement = "gateway", b.RouteTables, b.PolicyStatement
		if len(e.RouteTables) == 0 {
			e.RouteTables = []string{rtMain}
		}
		return e
	}
	e.ServiceType, e.SubnetID, e.IP = "interface", b.SubnetID, b.PortIP
	if e.IP == "" {
		e.IP = "10.0.0.99"
	}
	e.EnableDNS = vpcep.Bool(b.EnableDNS != nil && *b.EnableDNS)
	e.Whitelist = b.Whitelist
	e.EnableWhitelist = vpcep.Bool(b.EnableWhitelist != nil && *b.EnableWhitelist)
	return e
}

// TestShards: the union of all shards' plans is the unsharded plan, and no
// endpoint is in two shards.
func TestShards(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	for i := range 300 {
		inputs := []Input{randomInput(r, targetA), randomInput(r, targetB)}
		opts := randomOptions(r)
		whole, err := Diff(inputs, opts)
		if err != nil {
			t.Fatal(err)
		}
		for _, n := range []int{2, 3, 7} {
			var union []Change
			var sum Summary
			unpruned := 0
			acted := map[string]int{}
			names := map[string]int{}
			for s := range n {
				o := opts
				o.Shard = Shard{I: s, N: n}
				p, err := Diff(inputs, o)
				if err != nil {
					t.Fatal(err)
				}
				union = append(union, p.Changes...)
				for _, a := range Actions {
					*sum.field(a) += p.Summary.Count(a)
				}
				unpruned += p.Unpruned
				for _, c := range p.Changes {
					if c.Action != Conflict && c.ID != "" {
						if prev, ok := acted[c.ID]; ok && prev != s {
							t.Errorf("case %d: %s in shards %d and %d of %d", i, c.ID, prev, s, n)
						}
						acted[c.ID] = s
					}
					k := c.Target().String() + " " + c.Set + "/" + c.Name
					if prev, ok := names[k]; ok && prev != s {
						t.Errorf("case %d: %s in shards %d and %d of %d", i, k, prev, s, n)
					}
					names[k] = s
				}
			}
			sortChanges(union)
			want := slices.Clone(whole.Changes)
			sortChanges(want)
			if got, w := asJSON(t, union), asJSON(t, want); got != w {
				t.Fatalf("case %d: %d shards' changes differ from the unsharded plan:\n%s\nwant\n%s", i, n, got, w)
			}
			if sum != whole.Summary || unpruned != whole.Unpruned {
				t.Errorf("case %d: %d shards sum to %+v (unpruned %d), want %+v (%d)", i, n, sum, unpruned, whole.Summary, whole.Unpruned)
			}
		}
	}
}

func asJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.MarshalIndent(v, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func sortChanges(cs []Change) {
	sort.SliceStable(cs, func(i, j int) bool {
		if ti, tj := cs[i].Target().String(), cs[j].Target().String(); ti != tj {
			return ti < tj
		}
		return compareChanges(cs[i], cs[j]) < 0
	})
}

func TestShardContains(t *testing.T) {
	// The FNV-1a hash of "project/set/name", as hash/fnv computes it.
	counts := make([]int, 4)
	for i := range 4000 {
		name := fmt.Sprintf("n%d", i)
		in := 0
		for s := range 4 {
			if (Shard{I: s, N: 4}).Contains(projA, "p", name) {
				counts[s]++
				in++
			}
		}
		if in != 1 {
			t.Fatalf("%s is in %d of 4 shards", name, in)
		}
	}
	for s, c := range counts {
		if c < 800 || c > 1200 {
			t.Errorf("shard %d/4 holds %d of 4000", s, c)
		}
	}
	// The same hash as hash/fnv's.
	if !(Shard{I: fnvRef("p/s/n") % 7, N: 7}).Contains("p", "s", "n") {
		t.Error("Shard.Contains disagrees with hash/fnv")
	}
	if !(Shard{}).Contains("p", "s", "n") || !(Shard{N: 1}).Contains("p", "s", "n") {
		t.Error("no shard does not contain everything")
	}
}

// TestSetsPlanAlone: a set's plan is the same whichever other manifests
// are passed (DESIGN.md "Ownership"): planned alone or with the other
// sets, its changes are the same. The one exception is an unmanaged
// endpoint that another passed set could adopt too: never adopted for
// one set on the strength of which manifests were passed, it is a
// conflict for both (a plan that adopted it twice could not be carried
// out), and planned alone it is an adopt (or a conflict naming --adopt).
func TestSetsPlanAlone(t *testing.T) {
	r := rand.New(rand.NewSource(11))
	key := func(c Change) string { return fmt.Sprintf("%s %s/%s %s", c.Action, c.Set, c.Name, c.ID) }
	for i := range 1000 {
		in := randomInput(r, targetA)
		opts := randomOptions(r)
		full, err := Diff([]Input{in}, opts)
		if err != nil {
			t.Fatalf("case %d: %v", i, err)
		}
		contended := map[string]bool{} // set/name of the exception
		for _, c := range full.Changes {
			if c.Action == Conflict && strings.Contains(c.Reason, "also declare") {
				contended[c.Set+"/"+c.Name] = true
			}
		}
		for _, set := range declaredSets {
			alone := in
			alone.Desired = slices.DeleteFunc(slices.Clone(in.Desired), func(d *manifests.Endpoint) bool { return d.Set != set })
			alone.Sets = slices.DeleteFunc(slices.Clone(in.Sets), func(s string) bool { return s != set })
			p, err := Diff([]Input{alone}, opts)
			if err != nil {
				t.Fatalf("case %d: %v", i, err)
			}
			var got, want []string
			for _, c := range p.Changes {
				if !contended[c.Set+"/"+c.Name] {
					got = append(got, key(c))
				}
			}
			for _, c := range full.Changes {
				if c.Set == set && !contended[c.Set+"/"+c.Name] {
					want = append(want, key(c))
				}
			}
			slices.Sort(got)
			slices.Sort(want)
			if !slices.Equal(got, want) {
				t.Fatalf("case %d: set %s alone plans\n%s\nwith the other sets\n%s", i, set, strings.Join(got, "\n"), strings.Join(want, "\n"))
			}
		}
	}
}

// TestTargeting: --set and --name narrow what a plan acts on, prune and
// adopt included, and inside the narrowed scope the plan is the plan of
// the whole: a set's prune never reaches another set.
func TestTargeting(t *testing.T) {
	r := rand.New(rand.NewSource(13))
	key := func(c Change) string { return fmt.Sprintf("%s %s/%s %s", c.Action, c.Set, c.Name, c.ID) }
	for i := range 1000 {
		in := randomInput(r, targetA)
		opts := randomOptions(r)
		full, err := Diff([]Input{in}, opts)
		if err != nil {
			t.Fatal(err)
		}
		narrow := opts
		narrow.Sets = []string{"p"}
		narrow.Names = []string{"q/a", "q/b"}
		p, err := Diff([]Input{in}, narrow)
		if err != nil {
			t.Fatal(err)
		}
		var want, got []string
		for _, c := range full.Changes {
			if c.Set == "p" || c.Set == "q" && c.Name != "" && (c.Name == "a" || c.Name == "b") {
				want = append(want, key(c))
			}
		}
		for _, c := range p.Changes {
			got = append(got, key(c))
		}
		slices.Sort(want)
		slices.Sort(got)
		if !slices.Equal(got, want) {
			t.Fatalf("case %d: narrowed to set p and q/a, q/b:\n%s\nwant\n%s", i, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		if fmt.Sprint(p.Scope.OnlySets, p.Scope.OnlyNames) != "[p] [q/a q/b]" {
			t.Fatalf("scope records %v %v", p.Scope.OnlySets, p.Scope.OnlyNames)
		}
	}
}
