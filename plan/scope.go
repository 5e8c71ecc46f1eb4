package plan

import (
	"bytes"
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds what a plan depends on, so that apply PLANFILE can check
// a saved plan against a fresh listing without the manifests (DESIGN.md
// "Plan"). Policy: a plan depends on the endpoints its declared sets own
// (in its shard; those without a name tag in any shard, since any declared
// name may claim them) and on the unmanaged endpoints that share a natural
// key with a declared endpoint that has no endpoint of its own (adoption
// candidates). Nothing else: another team's endpoint never makes a plan
// stale. A plan file may only touch what its sets own (CheckChanges).

// Scope is what a plan was made for: the flags that shaped it and, per
// target, the sets it declares and the natural keys it looked for.
type Scope struct {
	Shard        string `json:"shard,omitempty"` // "I/N"; empty: no sharding
	Adopt        bool   `json:"adopt"`
	Approve      bool   `json:"approve"`
	Prune        bool   `json:"prune"`
	AllowReplace bool   `json:"allow_replace"`
	Destroy      bool   `json:"destroy,omitempty"`
	// OnlySets and OnlyNames are the targeting flags (--set, --name) the
	// plan was made with; empty: the whole of the manifests.
	OnlySets  []string      `json:"only_sets,omitempty"`
	OnlyNames []string      `json:"only_names,omitempty"`
	Targets   []TargetScope `json:"targets"`
}

// TargetScope is a plan's scope in one target.
type TargetScope struct {
	Region    string   `json:"region"`
	ProjectID string   `json:"project_id"`
	Sets      []string `json:"sets"`
	// Keys are the natural keys of the declared endpoints that have no
	// endpoint of their own (in every shard): the unmanaged endpoints with
	// these keys are what the plan adopts, or could.
	Keys []NaturalKey `json:"natural_keys"`
	// Quota is the endpoint quota as the plan read it (nil: unknown).
	Quota *Quota `json:"quota,omitempty"`
}

// Quota is the endpoint quota a plan was checked against.
type Quota struct {
	Used  int `json:"used"`
	Quota int `json:"quota"`
}

// NaturalKey is what identifies an endpoint without tags: the service and
// the VPC, and the subnet for interface services (empty for gateways).
// Ids are lower case.
type NaturalKey struct {
	ServiceID string `json:"endpoint_service_id"`
	VPCID     string `json:"vpc_id"`
	SubnetID  string `json:"subnet_id,omitempty"`
}

func keyOf(s *vpcep.Service, d *manifests.Endpoint, gateway bool) NaturalKey {
	k := NaturalKey{ServiceID: strings.ToLower(s.ID), VPCID: strings.ToLower(d.VPCID)}
	if !gateway {
		k.SubnetID = strings.ToLower(d.SubnetID)
	}
	return k
}

func compareKeys(a, b NaturalKey) int {
	return cmp.Or(strings.Compare(a.ServiceID, b.ServiceID), strings.Compare(a.VPCID, b.VPCID), strings.Compare(a.SubnetID, b.SubnetID))
}

// Digest is one endpoint a plan depends on and a digest of what it
// depends on (status class, natural key, tags).
type Digest struct {
	ID     string `json:"id"`
	Digest string `json:"digest"`
}

// ShardOf parses the scope's shard.
func (s *Scope) ShardOf() (Shard, error) {
	if s.Shard == "" {
		return Shard{}, nil
	}
	sh, err := ParseShard(s.Shard)
	if err != nil || sh.N < 2 {
		return Shard{}, fmt.Errorf("scope: shard %q, want I/N with 0 <= I < N", s.Shard)
	}
	return sh, nil
}

// scopeIndex answers whether the plan depends on an endpoint of a target.
type scopeIndex struct {
	t     Target
	shard Shard
	sets  map[string]bool
	keys  map[NaturalKey]bool
}

func (ix *scopeIndex) covers(e *vpcep.Endpoint) bool {
	if e.Status == vpcep.StatusDeleting {
		return false
	}
	if set, ok := e.TagValue(manifests.TagSet); ok {
		name, _ := e.TagValue(manifests.TagName)
		return ix.sets[set] && (name == "" || ix.shard.Contains(ix.t.ProjectID, set, name))
	}
	k := NaturalKey{ServiceID: strings.ToLower(e.EndpointServiceID), VPCID: strings.ToLower(e.VPCID)}
	if ix.keys[k] { // a gateway's key
		return true
	}
	k.SubnetID = strings.ToLower(e.SubnetID)
	return k.SubnetID != "" && ix.keys[k]
}

// digest hashes what a plan depends on of one endpoint. The fields fixed
// at create are not hashed beyond the natural key: they cannot change
// without the id changing. An endpoint going from creating to accepted or
// pendingAcceptance leaves it as it was; failing, being rejected or
// changing tags changes it.
func digest(t Target, e *vpcep.Endpoint) [sha256.Size]byte {
	byKey := func(a, b vpcep.Tag) int {
		return cmp.Or(strings.Compare(a.Key, b.Key), strings.Compare(a.Value, b.Value))
	}
	tags := e.Tags
	if !slices.IsSortedFunc(tags, byKey) { // the API lists them sorted, mostly: no copy then
		tags = slices.Clone(tags)
		slices.SortFunc(tags, byKey)
	}
	var buf [512]byte // most endpoints' lines fit: no allocation
	line := buf[:0]
	for _, f := range []string{t.Region, t.ProjectID, e.ID, statusClass(e.Status),
		strings.ToLower(e.EndpointServiceID), strings.ToLower(e.VPCID), strings.ToLower(e.SubnetID)} {
		line = append(append(line, f...), 0)
	}
	for _, tg := range tags {
		line = append(append(append(append(line, tg.Key...), 1), tg.Value...), 1)
	}
	return sha256.Sum256(line)
}

// Fingerprint hashes the scope and the endpoints of observed it covers,
// and returns the digests of those endpoints (sorted by id, each once).
// It depends on nothing's order: an endpoint listed twice counts once.
func Fingerprint(s *Scope, observed map[Target][]vpcep.Endpoint) (string, []Digest) {
	shard, _ := s.ShardOf()
	type sum struct {
		id  string
		sum [sha256.Size]byte
	}
	n := 0
	for _, eps := range observed {
		n += len(eps)
	}
	sums := make([]sum, 0, n) // grown once, not by doubling
	h := sha256.New()
	fmt.Fprintf(h, "vpcepctl plan fingerprint 2\nshard %s\n", shard)
	for _, ts := range s.Targets {
		t := Target{ts.Region, ts.ProjectID}
		fmt.Fprintf(h, "target %s sets %s\n", t, strings.Join(ts.Sets, ","))
		ix := &scopeIndex{t: t, shard: shard, sets: map[string]bool{}, keys: map[NaturalKey]bool{}}
		for _, set := range ts.Sets {
			ix.sets[set] = true
		}
		for _, k := range ts.Keys {
			fmt.Fprintf(h, "key %s %s %s\n", k.ServiceID, k.VPCID, k.SubnetID)
			ix.keys[k] = true
		}
		for i := range observed[t] {
			if e := &observed[t][i]; ix.covers(e) {
				sums = append(sums, sum{e.ID, digest(t, e)})
			}
		}
	}
	slices.SortFunc(sums, func(a, b sum) int { return cmp.Or(strings.Compare(a.id, b.id), bytes.Compare(a.sum[:], b.sum[:])) })
	sums = slices.CompactFunc(sums, func(a, b sum) bool { return a.id == b.id && a.sum == b.sum })
	digests := make([]Digest, len(sums))
	for i, x := range sums {
		h.Write(x.sum[:])
		digests[i] = Digest{ID: x.id, Digest: hex.EncodeToString(x.sum[:8])}
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil)), digests
}

