package manifests

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// field is an endpoint key; the same keys are valid in defaults, except name.
type field uint8

const (
	fName field = iota
	fServiceID
	fServiceName
	fVPCID
	fSubnetID
	fPortIP
	fEnableDNS
	fWhitelist
	fEnableWhitelist
	fRouteTables
	fPolicyStatement
	fDescription
	fSpecificationName
	fTags
	numFields
)

var fieldKeys = [numFields]string{
	"name",
	"endpoint_service_id",
	"endpoint_service_name",
	"vpc_id",
	"subnet_id",
	"port_ip",
	"enable_dns",
	"whitelist",
	"enable_whitelist",
	"routetables",
	"policy_statement",
	"description",
	"specification_name",
	"tags",
}

func lookupField(key string) (field, bool) {
	for i, k := range fieldKeys {
		if k == key {
			return field(i), true
		}
	}
	return 0, false
}

// fieldSet records which keys a mapping set, and where.
type fieldSet struct {
	mask  uint16
	hints uint16 // fields suggested for an unknown key: not reported missing too
	nulls uint16 // optional fields set to null: not set, and not taken from defaults
	pos   [numFields]Pos
}

func (s *fieldSet) hinted(f field) bool { return s.hints&(1<<f) != 0 }

// given reports whether f was set to a value (not null).
func (s *fieldSet) given(f field) bool { return s.has(f) && s.nulls&(1<<f) == 0 }

// optional reports whether f may be null: name, the service and vpc_id
// may not, the others may, to say "not set" (and so override defaults).
func optional(f field) bool { return f > fVPCID }

func isNull(n *yaml.Node) bool { return n.Kind == yaml.ScalarNode && n.Tag == "!!null" }

func (s *fieldSet) has(f field) bool { return s.mask&(1<<f) != 0 }

func (s *fieldSet) set(f field, p Pos) {
	s.mask |= 1 << f
	s.pos[f] = p
}

// defaults is the decoded defaults mapping of a document.
type defaults struct {
	e      Endpoint
	fs     fieldSet
	broken bool // not a mapping: endpoints are not told what they lack
}

const (
	wantUUID      = "a lower-case UUID such as 84758cf5-9c62-43ae-a778-3dbd8370c0a4"
	wantIPv4      = "an IPv4 address such as 10.0.0.10"
	wantCIDR      = "an IPv4 address or CIDR block such as 10.0.0.0/16"
	wantTagKey    = `a tag key of 1 to 36 letters, digits, "_", "@" or "-"`
	wantTagValue  = `a tag value of 0 to 43 letters, digits, "_", "@" or "-"`
	wantServiceNm = "an endpoint service name such as com.t-systems.otc.eu-de.obs"
)

func (p *parser) defaults(n *yaml.Node) *defaults {
	n = p.deref(n)
	d := &defaults{}
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "defaults: want a mapping of endpoint fields, got %s", describe(n))
		d.broken = true
		return d
	}
	p.fields(n, ctxDefaults, &d.e, &d.fs)
	if len(d.e.Tags) > MaxUserTags {
		p.errAt(d.fs.pos[fTags].Line, d.fs.pos[fTags].Col, fmt.Sprintf(
			"defaults.tags: %d tags, want at most %d (the API allows 20 per endpoint, 2 are vpcepctl's)", len(d.e.Tags), MaxUserTags))
	}
	return d
}

