package plan

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/fnv"
	"maps"
	"slices"
	"sort"
	"strings"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
)

// FormatVersion is the version of the plan JSON document.
const FormatVersion = "1"

// Action is what the plan does with one endpoint.
type Action string

// The actions, in the order the plan lists them.
const (
	Create   Action = "create"
	Noop     Action = "noop"
	Tag      Action = "tag"
	Replace  Action = "replace"
	Adopt    Action = "adopt"
	Delete   Action = "delete"
	Conflict Action = "conflict"
)

// Actions lists every action (metrics initialise their labels from it).
var Actions = []Action{Create, Tag, Replace, Adopt, Delete, Conflict, Noop}

// Symbol is the action's mark in the text plan.
func (a Action) Symbol() string {
	switch a {
	case Create:
		return "+"
	case Tag:
		return "~"
	case Replace:
		return "-/+"
	case Adopt:
		return "&"
	case Delete:
		return "-"
	case Conflict:
		return "!"
	}
	return " "
}

// Target is one (region, project) the plan acts in.
type Target struct {
	Region    string `json:"region"`
	ProjectID string `json:"project_id"`
}

func (t Target) String() string { return t.Region + "/" + t.ProjectID }

// Input is everything Diff needs for one target.
type Input struct {
	Target   Target
	Desired  []*manifests.Endpoint
	Observed []otc.Endpoint
	// Services resolves the manifests' endpoint_service_id and
	// endpoint_service_name: keyed by id and by name as written.
	Services map[string]*otc.Service
	Quota    *otc.Quota // nil: unknown
}

// Shard selects a part of the endpoints: those whose FNV-1a hash of
// project_id/set/name modulo N is I. N = 0 or 1 means everything.
type Shard struct{ I, N int }

// Contains reports whether the endpoint belongs to the shard.
func (s Shard) Contains(projectID, set, name string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnv.New32a()
	h.Write([]byte(projectID + "/" + set + "/" + name))
	return int(h.Sum32()%uint32(s.N)) == s.I
}

// Options are the flags that allow actions.
type Options struct {
	Adopt        bool
	Prune        bool
	AllowReplace bool
	Shard        Shard
}

// Change is one line of the plan.
type Change struct {
	Action    Action                     `json:"action"`
	Set       string                     `json:"set"`
	Name      string                     `json:"name"`
	Region    string                     `json:"region"`
	ProjectID string                     `json:"project_id"`
	ID        string                     `json:"id"`
	Reason    string                     `json:"reason"`
	Desired   *otc.CreateEndpointRequest `json:"desired"`
	Current   *otc.Endpoint              `json:"current"`
}

// Target returns the change's target.
func (c *Change) Target() Target { return Target{c.Region, c.ProjectID} }

// Summary counts the changes by action.
type Summary struct {
	Create   int `json:"create"`
	Tag      int `json:"tag"`
	Replace  int `json:"replace"`
	Adopt    int `json:"adopt"`
	Delete   int `json:"delete"`
	Conflict int `json:"conflict"`
	Noop     int `json:"noop"`
}

// Count returns the count of action a.
func (s *Summary) Count(a Action) int { return *s.field(a) }

func (s *Summary) field(a Action) *int {
	switch a {
	case Create:
		return &s.Create
	case Tag:
		return &s.Tag
	case Replace:
		return &s.Replace
	case Adopt:
		return &s.Adopt
	case Delete:
		return &s.Delete
	case Conflict:
		return &s.Conflict
	}
	return &s.Noop
}

// Changes returns the number of changes apply would make (conflicts and
// noops excluded).
func (s Summary) Changes() int { return s.Create + s.Tag + s.Replace + s.Adopt + s.Delete }