// statusClass is the part of a status a plan depends on: creating,
// accepted and pendingAcceptance all serve, and none is replaced.
func statusClass(s string) string {
	switch s {
	case vpcep.StatusFailed, vpcep.StatusRejected:
		return s
	}
	return "usable"
}

// CheckFresh compares a plan with the endpoints observed now. It returns
// nil when the fingerprint still matches, and otherwise an error wrapping
// ErrStale, one sentence that names what changed (at most a few
// endpoints) and ends "run plan again".
func (p *Plan) CheckFresh(observed map[Target][]vpcep.Endpoint) error {
	fp, now := Fingerprint(&p.Scope, observed)
	if fp == p.Fingerprint {
		return nil
	}
	was := make(map[string]string, len(p.Observed))
	for _, d := range p.Observed {
		was[d.ID] = d.Digest
	}
	byID := map[string]*vpcep.Endpoint{}
	for t := range observed {
		for i := range observed[t] {
			byID[observed[t][i].ID] = &observed[t][i]
		}
	}
	var what []string
	for _, d := range now {
		old, ok := was[d.ID]
		switch {
		case !ok:
			what = append(what, "new "+describe(byID[d.ID]))
		case old != d.Digest:
			what = append(what, describe(byID[d.ID])+" changed status or tags")
		}
		delete(was, d.ID)
	}
	for _, d := range p.Observed {
		if _, ok := was[d.ID]; ok {
			what = append(what, d.ID+" is gone")
		}
	}
	if len(what) == 0 {
		return fmt.Errorf("%w: the plan file's scope or fingerprint was edited; run plan again", ErrStale)
	}
	n := len(what)
	if n > 5 {
		what = append(what[:5], fmt.Sprintf("and %d more", n-5))
	}
	endpoints := "endpoints"
	if n == 1 {
		endpoints = "endpoint"
	}
	return fmt.Errorf("%w: %d %s changed since it was made: %s; run plan again", ErrStale, n, endpoints, strings.Join(what, ", "))
}

