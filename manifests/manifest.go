package manifests

import "strconv"

// Ownership tags. Every endpoint vpcepctl creates carries TagSet=<set> and
// TagName=<name>; user tags may not use ReservedPrefix.
const (
	TagSet         = "vpcepctl-set"
	TagName        = "vpcepctl-name"
	ReservedPrefix = "vpcepctl-"
)

// Limits of the manifest format (from the VPCEP create API).
const (
	MaxUserTags        = 18 // the API allows 20 tags; TagSet and TagName are ours
	MaxWhitelist       = 20
	MaxPolicyStatement = 10
	MaxDescription     = 128
)

// Pos is a position in a manifest file (1-based line and column).
type Pos struct {
	File      string
	Line, Col int
}

// String returns "FILE:LINE:COL", or "LINE:COL" when File is empty.
func (p Pos) String() string {
	s := strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col)
	if p.File == "" {
		return s
	}
	return p.File + ":" + s
}

// Error is one problem in a manifest. Load and Parse join every problem
// they find with errors.Join; use errors.As or the Unwrap() []error method
// of the joined error to get at each *Error.
type Error struct {
	Pos
	Msg string
}

// Error returns "FILE:LINE:COL: message".
func (e *Error) Error() string { return e.Pos.String() + ": " + e.Msg }

// PolicyStatement is one entry of a gateway endpoint's policy_statement.
// The manifest spells its keys as the API does: Effect, Action, Resource.
type PolicyStatement struct {
	Effect   string
	Action   []string
	Resource []string
}

// Endpoint is one desired endpoint, defaults already merged in.
//
// Slices may be shared with other endpoints of the same document (values
// that came from defaults): treat them as read-only. Tags and FieldPos are
// the endpoint's own.
type Endpoint struct {
	Set, Name         string // from the document
	Region, ProjectID string // from the document; "" = default from credentials

	// Exactly one is set. An endpoint that names either one replaces
	// both of defaults: the service is one choice, not two fields.
	EndpointServiceID, EndpointServiceName string

	VPCID, SubnetID, PortIP string
	EnableDNS               *bool             // nil = not set
	Whitelist               []string          // nil = not set
	EnableWhitelist         *bool             // nil = not set
	RouteTables             []string          // nil = not set
	PolicyStatement         []PolicyStatement // nil = not set
	Description             string
	SpecificationName       string
	Tags                    map[string]string // user tags (defaults merged, endpoint wins); never nil

	// Pos is the position of the endpoint's mapping in the endpoints list.
	Pos Pos
	// FieldPos maps a YAML key (vpc_id, tags, ...) to the position of the
	// key that set the effective value, in the endpoint or in defaults.
	FieldPos map[string]Pos
}

// Manifest is one YAML document.
type Manifest struct {
	Pos       Pos // of the document's mapping
	Version   int
	Set       string
	Region    string // "" = default from credentials
	ProjectID string // "" = default from credentials
	Endpoints []*Endpoint
	// FieldPos maps a top-level key (version, set, region, project_id,
	// defaults, endpoints) to the position of that key.
	FieldPos map[string]Pos
}

// Count returns the number of endpoints in ms.
func Count(ms []*Manifest) int {
	n := 0
	for _, m := range ms {
		n += len(m.Endpoints)
	}
	return n
}
