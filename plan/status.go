package plan

import (
	"cmp"
	"slices"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file is the status view (vpcepctl status): each declared endpoint
// with the endpoint that carries its name and what the plan would do to
// it, and the owned endpoints no longer declared.

// Row is one endpoint in the status view.
type Row struct {
	Set       string `json:"set"`
	Name      string `json:"name"`
	Region    string `json:"region"`
	ProjectID string `json:"project_id"`
	Declared  bool   `json:"declared"`
	// Duplicate: another endpoint carries the name and is kept (the
	// keeper rule); the plan deletes this one.
	Duplicate bool      `json:"duplicate,omitempty"`
	ID        string    `json:"id"`     // "" when none exists
	Status    string    `json:"status"` // the endpoint's, "" when none exists
	IP        string    `json:"ip"`
	Service   string    `json:"service"` // name, or id
	CreatedAt time.Time `json:"created_at,omitzero"`
	// Action is what the plan does to it (noop when nothing), Reason why.
	Action Action `json:"action"`
	Reason string `json:"reason,omitempty"`
}

// Status lists the rows of the inputs' declared sets (those p acts on:
// in its shard and targets), sorted by target, set and name: each
// declared endpoint, with the keeper of its name and then its duplicates (or the endpoint of its
// set without a name tag that the plan gives the name), and each owned
// endpoint no longer declared (or without a name tag that no declared
// name takes), each endpoint once. p is Diff's plan of inputs.
func Status(inputs []Input, p *Plan, opts Options) []Row {
	changes := map[string]*Change{}
	for i := range p.Changes {
		c := &p.Changes[i]
		if c.KeptID != "" { // a duplicate's delete: its own row, by id
			changes[c.Region+"/"+c.ProjectID+"/"+c.Set+"/"+c.Name+"/"+c.ID] = c
			continue
		}
		changes[c.Region+"/"+c.ProjectID+"/"+c.Set+"/"+c.Name+"/"+c.ID] = c
		changes[c.Region+"/"+c.ProjectID+"/"+c.Set+"/"+c.Name] = c
	}
	rows := []Row{}
	for _, in := range mergeInputs(inputs) {
		rows = append(rows, statusOf(in, changes, p.named[in.Target], opts)...)
	}
	slices.SortFunc(rows, func(a, b Row) int {
		return cmp.Or(compareTargets(Target{a.Region, a.ProjectID}, Target{b.Region, b.ProjectID}),
			strings.Compare(a.Set, b.Set), strings.Compare(a.Name, b.Name), compareBool(a.Duplicate, b.Duplicate), strings.Compare(a.ID, b.ID))
	})
	return rows
}

// statusOf is the rows of one target; named are the endpoints without a
// name tag that the plan matched to a declared name, by id.
func statusOf(in Input, changes map[string]*Change, named map[string]owner, opts Options) []Row {
	declared := map[string]bool{}
	for _, s := range in.Sets {
		declared[s] = true
	}
	byName := map[string][]*vpcep.Endpoint{}
	renamed := map[owner]*vpcep.Endpoint{}
	for i := range in.Observed {
		e := &in.Observed[i]
		set, ok := e.TagValue(manifests.TagSet)
		if !ok || e.Status == vpcep.StatusDeleting {
			continue
		}
		name, _ := e.TagValue(manifests.TagName)
		if o, ok := named[e.ID]; ok && name == "" && o.set == set {
			renamed[o] = e
			continue
		}
		byName[set+"/"+name] = appendNew(byName[set+"/"+name], e)
	}
	prefix := in.Target.Region + "/" + in.Target.ProjectID + "/"
	row := func(set, name string, e *vpcep.Endpoint, isDeclared bool) Row {
		r := Row{Set: set, Name: name, Region: in.Target.Region, ProjectID: in.Target.ProjectID, Declared: isDeclared, Action: Noop}
		key := prefix + set + "/" + name
		if e != nil {
			r.ID, r.Status, r.IP, r.CreatedAt = e.ID, e.Status, e.IP, e.CreatedAt.Time
			r.Service = serviceLabel(in.Services, e.EndpointServiceID, e.EndpointServiceName)
			key += "/" + e.ID
		}
		c := changes[key]
		if c == nil {
			if c = changes[prefix+set+"/"+name]; c != nil && e != nil && c.ID != "" {
				c = nil // another endpoint's change
			}
		}
		switch {
		case c != nil:
			r.Action, r.Reason = c.Action, c.Reason
			if e == nil && c.Current != nil { // the unmanaged endpoint an adopt (or its conflict) is about
				cur := c.Current
				r.ID, r.Status, r.IP, r.CreatedAt = cur.ID, cur.Status, cur.IP, cur.CreatedAt.Time
				r.Service = serviceLabel(in.Services, cur.EndpointServiceID, cur.EndpointServiceName)
			}
		case !isDeclared:
			r.Reason = "no longer declared; --prune deletes it"
		}
		return r
	}
	var rows []Row
	for _, d := range in.Desired {
		declared[d.Set] = true
		if !opts.Shard.Contains(in.Target.ProjectID, d.Set, d.Name) || !opts.Selects(d.Set, d.Name) {
			continue
		}
		es := byName[d.Set+"/"+d.Name]
		delete(byName, d.Set+"/"+d.Name)
		keep := renamed[owner{d.Set, d.Name}]
		if len(es) > 0 {
			keep = slices.MinFunc(es, Keeper)
		}
		r := row(d.Set, d.Name, keep, true)
		if keep == nil {
			r.Service = serviceLabel(in.Services, d.EndpointServiceID, d.EndpointServiceName)
		}
		rows = append(rows, r)
		for _, e := range es {
			if e != keep {
				r := row(d.Set, d.Name, e, true)
				r.Duplicate = true
				rows = append(rows, r)
			}
		}
	}
	for k, es := range byName { // owned, no longer declared
		set, name, _ := strings.Cut(k, "/")
		if !declared[set] || !opts.Shard.Contains(in.Target.ProjectID, set, name) || !opts.Selects(set, name) {
			continue
		}
		for _, e := range es {
			rows = append(rows, row(set, name, e, false))
		}
	}
	return rows
}

// serviceLabel names a service by its name where it is known.
func serviceLabel(services map[string]*vpcep.Service, id, name string) string {
	for _, k := range []string{id, name} {
		if s := services[k]; s != nil && k != "" {
			return cmp.Or(s.ServiceName, s.ID)
		}
	}
	return cmp.Or(name, id)
}

// compareBool orders false before true.
func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	}
	return -1
}