// describe names an endpoint by id and, when it has them, set and name.
func describe(e *vpcep.Endpoint) string {
	if e == nil {
		return "?"
	}
	set, ok := e.TagValue(manifests.TagSet)
	if !ok {
		return e.ID + " (unmanaged)"
	}
	name, _ := e.TagValue(manifests.TagName)
	return e.ID + " (" + set + "/" + name + ")"
}

// ErrNotOwned says a plan file asks to touch an endpoint its sets do not
// own, or to do what the flags it was made with do not allow (an edited
// file).
var ErrNotOwned = errors.New("the plan file touches endpoints it does not own")

// CheckChanges checks each change of a plan against its scope and the
// endpoints observed now, before anything is sent (an edited file):
//   - the change's set is one the plan declares for its target, and its
//     name is in the plan's shard and taken in by its --set and --name;
//   - a delete, replace or tag touches only an endpoint that carries the
//     change's set tag and its name tag (a tag or replace may restore a
//     missing name tag);
//   - an adopt touches only an endpoint without a set tag, with a natural
//     key the plan looked for and its desired body's, made with --adopt;
//   - a delete of a duplicate keeps an endpoint of the same name that the
//     keeper rule keeps; any other delete was made with --prune;
//   - a replace of an endpoint that is not failed was made with
//     --allow-replace;
//   - every desired body carries the change's own two tags.
//
// The error wraps ErrNotOwned and names each offending change.
func (p *Plan) CheckChanges(observed map[Target][]vpcep.Endpoint) error {
	byID := map[Target]map[string]*vpcep.Endpoint{}
	for t, eps := range observed {
		m := make(map[string]*vpcep.Endpoint, len(eps))
		for i := range eps {
			m[eps[i].ID] = &eps[i]
		}
		byID[t] = m
	}
	scopes := map[Target]*TargetScope{}
	for i := range p.Scope.Targets {
		ts := &p.Scope.Targets[i]
		scopes[Target{ts.Region, ts.ProjectID}] = ts
	}
	shard, _ := p.Scope.ShardOf()
	var errs []error
	for i := range p.Changes {
		c := &p.Changes[i]
		t := c.Target()
		err := c.checkScope(scopes[t], shard, &p.Scope)
		if err == nil {
			err = c.checkOwned(&p.Scope, byID[t])
		}
		if err != nil {
			what := fmt.Sprintf("%s %s/%s", c.Action, c.Set, c.Name)
			if c.ID != "" {
				what += " " + c.ID
			}
			errs = append(errs, fmt.Errorf("changes[%d] (%s): %w", i, what, err))
		}
	}
	if len(errs) > 0 {
		return fmt.Errorf("%w:\n%w", ErrNotOwned, errors.Join(errs...))
	}
	return nil
}

// checkScope reports a change outside the plan's scope: a set the plan
// does not declare for the target, a name outside its shard, or one its
// targeting flags (--set, --name) do not take in.
func (c *Change) checkScope(ts *TargetScope, shard Shard, sc *Scope) error {
	if c.Action == Conflict || c.Action == Noop {
		return nil
	}
	if ts == nil || !slices.Contains(ts.Sets, c.Set) {
		return fmt.Errorf("set %s is not one the plan declares for %s", c.Set, c.Target())
	}
	if !shard.Contains(c.ProjectID, c.Set, c.Name) {
		return fmt.Errorf("%s/%s is not in the plan's shard %s", c.Set, c.Name, shard)
	}
	if !(Options{Sets: sc.OnlySets, Names: sc.OnlyNames}).Selects(c.Set, c.Name) {
		var flags []string
		for _, set := range sc.OnlySets {
			flags = append(flags, "--set "+set)
		}
		for _, name := range sc.OnlyNames {
			flags = append(flags, "--name "+name)
		}
		return fmt.Errorf("%s/%s is outside the plan's --set/--name (it was made with %s)", c.Set, c.Name, strings.Join(flags, " "))
	}
	return nil
}