// Plan is the result of Diff, and the plan file.
type Plan struct {
	FormatVersion string   `json:"format_version"`
	Fingerprint   string   `json:"fingerprint"`
	Targets       []Target `json:"targets"`
	Summary       Summary  `json:"summary"`
	Changes       []Change `json:"changes"`

	// Unpruned counts owned endpoints that --prune would delete.
	Unpruned int `json:"-"`
	// Warnings are printed with the plan (quota).
	Warnings []string `json:"-"`
}

// ErrStale says the endpoints changed since the plan was made.
var ErrStale = errors.New("plan is stale: the endpoints changed since it was made; run plan again")

// Diff makes the plan. Errors are manifest problems found once the service
// types are known (joined *manifests.Error values), or services that do not
// resolve.
func Diff(inputs []Input, opts Options) (*Plan, error) {
	p := &Plan{FormatVersion: FormatVersion, Changes: []Change{}}
	var errs []error
	in := slices.Clone(inputs)
	slices.SortFunc(in, func(a, b Input) int { return cmp.Compare(a.Target.String(), b.Target.String()) })
	for i := range in {
		p.Targets = append(p.Targets, in[i].Target)
		if err := diffTarget(p, &in[i], opts); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	p.Fingerprint = Fingerprint(inputs, opts.Shard)
	return p, nil
}

type key struct{ set, name string }

// statusRank orders duplicates: the one kept is accepted before others,
// then the oldest.
func statusRank(s string) int {
	switch s {
	case otc.StatusAccepted:
		return 0
	case otc.StatusPendingAcceptance:
		return 1
	case otc.StatusCreating:
		return 2
	case otc.StatusRejected:
		return 3
	}
	return 4
}

func older(a, b *otc.Endpoint) int {
	if r := cmp.Compare(statusRank(a.Status), statusRank(b.Status)); r != 0 {
		return r
	}
	if r := a.CreatedAt.Compare(b.CreatedAt.Time); r != 0 {
		return r
	}
	return cmp.Compare(a.ID, b.ID)
}

func diffTarget(p *Plan, in *Input, opts Options) error {
	t := in.Target
	declared := map[string]bool{}
	var desired []*manifests.Endpoint
	for _, d := range in.Desired {
		declared[d.Set] = true
		if opts.Shard.Contains(t.ProjectID, d.Set, d.Name) {
			desired = append(desired, d)
		}
	}
	sort.Slice(desired, func(i, j int) bool {
		if desired[i].Set != desired[j].Set {
			return desired[i].Set < desired[j].Set
		}
		return desired[i].Name < desired[j].Name
	})

	// Resolve services and run the type-dependent checks.
	var errs []error
	svcOf := make(map[*manifests.Endpoint]*otc.Service, len(desired))
	for _, d := range desired {
		s := in.Services[d.EndpointServiceID]
		ref := d.EndpointServiceID
		field := "endpoint_service_id"
		if ref == "" {
			s, ref, field = in.Services[d.EndpointServiceName], d.EndpointServiceName, "endpoint_service_name"
		}
		if s == nil {
			pos := d.FieldPos[field]
			if pos.File == "" {
				pos = d.Pos
			}
			errs = append(errs, &manifests.Error{Pos: pos, Msg: fmt.Sprintf("%s: no endpoint service %q in %s", field, ref, t)})
			continue
		}
		if err := d.CheckServiceType(s.ServiceType); err != nil {
			errs = append(errs, err)
			continue
		}
		svcOf[d] = s
	}
	if len(errs) > 0 {
		return errors.Join(errs...)
	}

	// Index what exists.
	owned := map[key][]*otc.Endpoint{}
	byNatural := map[string][]*otc.Endpoint{}
	for i := range in.Observed {
		e := &in.Observed[i]
		if e.Status == otc.StatusDeleting {
			continue
		}
		set, hasSet := e.TagValue(manifests.TagSet)
		name, _ := e.TagValue(manifests.TagName)
		if hasSet {
			if declared[set] && opts.Shard.Contains(t.ProjectID, set, name) {
				owned[key{set, name}] = append(owned[key{set, name}], e)
			}
			if !declared[set] {
				byNatural[naturalKey(e.EndpointServiceID, e.VPCID, e.SubnetID, e.ServiceType)] = append(byNatural[naturalKey(e.EndpointServiceID, e.VPCID, e.SubnetID, e.ServiceType)], e)
			}
			continue
		}
		nk := naturalKey(e.EndpointServiceID, e.VPCID, e.SubnetID, e.ServiceType)
		byNatural[nk] = append(byNatural[nk], e)
	}
	taken := map[string]bool{}
	add := func(c Change) {
		c.Region, c.ProjectID = t.Region, t.ProjectID
		(*p.Summary.field(c.Action))++
		if c.Action != Noop {
			p.Changes = append(p.Changes, c)
		}
	}
	creates := 0
	for _, d := range desired {
		s := svcOf[d]
		body := CreateBody(d, s)
		k := key{d.Set, d.Name}
		cands := owned[k]
		delete(owned, k)
		if len(cands) > 0 {
			slices.SortFunc(cands, older)
			keep := cands[0]
			for _, dup := range cands[1:] {
				if opts.Prune {
					add(Change{Action: Delete, Set: d.Set, Name: d.Name, ID: dup.ID, Reason: "duplicate of " + keep.ID, Current: dup})
				} else {
					p.Unpruned++
				}
			}
			add(compare(d, s, body, keep, opts))
			continue
		}
		nk := naturalKey(s.ID, d.VPCID, d.SubnetID, s.ServiceType)
		var match *otc.Endpoint
		for _, e := range byNatural[nk] {
			if !taken[e.ID] {
				match = e
				break
			}
		}
		switch {
		case match != nil:
			taken[match.ID] = true
			if other, ok := match.TagValue(manifests.TagSet); ok {
				add(Change{Action: Conflict, Set: d.Set, Name: d.Name, ID: match.ID, Desired: body, Current: match,
					Reason: fmt.Sprintf("endpoint %s with the same service and VPC is owned by set %q", match.ID, other)})
			} else if opts.Adopt {
				add(Change{Action: Adopt, Set: d.Set, Name: d.Name, ID: match.ID, Desired: body, Current: match,
					Reason: "unmanaged endpoint with the same service and VPC"})
			} else {
				add(Change{Action: Conflict, Set: d.Set, Name: d.Name, ID: match.ID, Desired: body, Current: match,
					Reason: fmt.Sprintf("unmanaged endpoint %s has the same service and VPC; --adopt takes it over", match.ID)})
			}
		default:
			creates++
			add(Change{Action: Create, Set: d.Set, Name: d.Name, Desired: body, Reason: "not found"})
		}
	}
	// What is left is owned by a declared set but no longer declared.
	rest := slices.SortedFunc(maps.Keys(owned), func(a, b key) int {
		return cmp.Or(cmp.Compare(a.set, b.set), cmp.Compare(a.name, b.name))
	})
	for _, k := range rest {
		for _, e := range owned[k] {
			if opts.Prune {
				add(Change{Action: Delete, Set: k.set, Name: k.name, ID: e.ID, Reason: "no longer declared", Current: e})
			} else {
				p.Unpruned++
			}
		}
	}
	if q := in.Quota; q != nil && q.Quota > 0 && creates > q.Quota-q.Used {
		fit := max(q.Quota-q.Used, 0)
		p.Warnings = append(p.Warnings, fmt.Sprintf("%s: %d endpoints to create but only %d fit in the quota (%d of %d used); the rest will fail with Endpoint.1018",
			t, creates, fit, q.Used, q.Quota))
	}
	return nil
}

func naturalKey(serviceID, vpcID, subnetID, serviceType string) string {
	if serviceType == otc.ServiceInterface {
		return serviceID + "/" + vpcID + "/" + subnetID
	}
	return serviceID + "/" + vpcID
}

// compare decides noop, tag, replace or conflict for an owned endpoint.
func compare(d *manifests.Endpoint, s *otc.Service, body *otc.CreateEndpointRequest, cur *otc.Endpoint, opts Options) Change {
	c := Change{Set: d.Set, Name: d.Name, ID: cur.ID, Desired: body, Current: cur}
	switch cur.Status {
	case otc.StatusFailed:
		c.Action, c.Reason = Replace, "status failed"
		if len(cur.Error) > 0 {
			c.Reason += " (" + cur.Error[0].ErrorCode + ")"
		}
		return c
	case otc.StatusRejected:
		c.Action, c.Reason = Conflict, "rejected by the endpoint service; delete it or ask the service owner to accept it"
		return c
	}
	if diffs := FieldDiffs(d, s, cur); len(diffs) > 0 {
		c.Reason = strings.Join(diffs, "; ")
		if opts.AllowReplace {
			c.Action = Replace
		} else {
			c.Action, c.Reason = Conflict, c.Reason+"; --allow-replace replaces it"
		}
		return c
	}
	if add, del := TagDiff(body.Tags, cur.Tags); len(add)+len(del) > 0 {
		c.Action, c.Reason = Tag, tagReason(add, del)
		return c
	}
	c.Action = Noop
	return c
}

func tagReason(add []otc.Tag, del []string) string {
	var parts []string
	for _, t := range add {
		parts = append(parts, "+"+t.Key+"="+t.Value)
	}
	for _, k := range del {
		parts = append(parts, "-"+k)
	}
	return "tags " + strings.Join(parts, " ")
}

// CreateBody is the API create body for a desired endpoint of service s:
// only the fields the service type uses, user tags sorted, then ours.
func CreateBody(d *manifests.Endpoint, s *otc.Service) *otc.CreateEndpointRequest {
	b := &otc.CreateEndpointRequest{
		EndpointServiceID: s.ID,
		VPCID:             d.VPCID,
		Description:       d.Description,
		SpecificationName: d.SpecificationName,
	}
	if s.ServiceType == otc.ServiceGateway {
		b.RouteTables = d.RouteTables
		for _, ps := range d.PolicyStatement {
			b.PolicyStatement = append(b.PolicyStatement, otc.PolicyStatement{Effect: ps.Effect, Action: ps.Action, Resource: ps.Resource})
		}
	} else {
		b.SubnetID, b.PortIP, b.EnableDNS = d.SubnetID, d.PortIP, d.EnableDNS
		b.Whitelist, b.EnableWhitelist = d.Whitelist, d.EnableWhitelist
	}
	for _, k := range slices.Sorted(maps.Keys(d.Tags)) {
		b.Tags = append(b.Tags, otc.Tag{Key: k, Value: d.Tags[k]})
	}
	b.Tags = append(b.Tags, otc.Tag{Key: manifests.TagSet, Value: d.Set}, otc.Tag{Key: manifests.TagName, Value: d.Name})
	return b
}

// FieldDiffs lists the immutable fields in which cur differs from d, each
// as "field: current -> desired". Only fields that d sets and the service
// type uses are compared.
func FieldDiffs(d *manifests.Endpoint, s *otc.Service, cur *otc.Endpoint) []string {
	var out []string
	diff := func(field, have, want string) {
		if have != want {
			out = append(out, fmt.Sprintf("%s: %s -> %s", field, quote(have), quote(want)))
		}
	}
	diff("endpoint_service_id", cur.EndpointServiceID, s.ID)
	diff("vpc_id", cur.VPCID, d.VPCID)
	if s.ServiceType == otc.ServiceGateway {
		if d.RouteTables != nil {
			diff("routetables", setString(cur.RouteTables), setString(d.RouteTables))
		}
		if d.PolicyStatement != nil {
			var want []otc.PolicyStatement
			for _, ps := range d.PolicyStatement {
				want = append(want, otc.PolicyStatement{Effect: ps.Effect, Action: ps.Action, Resource: ps.Resource})
			}
			diff("policy_statement", policyString(cur.PolicyStatement), policyString(want))
		}
	} else {
		diff("subnet_id", cur.SubnetID, d.SubnetID)
		if d.PortIP != "" {
			diff("port_ip", cur.IP, d.PortIP)
		}
		if d.EnableDNS != nil {
			diff("enable_dns", fmt.Sprint(bool(cur.EnableDNS)), fmt.Sprint(*d.EnableDNS))
		}
		if d.Whitelist != nil {
			diff("whitelist", setString(cur.Whitelist), setString(d.Whitelist))
		}
		if d.EnableWhitelist != nil {
			diff("enable_whitelist", fmt.Sprint(bool(cur.EnableWhitelist)), fmt.Sprint(*d.EnableWhitelist))
		}
	}
	if d.Description != "" {
		diff("description", cur.Description, d.Description)
	}
	if d.SpecificationName != "" && cur.SpecificationName != "" {
		diff("specification_name", cur.SpecificationName, d.SpecificationName)
	}
	return out
}

func quote(s string) string {
	if s == "" {
		return `""`
	}
	if strings.ContainsAny(s, " \t\"") {
		return fmt.Sprintf("%q", s)
	}
	return s
}

func setString(ss []string) string {
	c := slices.Clone(ss)
	slices.Sort(c)
	return "[" + strings.Join(c, ",") + "]"
}

func policyString(ps []otc.PolicyStatement) string {
	var parts []string
	for _, p := range ps {
		parts = append(parts, p.Effect+":"+setString(p.Action)+":"+setString(p.Resource))
	}
	slices.Sort(parts)
	return strings.Join(parts, " ")
}

// IsOwnTag reports whether a tag key is one of vpcepctl's own.
func IsOwnTag(k string) bool { return strings.HasPrefix(k, "vpcepctl-") }

// TagDiff returns the tags to add or update and the keys to remove so that
// the endpoint's tags become want (our own tags included).
func TagDiff(want, have []otc.Tag) (add []otc.Tag, del []string) {
	h := make(map[string]string, len(have))
	for _, t := range have {
		h[t.Key] = t.Value
	}
	w := make(map[string]bool, len(want))
	for _, t := range want {
		w[t.Key] = true
		if v, ok := h[t.Key]; !ok || v != t.Value {
			add = append(add, t)
		}
	}
	for _, t := range have {
		if !w[t.Key] {
			del = append(del, t.Key)
		}
	}
	slices.Sort(del)
	return add, del
}

// Fingerprint hashes what the plan's decisions depend on: for every
// endpoint in the shard, its id, tags, natural key fields and whether its
// status is usable, failed, rejected or deleting. A status moving from
// creating to accepted does not make a plan stale.
func Fingerprint(inputs []Input, shard Shard) string {
	var lines []string
	for _, in := range inputs {
		for i := range in.Observed {
			e := &in.Observed[i]
			set, ok := e.TagValue(manifests.TagSet)
			name, _ := e.TagValue(manifests.TagName)
			if ok && !shard.Contains(in.Target.ProjectID, set, name) {
				continue
			}
			tags := make([]string, 0, len(e.Tags))
			for _, t := range e.Tags {
				tags = append(tags, t.Key+"="+t.Value)
			}
			slices.Sort(tags)
			lines = append(lines, strings.Join([]string{in.Target.String(), e.ID, statusClass(e.Status),
				e.EndpointServiceID, e.VPCID, e.SubnetID, strings.Join(tags, ",")}, "|"))
		}
	}
	slices.Sort(lines)
	h := sha256.New()
	for _, l := range lines {
		h.Write([]byte(l + "\n"))
	}
	return "sha256:" + hex.EncodeToString(h.Sum(nil))
}

func statusClass(s string) string {
	switch s {
	case otc.StatusFailed, otc.StatusRejected, otc.StatusDeleting:
		return s
	}
	return "ok"
}