// endpoint decodes one endpoint and merges d into it.
func (p *parser) endpoint(n *yaml.Node, m *Manifest, d *defaults) *Endpoint {
	e := &Endpoint{Set: m.Set, Region: m.Region, ProjectID: m.ProjectID, Pos: p.pos(n)}
	var fs fieldSet
	p.fields(n, ctxEndpoint, e, &fs)
	if !fs.has(fName) && !fs.hinted(fName) {
		p.errorf(n, "missing name, want %s, unique in the set", wantName)
	}

	// Merge defaults: a field the endpoint does not set comes from defaults,
	// with its position there. The service is one choice: naming either
	// endpoint_service_id or endpoint_service_name replaces both.
	var from fieldSet // fields set by defaults
	if d != nil {
		for f := field(0); f < numFields; f++ {
			if fs.has(f) || !d.fs.given(f) || f == fTags {
				continue
			}
			if (f == fServiceID || f == fServiceName) && (fs.has(fServiceID) || fs.has(fServiceName)) {
				continue
			}
			e.copyField(f, &d.e)
			from.set(f, d.fs.pos[f])
		}
	}
	own := len(e.Tags) // tags the endpoint wrote itself
	if d != nil && len(d.e.Tags) > 0 {
		if e.Tags == nil {
			e.Tags = make(map[string]string, len(d.e.Tags))
		}
		for k, v := range d.e.Tags {
			if _, ok := e.Tags[k]; !ok {
				e.Tags[k] = v
			}
		}
		if !fs.given(fTags) {
			from.set(fTags, d.fs.pos[fTags])
		}
	}
	if e.Tags == nil {
		e.Tags = map[string]string{}
	}

	e.FieldPos = make(map[string]Pos, countBits(fs.mask|from.mask))
	for f := field(0); f < numFields; f++ {
		switch {
		case fs.given(f):
			e.FieldPos[fieldKeys[f]] = fs.pos[f]
		case from.has(f):
			e.FieldPos[fieldKeys[f]] = from.pos[f]
		}
	}

	// Checks on the merged endpoint. A problem caused by a value from
	// defaults is reported at the endpoint, which is what lacks something.
	has := func(f field) bool { return fs.given(f) || from.has(f) || d != nil && d.broken }
	if !has(fVPCID) && !fs.hinted(fVPCID) {
		p.errorf(n, "missing vpc_id, want the id of the VPC (a UUID), here or in defaults")
	}
	if !has(fServiceID) && !has(fServiceName) && !fs.hinted(fServiceID) && !fs.hinted(fServiceName) {
		p.errorf(n, "missing endpoint_service_id or endpoint_service_name, want exactly one, here or in defaults")
	}
	if e.EnableWhitelist != nil && *e.EnableWhitelist && len(e.Whitelist) == 0 && !(has(fWhitelist) && e.Whitelist == nil) {
		what := "no whitelist"
		if e.Whitelist != nil {
			what = "an empty whitelist"
		}
		if fs.has(fEnableWhitelist) {
			pos := fs.pos[fEnableWhitelist]
			p.errAt(pos.Line, pos.Col, fmt.Sprintf("enable_whitelist is true but the endpoint has %s, want whitelist entries or enable_whitelist: false", what))
		} else {
			p.errorf(n, "enable_whitelist is true (from defaults at %s) but the endpoint has %s, want whitelist entries or enable_whitelist: false",
				lineCol(from.pos[fEnableWhitelist]), what)
		}
	}
	switch pos := fs.pos[fTags]; {
	case own > MaxUserTags:
		p.errAt(pos.Line, pos.Col, fmt.Sprintf(
			"tags: %d tags, want at most %d (the API allows 20 per endpoint, 2 are vpcepctl's)", own, MaxUserTags))
	case d != nil && len(d.e.Tags) > MaxUserTags:
		// reported at defaults
	case len(e.Tags) > MaxUserTags:
		p.errAt(pos.Line, pos.Col, fmt.Sprintf(
			"tags: %d tags with those from defaults, want at most %d (the API allows 20 per endpoint, 2 are vpcepctl's)", len(e.Tags), MaxUserTags))
	}
	return e
}

func countBits(m uint16) int {
	n := 0
	for ; m != 0; m &= m - 1 {
		n++
	}
	return n
}

