package manifests

import (
	"cmp"
	"errors"
	"fmt"
	"net/netip"
	"strings"
)

// The syntax checks are hand-written byte loops: they run for every field
// of every endpoint, and a 100,000-endpoint manifest must load in seconds.

// validSet reports whether s is a set name: [A-Za-z0-9_-]{1,36}.
func validSet(s string) bool { return validIdent(s, 36) }

// validName reports whether s is an endpoint name: [A-Za-z0-9_-]{1,43}.
func validName(s string) bool { return validIdent(s, 43) }

func validIdent(s string, max int) bool {
	if len(s) == 0 || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' {
			return false
		}
	}
	return true
}

func isAlnum(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9'
}

func isHex(c byte) bool { return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' }

// validUUID reports whether s is a lower-case UUID, 8-4-4-4-12 hex digits.
func validUUID(s string) bool {
	if len(s) != 36 {
		return false
	}
	for i := 0; i < len(s); i++ {
		switch i {
		case 8, 13, 18, 23:
			if s[i] != '-' {
				return false
			}
		default:
			if !isHex(s[i]) {
				return false
			}
		}
	}
	return true
}

// validProjectID reports whether s is an OTC project id: 32 lower-case hex
// digits, no dashes.
func validProjectID(s string) bool {
	if len(s) != 32 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isHex(s[i]) {
			return false
		}
	}
	return true
}

// validRegion reports whether s can be the region label of the API host
// name vpcep.{region}.otc.t-systems.com: lower-case letters, digits and
// inner dashes.
func validRegion(s string) bool {
	if len(s) == 0 || len(s) > 63 || s[0] == '-' || s[len(s)-1] == '-' {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !('a' <= c && c <= 'z' || '0' <= c && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// validIPv4 reports whether s is a dotted-quad IPv4 address.
func validIPv4(s string) bool {
	a, err := netip.ParseAddr(s)
	return err == nil && a.Is4()
}

// validCIDR reports whether s is an IPv4 address or an IPv4 CIDR block.
func validCIDR(s string) bool {
	if !strings.Contains(s, "/") {
		return validIPv4(s)
	}
	p, err := netip.ParsePrefix(s)
	return err == nil && p.Addr().Is4()
}

// validTag reports whether s has min to max characters of [A-Za-z0-9_@-].
func validTag(s string, min, max int) bool {
	if len(s) < min || len(s) > max {
		return false
	}
	for i := 0; i < len(s); i++ {
		if c := s[i]; !isAlnum(c) && c != '_' && c != '-' && c != '@' {
			return false
		}
	}
	return true
}

// CheckServiceType runs the checks that need the type of the endpoint
// service, "interface" or "gateway" (in any case), as the API reports it.
// It returns nil or the joined *Error problems, each at the key that set
// the offending field (FieldPos, which may be in defaults) or at the
// endpoint for a missing field.
//
// An interface endpoint needs subnet_id and takes no routetables or
// policy_statement; a gateway endpoint takes no subnet_id, port_ip,
// whitelist or enable_whitelist. enable_dns is accepted for both (the API
// ignores it for gateways).
func (e *Endpoint) CheckServiceType(serviceType string) error {
	var errs []*Error
	notFor := func(key, kind string, present bool) {
		if !present {
			return
		}
		errs = append(errs, &Error{e.fieldPos(key), fmt.Sprintf(
			"%s: not allowed for %s endpoint service, remove it (endpoint %q)", key, kind, e.Name)})
	}
	switch {
	case strings.EqualFold(serviceType, "interface"):
		if e.SubnetID == "" {
			errs = append(errs, &Error{e.Pos, fmt.Sprintf(
				"missing subnet_id, want the id of a subnet of the VPC (a UUID): endpoint %q uses an interface endpoint service", e.Name)})
		}
		notFor("routetables", "an interface", e.RouteTables != nil)
		notFor("policy_statement", "an interface", e.PolicyStatement != nil)
	case strings.EqualFold(serviceType, "gateway"):
		notFor("subnet_id", "a gateway", e.SubnetID != "")
		notFor("port_ip", "a gateway", e.PortIP != "")
		notFor("whitelist", "a gateway", e.Whitelist != nil)
		notFor("enable_whitelist", "a gateway", e.EnableWhitelist != nil)
	default:
		errs = append(errs, &Error{e.Pos, fmt.Sprintf(
			"endpoint %q: unknown endpoint service type %q, want interface or gateway", e.Name, serviceType)})
	}
	if len(errs) == 0 {
		return nil
	}
	return joinErrors(errs)
}

// fieldPos returns where key was set, or the endpoint's position.
func (e *Endpoint) fieldPos(key string) Pos {
	if p, ok := e.FieldPos[key]; ok {
		return p
	}
	return e.Pos
}

// target is where a set lives: one set may be declared once per region
// and project.
type target struct{ region, projectID, set string }

// setIndex holds the sets seen so far: where each was declared for a target,
// and the first spelling of each name, by its lower-case form.
type setIndex struct {
	targets map[target]Pos
	names   map[string]spelling
}

type spelling struct {
	name string
	pos  Pos
}

func newSetIndex() *setIndex {
	return &setIndex{targets: map[target]Pos{}, names: map[string]spelling{}}
}

// CheckSets reports every set declared more than once for the same target
// (region and project), reading an empty region or project id in a manifest
// as region and projectID, and every set name that differs from another
// only in case. Load already checks the targets as written; call CheckSets
// again once the defaults from the credentials are known, so that a
// document without region and one with the default region written out are
// seen to collide.
func CheckSets(ms []*Manifest, region, projectID string) error {
	if errs := checkSets(ms, newSetIndex(), region, projectID); len(errs) > 0 {
		list := make([]error, len(errs))
		for i, e := range errs {
			list[i] = e
		}
		return errors.Join(list...)
	}
	return nil
}

// checkSets checks ms against the sets in seen, adding theirs.
//
// Names that differ only in case (payments, Payments) are refused in any
// target, not only in one: a set is one name across targets (declared
// once in each), and its tag, --set, the metrics' set label and the
// people reading them take the two spellings for one set while vpcepctl
// would keep them apart.
func checkSets(ms []*Manifest, seen *setIndex, region, projectID string) []*Error {
	var errs []*Error
	for _, m := range ms {
		if m == nil || m.Set == "" {
			continue
		}
		pos, ok := m.FieldPos["set"]
		if !ok {
			pos = m.Pos
		}
		lower := strings.ToLower(m.Set)
		if first, ok := seen.names[lower]; !ok {
			seen.names[lower] = spelling{m.Set, pos}
		} else if first.name != m.Set {
			errs = append(errs, &Error{pos, fmt.Sprintf(
				"set %q differs only in case from set %q at %s, want one spelling for one set, or names that differ in more than case",
				m.Set, first.name, first.pos)})
			continue
		}
		t := target{cmp.Or(m.Region, region), cmp.Or(m.ProjectID, projectID), m.Set}
		if first, dup := seen.targets[t]; dup {
			errs = append(errs, &Error{pos, fmt.Sprintf(
				"set %q is already declared for %s at %s, want each set declared once per region and project",
				m.Set, t.describe(), first)})
			continue
		}
		seen.targets[t] = pos
	}
	return errs
}

func (t target) describe() string {
	r, p := "the default region", "the default project"
	if t.region != "" {
		r = "region " + t.region
	}
	if t.projectID != "" {
		p = "project " + t.projectID
	}
	return r + " and " + p
}
