package plan

import (
	"slices"
	"testing"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// rowsOf makes the scenario's status rows with opts.
func rowsOf(t *testing.T, in []Input, opts Options) []Row {
	t.Helper()
	p, err := Diff(in, opts)
	if err != nil {
		t.Fatal(err)
	}
	return Status(in, p, opts)
}

// TestStatusLostNameTag: an endpoint of the set that lost its name tag and
// that the plan matches to a declared name (to tag it again) is that
// name's row, with its id and status; it is not also shown as an owned
// endpoint no longer declared that --prune would delete (it would not).
func TestStatusLostNameTag(t *testing.T) {
	for _, opts := range []Options{{}, {Prune: true}, {Sets: []string{"payments"}}} {
		rows := rowsOf(t, scenario(), opts)
		var mine []Row
		for _, r := range rows {
			if r.ID == "ep-renamed" {
				mine = append(mine, r)
			}
		}
		i := slices.IndexFunc(rows, func(r Row) bool { return r.Set == "payments" && r.Name == "app-renamed" })
		if i < 0 {
			t.Fatalf("%+v: no row for payments/app-renamed", opts)
		}
		if r := rows[i]; r.ID != "ep-renamed" || r.Status != "accepted" || r.Action != Tag || !r.Declared {
			t.Errorf("%+v: payments/app-renamed row %+v, want ep-renamed, accepted, tag", opts, r)
		}
		if len(mine) != 1 {
			t.Errorf("%+v: %d rows show ep-renamed, want 1: %+v", opts, len(mine), mine)
		}
	}
}

// TestStatusListedTwice: an endpoint the listing returned twice (pages
// shifting under a concurrent create) is one row.
func TestStatusListedTwice(t *testing.T) {
	in := scenario()
	for i := range in {
		if in[i].Target == targetA {
			in[i].Observed = append(in[i].Observed, in[i].Observed...)
		}
	}
	for _, opts := range []Options{{}, {Prune: true}} {
		seen := map[string]int{}
		for _, r := range rowsOf(t, in, opts) {
			if r.ID != "" {
				seen[r.ID]++
			}
		}
		for id, n := range seen {
			if n > 1 {
				t.Errorf("%+v: %s in %d rows", opts, id, n)
			}
		}
		if seen["ep-old"] != 1 || seen["ep-retired"] != 1 {
			t.Errorf("%+v: rows of the owned endpoints no longer declared: %v", opts, seen)
		}
	}
}

// TestStatusNone: with nothing declared and nothing owned, the rows are
// an empty list, not nil (-o json writes "endpoints": []).
func TestStatusNone(t *testing.T) {
	in := []Input{{Target: targetA, Sets: []string{"empty"}, Services: services(), Observed: scenario()[1].Observed}}
	if rows := rowsOf(t, in, Options{}); rows == nil || len(rows) != 0 {
		t.Errorf("rows %#v, want an empty list", rows)
	}
}

// TestStatusTargetsApart: two targets with one project id in two regions
// (as a manifest may write them) keep their rows apart: what the plan does
// in one is not shown in the other.
func TestStatusTargetsApart(t *testing.T) {
	nl := Target{Region: "eu-nl", ProjectID: projA}
	in := []Input{
		{Target: targetA, Services: services(), Desired: []*manifests.Endpoint{want("p", "a")}},
		{Target: nl, Services: services(), Desired: []*manifests.Endpoint{want("p", "a")}, Observed: []vpcep.Endpoint{have("ep-nl", "p", "a")}},
	}
	rows := rowsOf(t, in, Options{})
	if len(rows) != 2 || rows[0].Region != "eu-de" || rows[0].Action != Create || rows[1].ID != "ep-nl" || rows[1].Action != Noop {
		t.Errorf("rows %+v, want eu-de p/a create, eu-nl p/a ep-nl unchanged", rows)
	}
}

// TestStatusDuplicates: a declared name with duplicates is the keeper's
// row (what the plan does to it), then a row for each duplicate, marked
// and with the delete the plan makes of it.
func TestStatusDuplicates(t *testing.T) {
	rows := rowsOf(t, scenario(), Options{})
	var dup []Row
	for _, r := range rows {
		if r.Set == "payments" && r.Name == "app-dup" {
			dup = append(dup, r)
		}
	}
	if len(dup) != 3 {
		t.Fatalf("%d rows for payments/app-dup, want 3 (a keeper, 2 duplicates): %+v", len(dup), dup)
	}
	// The keeper is the oldest, ep-dup-3 (failed: the plan replaces it).
	if k := dup[0]; k.ID != "ep-dup-3" || k.Duplicate || k.Action != Replace {
		t.Errorf("first row %+v, want the keeper ep-dup-3, replaced", k)
	}
	for _, r := range dup[1:] {
		if !r.Duplicate || r.Action != Delete || !r.Declared || r.ID == "ep-dup-3" {
			t.Errorf("duplicate row %+v, want marked, with the delete", r)
		}
	}
}

// TestStatusAdoptShowsEndpoint: a declared endpoint that would adopt an
// unmanaged one (or is a conflict about it) shows that endpoint's id and
// status, as the plan names it.
func TestStatusAdoptShowsEndpoint(t *testing.T) {
	for _, opts := range []Options{{}, {Adopt: true}} {
		rows := rowsOf(t, scenario(), opts)
		i := slices.IndexFunc(rows, func(r Row) bool { return r.Set == "payments" && r.Name == "app-adopt" })
		if i < 0 {
			t.Fatalf("no row for payments/app-adopt")
		}
		want := Conflict
		if opts.Adopt {
			want = Adopt
		}
		if r := rows[i]; r.ID != "ep-unmanaged" || r.Status != vpcep.StatusAccepted || r.Action != want {
			t.Errorf("adopt %v: row %+v, want ep-unmanaged, accepted, %s", opts.Adopt, r, want)
		}
	}
}