// checkOwned reports what makes a change touch something it does not own
// or may not touch (see CheckChanges); byID are the target's endpoints now.
func (c *Change) checkOwned(sc *Scope, byID map[string]*vpcep.Endpoint) error {
	if c.Action == Conflict || c.Action == Noop {
		return nil
	}
	if c.Desired != nil && c.Action != Delete {
		set, _ := tagOf(c.Desired.Tags, manifests.TagSet)
		name, _ := tagOf(c.Desired.Tags, manifests.TagName)
		if set != c.Set || name != c.Name {
			return fmt.Errorf("its desired tags are %s=%s, %s=%s, want the change's own", manifests.TagSet, set, manifests.TagName, name)
		}
	}
	if c.Action == Create {
		return nil
	}
	e := byID[c.ID]
	if e == nil {
		return errors.New("no such endpoint now")
	}
	set, hasSet := e.TagValue(manifests.TagSet)
	name, _ := e.TagValue(manifests.TagName)
	switch c.Action {
	case Adopt:
		switch {
		case hasSet:
			return fmt.Errorf("the endpoint carries %s=%s; adopt takes only endpoints without it", manifests.TagSet, set)
		case !sc.Adopt:
			return errors.New("an adopt in a plan made without --adopt")
		case c.Desired == nil || !strings.EqualFold(e.EndpointServiceID, c.Desired.EndpointServiceID) ||
			!strings.EqualFold(e.VPCID, c.Desired.VPCID) || !strings.EqualFold(e.SubnetID, c.Desired.SubnetID):
			return errors.New("the endpoint does not have the natural key of the change's desired endpoint")
		}
		return nil
	}
	if !hasSet || set != c.Set || name != c.Name && !(name == "" && c.Action != Delete) {
		return fmt.Errorf("the endpoint carries %s=%q, %s=%q; %s touches only its own set and name", manifests.TagSet, set, manifests.TagName, name, c.Action)
	}
	switch {
	case c.Action == Approve && (!sc.Approve || e.Status != vpcep.StatusPendingAcceptance):
		return fmt.Errorf("an approve of an endpoint in status %s, in a plan made with --approve %v; approve accepts only endpoints awaiting approval, with --approve", e.Status, sc.Approve)
	case c.Action == Delete && c.KeptID != "":
		kept := byID[c.KeptID]
		if kept == nil || kept.Status == vpcep.StatusDeleting || Keeper(kept, e) >= 0 {
			return fmt.Errorf("a duplicate's delete that does not keep the endpoint the keeper rule keeps (%s)", c.KeptID)
		}
		if ks, _ := kept.TagValue(manifests.TagSet); ks != c.Set {
			return fmt.Errorf("the endpoint kept (%s) is not of set %s", c.KeptID, c.Set)
		}
		if kn, _ := kept.TagValue(manifests.TagName); kn != c.Name {
			return fmt.Errorf("the endpoint kept (%s) is not named %s", c.KeptID, c.Name)
		}
	case c.Action == Delete && !sc.Prune:
		return errors.New("a delete in a plan made without --prune")
	case c.Action == Replace && e.Status != vpcep.StatusFailed && !sc.AllowReplace:
		return errors.New("a replace of an endpoint that is not failed, in a plan made without --allow-replace")
	}
	return nil
}

func tagOf(tags []vpcep.Tag, key string) (string, bool) {
	for _, t := range tags {
		if t.Key == key {
			return t.Value, true
		}
	}
	return "", false
}

// ErrScope says a plan file is applied with flags other than those it was
// made with.
var ErrScope = errors.New("a plan file applies as it was made")

// Check refuses options that would make a plan other than the one made
// with the scope: a different shard, or a flag the plan was made without.
// A flag not given is fine: the plan file records what it was made with.
func (s *Scope) Check(opts Options) error {
	var bad []string
	if opts.Shard.N > 1 && opts.Shard.String() != s.Shard {
		made := s.Shard
		if made == "" {
			made = "no shard"
		}
		bad = append(bad, fmt.Sprintf("--shard %s (the plan was made with %s)", opts.Shard, made))
	}
	for _, f := range []struct {
		name      string
		given, in bool
	}{{"--adopt", opts.Adopt, s.Adopt}, {"--prune", opts.Prune, s.Prune}, {"--allow-replace", opts.AllowReplace, s.AllowReplace},
		{"--approve", opts.Approve, s.Approve}} {
		if f.given && !f.in {
			bad = append(bad, f.name+" (the plan was made without it)")
		}
	}
	for _, f := range []struct {
		name        string
		given, made []string
	}{{"--set", opts.Sets, s.OnlySets}, {"--name", opts.Names, s.OnlyNames}} {
		if given := sortedCopy(f.given); given != nil && !slices.Equal(given, f.made) {
			made := "without it"
			if f.made != nil {
				made = "with " + f.name + " " + strings.Join(f.made, " "+f.name+" ")
			}
			bad = append(bad, fmt.Sprintf("%s %s (the plan was made %s)", f.name, strings.Join(given, " "+f.name+" "), made))
		}
	}
	if len(bad) > 0 {
		return fmt.Errorf("%w: %s; make a new plan with the flags you want", ErrScope, strings.Join(bad, ", "))
	}
	return nil
}
