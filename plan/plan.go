package plan

import (
	"errors"
	"fmt"
	"slices"
	"strconv"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// FormatVersion is the version of the plan JSON document.
const FormatVersion = "1"

// Action is what the plan does with one endpoint.
type Action string

// The actions of DESIGN.md's table.
const (
	Create   Action = "create"
	Noop     Action = "noop"
	Tag      Action = "tag"
	Replace  Action = "replace"
	Adopt    Action = "adopt"
	Approve  Action = "approve"
	Delete   Action = "delete"
	Conflict Action = "conflict"
)

// Actions lists every action in the order of the summary line (metrics
// initialise their labels from it).
var Actions = []Action{Create, Tag, Replace, Adopt, Approve, Delete, Conflict, Noop}

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
	case Approve:
		return "^"
	case Delete:
		return "-"
	case Conflict:
		return "!"
	}
	return " "
}

// rank orders the changes of one endpoint name: a duplicate's delete
// before the change to the endpoint that is kept.
func (a Action) rank() int {
	switch a {
	case Delete:
		return 0
	case Create:
		return 1
	case Adopt:
		return 2
	case Tag:
		return 3
	case Approve:
		return 4
	case Replace:
		return 5
	case Conflict:
		return 6
	}
	return 7
}

func (a Action) valid() bool {
	switch a {
	case Create, Tag, Replace, Adopt, Approve, Delete, Conflict, Noop:
		return true
	}
	return false
}

// Target is one (region, project) the plan acts in.
type Target struct {
	Region    string `json:"region"`
	ProjectID string `json:"project_id"`
}

func (t Target) String() string { return t.Region + "/" + t.ProjectID }

func compareTargets(a, b Target) int {
	if a.Region != b.Region {
		if a.Region < b.Region {
			return -1
		}
		return 1
	}
	switch {
	case a.ProjectID < b.ProjectID:
		return -1
	case a.ProjectID > b.ProjectID:
		return 1
	}
	return 0
}

// Input is everything Diff needs for one target. Inputs with the same
// Target are merged.
type Input struct {
	Target Target
	// Desired are the endpoints the manifests declare for the target.
	Desired []*manifests.Endpoint
	// Sets are the sets the manifests declare for the target, in addition
	// to those of Desired: a set declared with "endpoints: []" owns its
	// endpoints (and --prune deletes them) although it declares none.
	Sets []string
	// Observed are the endpoints the list call returned. An endpoint
	// listed twice (pages shifting under a concurrent create) counts once.
	Observed []vpcep.Endpoint
	// Services resolves the manifests' endpoint_service_id and
	// endpoint_service_name: keyed by id and by name as written.
	Services map[string]*vpcep.Service
	Quota    *vpcep.Quota // nil: unknown
	// OwnedServices tells, by service id (lower case), whether the
	// target's project owns the service (the provider side). It is asked
	// for the services of owned endpoints awaiting approval; a service
	// missing here is taken as another project's.
	OwnedServices map[string]bool
}

// Shard selects a part of the endpoints: those whose FNV-1a hash of
// project_id/set/name modulo N is I. N = 0 or 1 means everything.
type Shard struct{ I, N int }

// FNV-1a, 32 bit (hash/fnv), inlined so that Contains does not allocate.
const (
	fnvOffset32 = 2166136261
	fnvPrime32  = 16777619
)

func fnvString(h uint32, s string) uint32 {
	for i := 0; i < len(s); i++ {
		h ^= uint32(s[i])
		h *= fnvPrime32
	}
	return h
}

// Contains reports whether the endpoint belongs to the shard.
func (s Shard) Contains(projectID, set, name string) bool {
	if s.N <= 1 {
		return true
	}
	h := fnvString(fnvOffset32, projectID)
	h = fnvString(h, "/")
	h = fnvString(h, set)
	h = fnvString(h, "/")
	h = fnvString(h, name)
	return int(h%uint32(s.N)) == s.I
}

// flag returns "I/N", or "" for no sharding (the scope of a plan).
func (s Shard) flag() string {
	if s.N <= 1 {
		return ""
	}
	return s.String()
}

// String returns "I/N", or "all" for no sharding.
func (s Shard) String() string {
	if s.N <= 1 {
		return "all"
	}
	return strconv.Itoa(s.I) + "/" + strconv.Itoa(s.N)
}

// ParseShard reads a shard written "I/N" (0 <= I < N).
func ParseShard(s string) (Shard, error) {
	var i, n int
	if _, err := fmt.Sscanf(s, "%d/%d", &i, &n); err != nil || n < 1 || i < 0 || i >= n || fmt.Sprintf("%d/%d", i, n) != s {
		return Shard{}, fmt.Errorf("shard %q: want I/N with 0 <= I < N", s)
	}
	return Shard{I: i, N: n}, nil
}

func (s Shard) check() error {
	if s.N < 0 || (s.N > 1 && (s.I < 0 || s.I >= s.N)) {
		return fmt.Errorf("shard %d/%d: want 0 <= I < N", s.I, s.N)
	}
	return nil
}