// copyField copies field f from d. Slices are shared, booleans copied.
func (e *Endpoint) copyField(f field, d *Endpoint) {
	switch f {
	case fServiceID:
		e.EndpointServiceID = d.EndpointServiceID
	case fServiceName:
		e.EndpointServiceName = d.EndpointServiceName
	case fVPCID:
		e.VPCID = d.VPCID
	case fSubnetID:
		e.SubnetID = d.SubnetID
	case fPortIP:
		e.PortIP = d.PortIP
	case fEnableDNS:
		e.EnableDNS = copyBool(d.EnableDNS)
	case fWhitelist:
		e.Whitelist = d.Whitelist
	case fEnableWhitelist:
		e.EnableWhitelist = copyBool(d.EnableWhitelist)
	case fRouteTables:
		e.RouteTables = d.RouteTables
	case fPolicyStatement:
		e.PolicyStatement = d.PolicyStatement
	case fDescription:
		e.Description = d.Description
	case fSpecificationName:
		e.SpecificationName = d.SpecificationName
	}
}

func copyBool(b *bool) *bool {
	if b == nil {
		return nil
	}
	c := *b
	return &c
}

// fields decodes the endpoint keys of mapping n (an endpoint or defaults)
// into e and records in fs which keys were present, valid or not, so that
// an invalid value neither falls back to defaults nor counts as missing.
func (p *parser) fields(n *yaml.Node, c scope, e *Endpoint, fs *fieldSet) {
	prefix := ""
	if c == ctxDefaults {
		prefix = "defaults."
	}
	p.eachPair(n, func(k, v *yaml.Node, merged bool) {
		key, ok := p.key(k)
		if !ok {
			return
		}
		f, ok := lookupField(key)
		if !ok || (f == fName && c == ctxDefaults) {
			if hint, ok := lookupField(p.unknownKey(k, key, c)); ok {
				fs.hints |= 1 << hint
			}
			return
		}
		if fs.has(f) {
			if !merged {
				p.errorf(k, "duplicate key %q (first at %s)", key, lineCol(fs.pos[f]))
			}
			return
		}
		fs.set(f, p.pos(k))
		if optional(f) && isNull(p.deref(v)) {
			fs.nulls |= 1 << f
			return
		}
		label := prefix + key
		switch f {
		case fName:
			if s, ok := p.str(v, label, wantName); ok {
				if validName(s) {
					e.Name = s
				} else {
					p.errorf(p.deref(v), "%s: want %s, got %s", label, wantName, quote(s))
				}
			}
		case fServiceID:
			e.EndpointServiceID = p.uuid(v, label)
		case fServiceName:
			if s, ok := p.str(v, label, wantServiceNm); ok {
				if s == "" || strings.ContainsAny(s, " \t\r\n") {
					p.errorf(p.deref(v), "%s: want %s, got %s", label, wantServiceNm, quote(s))
				}
				e.EndpointServiceName = s
			}
		case fVPCID:
			e.VPCID = p.uuid(v, label)
		case fSubnetID:
			e.SubnetID = p.uuid(v, label)
		case fPortIP:
			if s, ok := p.str(v, label, wantIPv4); ok {
				if !validIPv4(s) {
					p.errorf(p.deref(v), "%s: want %s, got %s", label, wantIPv4, quote(s))
				}
				e.PortIP = s
			}
		case fEnableDNS:
			e.EnableDNS = p.boolean(v, label)
		case fWhitelist:
			e.Whitelist = p.stringList(v, label, "IPv4 addresses or CIDR blocks", wantCIDR, validCIDR, MaxWhitelist)
		case fEnableWhitelist:
			e.EnableWhitelist = p.boolean(v, label)
		case fRouteTables:
			e.RouteTables = p.stringList(v, label, "route table ids", wantUUID, validUUID, 0)
		case fPolicyStatement:
			e.PolicyStatement = p.policy(v, label)
		case fDescription:
			if s, ok := p.str(v, label, "a description"); ok {
				if n := utf8.RuneCountInString(s); n > MaxDescription {
					p.errorf(p.deref(v), "%s: %d characters, want at most %d", label, n, MaxDescription)
				} else if strings.ContainsAny(s, "<>") {
					p.errorf(p.deref(v), `%s: want a description without "<" or ">", got %s`, label, quote(s))
				}
				e.Description = s
			}
		case fSpecificationName:
			if s, ok := p.str(v, label, "a specification name"); ok {
				e.SpecificationName = s
			}
		case fTags:
			e.Tags = p.tags(v, label)
		}
	})
	if fs.has(fServiceID) && fs.has(fServiceName) {
		f := fServiceName
		if before(fs.pos[fServiceName], fs.pos[fServiceID]) {
			f = fServiceID
		}
		pos := fs.pos[f]
		p.errAt(pos.Line, pos.Col, fmt.Sprintf("%s%s: set either endpoint_service_id or endpoint_service_name, not both", prefix, fieldKeys[f]))
	}
}

