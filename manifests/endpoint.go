package manifests

import (
	"fmt"
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

	from, own := e.merge(&fs, d)
	e.FieldPos = make(map[string]Pos, countBits(fs.mask|from.mask))
	for f := field(0); f < numFields; f++ {
		switch {
		case fs.given(f):
			e.FieldPos[fieldKeys[f]] = fs.pos[f]
		case from.has(f):
			e.FieldPos[fieldKeys[f]] = from.pos[f]
		}
	}
	p.checkMerged(n, e, &fs, &from, d, own)
	return e
}

// checkMerged checks the endpoint merged with its defaults. A problem
// caused by a value from defaults is reported at the endpoint, which is
// what lacks something. own counts the tags the endpoint wrote itself.
func (p *parser) checkMerged(n *yaml.Node, e *Endpoint, fs, from *fieldSet, d *defaults, own int) {
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
}

// merge fills in the fields e does not set (fs) from defaults d, and
// returns where each came from and how many tags e wrote itself. A field
// from defaults keeps its position there. The service is one choice:
// naming either endpoint_service_id or endpoint_service_name replaces
// both.
func (e *Endpoint) merge(fs *fieldSet, d *defaults) (from fieldSet, own int) {
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
	own = len(e.Tags)
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
	return from, own
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
		p.value(f, v, prefix+key, e)
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

// value decodes the value of field f, labelled label in errors, into e.
func (p *parser) value(f field, v *yaml.Node, label string, e *Endpoint) {
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
}

func before(a, b Pos) bool { return a.Line < b.Line || a.Line == b.Line && a.Col < b.Col }