// Options are the flags that allow actions.
type Options struct {
	Adopt        bool
	Prune        bool
	AllowReplace bool
	// Approve accepts the connections of owned endpoints awaiting the
	// approval of a service the same project owns.
	Approve bool
	Shard   Shard
	// Sets and Names narrow the plan (--set, --name): when either is
	// given, only the endpoints of the sets in Sets and those named
	// "set/name" in Names are acted on (prune and adopt included); the
	// others are still matched, so that nothing outside is mistaken for
	// free.
	Sets  []string
	Names []string
	// Destroy plans the delete of every endpoint the declared sets own (in
	// the shard and taken in by Sets and Names) and nothing else: no
	// create, tag, adopt or approve, and never an endpoint of another set
	// or an unmanaged one (vpcepctl destroy).
	Destroy bool
}

// Selects reports whether the targeting flags take in the endpoint set/name
// (name "" for an endpoint of set that lost its name tag: only --set takes
// it in).
func (o Options) Selects(set, name string) bool {
	if len(o.Sets) == 0 && len(o.Names) == 0 {
		return true
	}
	return slices.Contains(o.Sets, set) || name != "" && slices.Contains(o.Names, set+"/"+name)
}

// Change is one line of the plan.
type Change struct {
	Action    Action                       `json:"action"`
	Set       string                       `json:"set"`
	Name      string                       `json:"name"`
	Region    string                       `json:"region"`
	ProjectID string                       `json:"project_id"`
	ID        string                       `json:"id"`
	Reason    string                       `json:"reason"`
	Desired   *vpcep.CreateEndpointRequest `json:"desired"`
	Current   *vpcep.Endpoint              `json:"current"`
	// KeptID is, on the delete of a duplicate, the endpoint kept for the
	// name (the keeper rule of DESIGN.md "Ownership").
	KeptID string `json:"kept_id,omitempty"`
}

// Target returns the change's target.
func (c *Change) Target() Target { return Target{c.Region, c.ProjectID} }

// Summary counts the plan's endpoints by action.
type Summary struct {
	Create   int `json:"create"`
	Tag      int `json:"tag"`
	Replace  int `json:"replace"`
	Adopt    int `json:"adopt"`
	Approve  int `json:"approve"`
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
	case Approve:
		return &s.Approve
	case Delete:
		return &s.Delete
	case Conflict:
		return &s.Conflict
	}
	return &s.Noop
}

// Changes returns the number of changes apply would make (conflicts and
// noops excluded).
func (s Summary) Changes() int { return s.Create + s.Tag + s.Replace + s.Adopt + s.Approve + s.Delete }

// Differs reports whether declared and live differ (plan
// --detailed-exitcode exits 2): changes to make (duplicates to delete
// among them), conflicts, or owned endpoints no longer declared that only
// --prune deletes.
func (p *Plan) Differs() bool { return p.Summary.Changes()+p.Summary.Conflict+p.Unpruned > 0 }

// Plan is the result of Diff, and the plan file.
//
// Changes holds every action but noop, sorted by target, set and name:
// unchanged endpoints are only counted (Summary.Noop), as the text plan
// shows them, so that a plan file of 100,000 endpoints holds what apply
// does rather than 100,000 copies of what exists.
type Plan struct {
	FormatVersion string   `json:"format_version"`
	Fingerprint   string   `json:"fingerprint"`
	Targets       []Target `json:"targets"`
	Summary       Summary  `json:"summary"`
	Changes       []Change `json:"changes"`
	// Scope is what the plan was made for: the flags that shaped it, and
	// per target what its fingerprint covers (see scope.go).
	Scope Scope `json:"scope"`
	// Observed are the endpoints the fingerprint covers, each with a digest
	// of what the plan depends on, so that a stale plan file can name what
	// changed.
	Observed []Digest `json:"observed"`

	// Unpruned counts owned endpoints that --prune would delete (no longer
	// declared); the text says so under the plan. It is in the document
	// (when not 0) so that show prints a plan file as plan printed it.
	Unpruned int `json:"unpruned,omitempty"`
	// AwaitingApproval counts the unchanged endpoints in status
	// pendingAcceptance: in place, but the service owner has not approved
	// them (the text says so under the plan; in the document as Unpruned).
	AwaitingApproval int `json:"awaiting_approval,omitempty"`
	// Duplicates counts the endpoints planned for deletion as duplicates
	// of a name (metrics).
	Duplicates int `json:"-"`
	// Warnings are printed with the plan (quota).
	Warnings []string `json:"-"`

	// named are, per target and by id, the endpoints of a set without a
	// name tag that the plan matched to a declared name (and tags again):
	// status shows each as that name's endpoint. Not in a plan file.
	named map[Target]map[string]owner
}

// ErrStale says the endpoints changed since the plan was made (or its
// file was edited). CheckFresh wraps it in the error that says what
// changed.
var ErrStale = errors.New("plan is stale")