func before(a, b Pos) bool { return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col }

// uuid returns the value of an id field, reporting it unless it is a UUID.
func (p *parser) uuid(v *yaml.Node, label string) string {
	s, ok := p.str(v, label, wantUUID)
	if ok && !validUUID(s) {
		p.errorf(p.deref(v), "%s: want %s, got %s", label, wantUUID, quote(s))
	}
	return s
}

// stringList decodes a list of strings, each checked by valid; max > 0
// limits its length. It returns a non-nil slice for an empty list.
func (p *parser) stringList(n *yaml.Node, label, what, want string, valid func(string) bool, max int) []string {
	n = p.deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list of %s, got %s", label, what, describe(n))
		return nil
	}
	if max > 0 && len(n.Content) > max {
		p.errorf(n, "%s: %d entries, want at most %d", label, len(n.Content), max)
	}
	out := make([]string, 0, len(n.Content))
	for i, item := range n.Content {
		if p.step(item) {
			break
		}
		s, ok := p.scalarText(item)
		if !ok {
			p.str(item, fmt.Sprintf("%s[%d]", label, i), want)
			continue
		}
		if !valid(s) {
			p.errorf(p.deref(item), "%s[%d]: want %s, got %s", label, i, want, quote(s))
		} else if j := slices.Index(out, s); j >= 0 {
			p.errorf(p.deref(item), "%s[%d]: %s repeats %s[%d], want each entry once", label, i, quote(s), label, j)
		}
		// Invalid entries are kept: the list is only used when there
		// are no errors, and its length still says it was not empty.
		out = append(out, s)
	}
	return out
}

// tags decodes a tags mapping.
func (p *parser) tags(n *yaml.Node, label string) map[string]string {
	n = p.deref(n)
	if n.Kind != yaml.MappingNode {
		hint := ""
		if n.Kind == yaml.SequenceNode {
			hint = " (write tags as key: value, not as a list)"
		}
		p.errorf(n, "%s: want a mapping of tag keys to values, got %s%s", label, describe(n), hint)
		return nil
	}
	tags := make(map[string]string, len(n.Content)/2)
	p.eachPair(n, func(k, v *yaml.Node, merged bool) {
		k = p.deref(k)
		if k.Kind != yaml.ScalarNode || k.Tag == "!!null" {
			p.errorf(k, "%s: want %s, got %s", label, wantTagKey, describe(k))
			return
		}
		key := k.Value
		if _, dup := tags[key]; dup {
			if !merged {
				p.errorf(k, "%s: duplicate key %q (first at %s)", label, key, lineCol(p.firstKey(n, key)))
			}
			return
		}
		switch {
		case !validTag(key, 1, 36):
			p.errorf(k, "%s: want %s, got %s", label, wantTagKey, quote(key))
		case len(key) >= len(ReservedPrefix) && strings.EqualFold(key[:len(ReservedPrefix)], ReservedPrefix):
			p.errorf(k, "%s: key %q uses the reserved prefix %q, want a key of your own (vpcepctl sets %s and %s itself)",
				label, key, ReservedPrefix, TagSet, TagName)
		}
		value := ""
		if v = p.deref(v); !(v.Kind == yaml.ScalarNode && v.Tag == "!!null") {
			var ok bool
			if value, ok = p.scalarText(v); !ok {
				p.str(v, label+"."+key, wantTagValue)
			} else if !validTag(value, 0, 43) {
				p.errorf(v, "%s.%s: want %s, got %s", label, key, wantTagValue, quote(value))
			}
		}
		tags[key] = value
	})
	return tags
}

