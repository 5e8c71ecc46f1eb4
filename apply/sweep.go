package apply

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the end-of-run sweep (DESIGN.md "Ownership"). Policy:
// before a run that was not stopped returns, it lists once more every
// target in which it created endpoints, after CommitWindow has passed since
// the last create whose outcome was unknown (so that a late commit has
// landed), and deletes the extras of the names it created, keeping one by
// the keeper rule: those of a late commit, of an overlapping run, of
// someone's copy. Each removal is a result of its own (a delete whose
// reason names the endpoint kept), and a create whose endpoint was the
// extra reports the keeper instead. Overlapping runs agree on the keeper,
// so they converge instead of deleting each other's work twice.

// sweep removes the duplicates of the names the plan created.
// key is a name in a target.
type key struct {
	t         plan.Target
	set, name string
}

func (r *run) sweep(p *plan.Plan) {
	created := map[key][]int{} // result indexes of the creates and replaces of a name
	var targets []plan.Target
	for i, c := range p.Changes {
		if c.Action != plan.Create && c.Action != plan.Replace || r.targets[c.Target()] == nil {
			continue
		}
		k := key{c.Target(), c.Set, c.Name}
		if !slices.Contains(targets, k.t) {
			targets = append(targets, k.t)
		}
		created[k] = append(created[k], i)
	}
	if len(created) == 0 || r.dispatch.Err() != nil {
		return
	}
	r.mu.Lock()
	last := r.ambiguous
	r.mu.Unlock()
	if wait := time.Until(last.Add(r.opts.CommitWindow)); !last.IsZero() && wait > 0 {
		r.opts.Logger.Info("waiting for late commits of creates whose answers were lost, then removing duplicates", "wait", wait.Round(time.Second))
		if sleep(r.dispatch, wait) != nil {
			return
		}
	}

	var extras []plan.Change
	for _, t := range targets {
		tg := r.targets[t]
		var eps []vpcep.Endpoint
		var err error
		r.stepAlways(func(ctx context.Context) {
			eps, err = tg.api.ListEndpoints(ctx, otc.ListOptions{MaxEndpoints: tg.bound})
		})
		if err != nil {
			// Not silent: a run that may leave a duplicate does not succeed.
			res := Result{Action: string(plan.Delete), ProjectID: t.ProjectID,
				Set: sweptSets(created, t), Reason: "the end-of-run sweep of duplicates",
				Error: "duplicates not swept: listing " + t.String() + " failed: " + err.Error() + "; the next run's plan deletes any"}
			r.rep.Results = append(r.rep.Results, res)
			if rec := r.opts.Recorder; rec != nil {
				rec.Change(string(plan.Delete), Failed)
			}
			r.event(&res, 0, func(c *Counts) { c.Total, c.Done, c.Failed = c.Total+1, c.Done+1, c.Failed+1 })
			continue
		}
		extras = append(extras, r.duplicates(t, eps, created)...)
	}
	if len(extras) == 0 {
		return
	}
	slices.SortFunc(extras, func(a, b plan.Change) int {
		return strings.Compare(a.Set+"/"+a.Name+" "+a.ID, b.Set+"/"+b.Name+" "+b.ID)
	})
	r.opts.Logger.Warn("removing duplicates the run found at its end", "count", len(extras))
	base := len(r.rep.Results)
	r.rep.Results = append(r.rep.Results, make([]Result, len(extras))...)
	r.event(nil, 0, func(c *Counts) { c.Total += len(extras) })
	for i := range extras {
		r.start(&extras[i], base+i, r.dispatch) // a reached quota does not stop them: they make room
	}
	r.pending.Wait()
}

// duplicates finds, among the endpoints eps listed in target t, the
// names created this run that now have more than one endpoint, points
// their results at the keeper, and returns the deletes of the others.
func (r *run) duplicates(t plan.Target, eps []vpcep.Endpoint, created map[key][]int) []plan.Change {
	var extras []plan.Change
	byName := map[key][]*vpcep.Endpoint{}
	for i := range eps {
		e := &eps[i]
		set, _ := e.TagValue(manifests.TagSet)
		name, _ := e.TagValue(manifests.TagName)
		if k := (key{t, set, name}); created[k] != nil && e.Status != vpcep.StatusDeleting {
			byName[k] = append(byName[k], e)
		}
	}
	for k, es := range byName {
		if len(es) < 2 {
			continue
		}
		slices.SortFunc(es, plan.Keeper)
		keep := es[0]
		for _, i := range created[k] {
			if res := &r.rep.Results[i]; res.ID != keep.ID && slices.ContainsFunc(es[1:], func(e *vpcep.Endpoint) bool { return e.ID == res.ID }) {
				res.ID, res.Status = keep.ID, keep.Status
				res.Error = keeperError(keep)
			}
		}
		for _, e := range es[1:] {
			extras = append(extras, plan.Change{Action: plan.Delete, Set: k.set, Name: k.name, Region: t.Region, ProjectID: t.ProjectID,
				ID: e.ID, Current: e, KeptID: keep.ID, Reason: "duplicate of " + keep.ID + ", the oldest, which is kept"})
		}
	}
	return extras
}

// keeperError is the error of a create whose endpoint was a duplicate of
// an older one that cannot serve (the name is then the keeper's): "" when
// the keeper is usable.
func keeperError(keep *vpcep.Endpoint) string {
	switch keep.Status {
	case vpcep.StatusFailed:
		msg := "the endpoint kept for the name (" + keep.ID + ", the oldest) failed"
		if len(keep.Error) > 0 {
			msg += ": " + keep.Error[0].ErrorCode + ": " + keep.Error[0].ErrorMessage
		}
		return msg + "; the next run replaces it"
	case vpcep.StatusRejected:
		return "the endpoint kept for the name (" + keep.ID + ", the oldest) was rejected by the endpoint service"
	}
	return ""
}

// sweptSets names the sets whose names the sweep of target t covers.
func sweptSets(created map[key][]int, t plan.Target) string {
	var sets []string
	for k := range created {
		if k.t == t && !slices.Contains(sets, k.set) {
			sets = append(sets, k.set)
		}
	}
	slices.Sort(sets)
	return strings.Join(sets, ",")
}
