package plan

import (
	"slices"
	"testing"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestDestroy: a destroy plan deletes every endpoint the declared sets
// own (keepers, duplicates, failed ones, those without a name tag, those
// of a set declared with no endpoints) and nothing else: not another
// set's, not an unmanaged one, not one already deleting; no other action.
// --set and --name narrow it; an endpoint that lost its name tag is taken
// in only by --set.
func TestDestroy(t *testing.T) {
	all := []string{"ep-creating", "ep-drift", "ep-dup-1", "ep-dup-2", "ep-dup-3", "ep-failed", "ep-gw", "ep-gw-rt",
		"ep-nl-ok", "ep-ok", "ep-old", "ep-pending", "ep-rejected", "ep-renamed", "ep-retired", "ep-tags"}
	tests := []struct {
		name string
		opts Options
		want []string
	}{
		{"all", Options{Destroy: true}, all},
		{"--set search", Options{Destroy: true, Sets: []string{"search"}}, []string{"ep-gw", "ep-gw-rt"}},
		{"--set payments", Options{Destroy: true, Sets: []string{"payments"}}, []string{"ep-creating", "ep-drift", "ep-dup-1",
			"ep-dup-2", "ep-dup-3", "ep-failed", "ep-nl-ok", "ep-ok", "ep-old", "ep-pending", "ep-rejected", "ep-renamed", "ep-tags"}},
		{"--name", Options{Destroy: true, Names: []string{"payments/app-dup", "retired/cache"}}, []string{"ep-dup-1", "ep-dup-2", "ep-dup-3", "ep-retired"}},
		{"--name of nothing", Options{Destroy: true, Names: []string{"payments/app-new"}}, nil},
		// The flags that allow actions change nothing in a destroy.
		{"with --adopt --approve", Options{Destroy: true, Adopt: true, Approve: true, AllowReplace: true}, all},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := Diff(scenario(), tt.opts)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, c := range p.Changes {
				if c.Action != Delete {
					t.Errorf("%s %s/%s: a destroy plans only deletes", c.Action, c.Set, c.Name)
				}
				got = append(got, c.ID)
			}
			slices.Sort(got)
			if !slices.Equal(got, tt.want) {
				t.Errorf("deletes %v, want %v\n%s", got, tt.want, text(p))
			}
			if p.Summary.Delete != len(tt.want) || p.Summary.Changes() != len(tt.want) || !p.Scope.Destroy {
				t.Errorf("summary %+v, scope.destroy %v", p.Summary, p.Scope.Destroy)
			}
		})
	}
}

// TestDestroyUnresolvedService: a service that no longer resolves (its
// provider deleted it) does not stop the destroy of its endpoints, as it
// stops a plan.
func TestDestroyUnresolvedService(t *testing.T) {
	in := scenario()
	for i := range in {
		in[i].Services = map[string]*vpcep.Service{}
	}
	if _, err := Diff(in, Options{}); err == nil {
		t.Fatal("a plan with no service resolved: no error")
	}
	p, err := Diff(in, Options{Destroy: true})
	if err != nil {
		t.Fatal(err)
	}
	if p.Summary.Delete != 16 {
		t.Errorf("%d deletes, want 16\n%s", p.Summary.Delete, text(p))
	}
}