// firstKey returns the position of the first key of mapping n that reads key.
func (p *parser) firstKey(n *yaml.Node, key string) Pos {
	for i := 0; i+1 < len(n.Content); i += 2 {
		if k := p.deref(n.Content[i]); k.Kind == yaml.ScalarNode && k.Value == key {
			return p.pos(k)
		}
	}
	return p.pos(n)
}

// policy decodes policy_statement.
func (p *parser) policy(n *yaml.Node, label string) []PolicyStatement {
	n = p.deref(n)
	if n.Kind != yaml.SequenceNode {
		p.errorf(n, "%s: want a list of statements (Effect, Action, Resource), got %s", label, describe(n))
		return nil
	}
	if len(n.Content) > MaxPolicyStatement {
		p.errorf(n, "%s: %d statements, want at most %d", label, len(n.Content), MaxPolicyStatement)
	}
	out := make([]PolicyStatement, 0, len(n.Content))
	for i, item := range n.Content {
		if p.step(item) {
			break
		}
		item = p.deref(item)
		l := fmt.Sprintf("%s[%d]", label, i)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "%s: want a statement (a mapping with Effect, Action and Resource), got %s", l, describe(item))
			continue
		}
		out = append(out, p.statement(item, l))
	}
	return out
}

func (p *parser) statement(n *yaml.Node, label string) PolicyStatement {
	var st PolicyStatement
	keys := [3]string{"Effect", "Action", "Resource"}
	var seen [3]*yaml.Node
	var hinted [3]bool
	p.eachPair(n, func(k, v *yaml.Node, merged bool) {
		key, ok := p.key(k)
		if !ok {
			return
		}
		i := slices.Index(keys[:], key)
		if i < 0 {
			if j := slices.Index(keys[:], p.unknownKey(k, key, ctxStatement)); j >= 0 {
				hinted[j] = true
			}
			return
		}
		if seen[i] != nil {
			if !merged {
				p.errorf(k, "%s: duplicate key %q (first at %d:%d)", label, key, seen[i].Line, seen[i].Column)
			}
			return
		}
		seen[i] = k
		l := label + "." + key
		switch i {
		case 0:
			if s, ok := p.str(v, l, "Allow or Deny"); ok {
				if s != "Allow" && s != "Deny" {
					p.errorf(p.deref(v), "%s: want Allow or Deny, got %s", l, quote(s))
				}
				st.Effect = s
			}
		case 1:
			st.Action = p.nonEmptyStrings(v, l, "actions such as obs:*:*")
		case 2:
			st.Resource = p.nonEmptyStrings(v, l, "resources such as obs:*:*:*:*/*")
		}
	})
	for i, key := range keys {
		if seen[i] == nil && !hinted[i] {
			want := "Allow or Deny"
			if i > 0 {
				want = "a non-empty list of strings"
			}
			p.errorf(n, "%s: missing %s, want %s", label, key, want)
		}
	}
	return st
}

func (p *parser) nonEmptyStrings(n *yaml.Node, label, what string) []string {
	s := p.stringList(n, label, what, "a non-empty string", func(s string) bool { return s != "" }, 0)
	if s != nil && len(s) == 0 {
		p.errorf(p.deref(n), "%s: want a non-empty list of %s, got an empty list", label, what)
	}
	return s
}
