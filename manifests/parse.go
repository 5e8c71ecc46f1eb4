package manifests

// This file walks the yaml.Node tree of each document by hand, so that
// every unknown key, wrong type and bad value gets its own position and
// every problem is reported at once. Decoding into structs would stop at
// the first type error and lose KnownFields behind custom decoders.

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// joinErrors sorts errs by position, drops repeats (a value shared through
// defaults or a YAML alias is reported once) and joins them.
func joinErrors(errs []*Error) error {
	errs = sortErrors(errs)
	list := make([]error, len(errs))
	for i, e := range errs {
		list[i] = e
	}
	return errors.Join(list...)
}

// sortErrors sorts the errors of one file by position, keeping the order
// of errors at the same position, and drops exact repeats.
func sortErrors(errs []*Error) []*Error {
	slices.SortStableFunc(errs, func(a, b *Error) int {
		return cmp.Or(cmp.Compare(a.Line, b.Line), cmp.Compare(a.Col, b.Col))
	})
	seen := make(map[Error]bool, len(errs))
	out := errs[:0]
	for _, e := range errs {
		if seen[*e] {
			continue
		}
		seen[*e] = true
		out = append(out, e)
	}
	return out
}

// parseFile parses the documents of one file. It returns the manifests it
// could make sense of even when there are problems, so that the caller can
// still check sets across files.
func parseFile(name string, data []byte) ([]*Manifest, []*Error) {
	return parseFileWith(&parser{file: name, budget: 16*len(data) + 1<<16}, data)
}

func parseFileWith(p *parser, data []byte) ([]*Manifest, []*Error) {
	name := p.file
	if len(bytes.TrimSpace(data)) == 0 {
		p.errAt(1, 1, "empty file, want a manifest with version, set and endpoints")
		return nil, p.errs
	}
	if line, col, msg := checkText(data); msg != "" {
		p.errAt(line, col, msg)
		return nil, p.errs
	}
	var ms []*Manifest
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var doc yaml.Node
		err := decodeNode(dec, &doc)
		if err == io.EOF {
			break
		}
		if err != nil {
			p.errs = append(p.errs, syntaxError(name, data, err))
			break
		}
		if len(doc.Content) == 0 || isEmptyDocument(doc.Content[0]) {
			continue // only comments, or an empty document between "---"
		}
		if m := p.document(doc.Content[0]); m != nil {
			ms = append(ms, m)
		}
	}
	if len(ms) == 0 && len(p.errs) == 0 {
		p.errAt(1, 1, "no manifests in file (only comments or empty documents), want a manifest with version, set and endpoints")
	}
	return ms, p.errs
}

// decodeNode decodes the next document. yaml.v3 is not known to panic on
// any input, but a loader that must never panic does not rely on it.
func decodeNode(dec *yaml.Decoder, n *yaml.Node) (err error) {
	defer func() {
		if r := recover(); r != nil {
			err = errParserFailed
		}
	}()
	return dec.Decode(n)
}

var errParserFailed = errors.New("yaml: the YAML parser failed on this input")

// isEmptyDocument reports whether n is the implicit null of a document that
// holds nothing but comments.
func isEmptyDocument(n *yaml.Node) bool {
	return n.Kind == yaml.ScalarNode && n.Tag == "!!null" && n.Value == "" && n.Style == 0
}

type parser struct {
	file   string
	errs   []*Error
	work   int // nodes visited, aliases expanded
	budget int // limit on work: aliases can make a small file huge
	over   bool
}

func (p *parser) pos(n *yaml.Node) Pos { return Pos{p.file, n.Line, n.Column} }

func (p *parser) errAt(line, col int, msg string) {
	p.errs = append(p.errs, &Error{Pos{p.file, max(line, 1), max(col, 1)}, msg})
}

func (p *parser) errorf(n *yaml.Node, format string, args ...any) {
	p.errAt(n.Line, n.Column, fmt.Sprintf(format, args...))
}

// deref follows an alias to its anchored node.
func (p *parser) deref(n *yaml.Node) *yaml.Node {
	if n.Kind == yaml.AliasNode && n.Alias != nil {
		return n.Alias
	}
	return n
}

// step counts one visited node and reports whether the walk must stop
// because aliases expanded the document beyond its budget.
func (p *parser) step(n *yaml.Node) bool {
	if p.over {
		return true
	}
	p.work++
	if p.work > p.budget {
		p.over = true
		p.errorf(n, "yaml: too many aliases: the document expands to over %d nodes", p.budget)
		return true
	}
	return false
}

const maxMergeDepth = 8

// eachPair calls fn for every key/value pair of mapping n: first the pairs
// written in n, then those merged in with "<<" (in order, recursively), so
// that a caller keeping the first value of a key gets YAML merge semantics.
// merged tells fn that a pair came from a merge: a repeated key is then an
// override, not a duplicate.
func (p *parser) eachPair(n *yaml.Node, fn func(k, v *yaml.Node, merged bool)) {
	p.pairs(n, fn, false, 0)
}

func (p *parser) pairs(n *yaml.Node, fn func(k, v *yaml.Node, merged bool), merged bool, depth int) {
	c := n.Content
	hasMerge := false
	for i := 0; i+1 < len(c); i += 2 {
		if p.step(c[i]) {
			return
		}
		if isMergeKey(c[i]) {
			hasMerge = true
			continue
		}
		fn(c[i], c[i+1], merged)
	}
	if !hasMerge {
		return
	}
	for i := 0; i+1 < len(c); i += 2 {
		k := c[i]
		if !isMergeKey(k) {
			continue
		}
		if depth >= maxMergeDepth {
			p.errorf(k, "yaml: merge keys (<<) nested more than %d deep (does an anchor merge itself?)", maxMergeDepth)
			continue
		}
		v := p.deref(c[i+1])
		switch v.Kind {
		case yaml.MappingNode:
			p.pairs(v, fn, true, depth+1)
		case yaml.SequenceNode:
			for _, s := range v.Content {
				s = p.deref(s)
				if s.Kind != yaml.MappingNode {
					p.errorf(s, "<<: want a mapping to merge, got %s", describe(s))
					continue
				}
				p.pairs(s, fn, true, depth+1)
			}
		default:
			p.errorf(v, "<<: want a mapping or a list of mappings to merge, got %s", describe(v))
		}
	}
}

func isMergeKey(k *yaml.Node) bool { return k.Kind == yaml.ScalarNode && k.Tag == "!!merge" }

// key returns the text of a mapping key.
func (p *parser) key(k *yaml.Node) (string, bool) {
	k = p.deref(k)
	if k.Kind != yaml.ScalarNode {
		p.errorf(k, "want a key name, got %s", describe(k))
		return "", false
	}
	return k.Value, true
}

// plainTags are the tags a scalar may carry where a string is wanted.
// A name like 007 or a tag value like 4711 is read as written.
var plainTags = map[string]bool{"!!str": true, "!!int": true, "!!float": true, "!!bool": true, "!!timestamp": true}

// Top-level keys.
const (
	topVersion = iota
	topSet
	topRegion
	topProjectID
	topDefaults
	topEndpoints
	numTop
)

var topKeys = [numTop]string{"version", "set", "region", "project_id", "defaults", "endpoints"}

func lookupTop(key string) int {
	for i, k := range topKeys {
		if k == key {
			return i
		}
	}
	return -1
}

const (
	wantSet       = `a set name of 1 to 36 letters, digits, "_" or "-"`
	wantName      = `an endpoint name of 1 to 43 letters, digits, "_" or "-"`
	wantRegion    = "a region such as eu-de (lower-case letters, digits and \"-\")"
	wantProjectID = "a project id (32 lower-case hex digits)"
)

// document walks one manifest.
func (p *parser) document(n *yaml.Node) *Manifest {
	n = p.deref(n)
	if n.Kind != yaml.MappingNode {
		p.errorf(n, "want a manifest (a mapping with version, set and endpoints), got %s", describe(n))
		return nil
	}
	if foreign(n) {
		p.errorf(n, "not a vpcepctl manifest, want a mapping with version, set and endpoints, got %s", p.firstKeys(n))
		return nil
	}
	m := &Manifest{Pos: p.pos(n), FieldPos: make(map[string]Pos, numTop)}
	values, hinted := p.topKeys(n, m)
	p.header(n, m, values, hinted)

	var d *defaults
	if v := values[topDefaults]; v != nil {
		d = p.defaults(v)
	}
	if v := values[topEndpoints]; v == nil {
		if !hinted[topEndpoints] {
			p.errorf(n, "missing endpoints, want a list of endpoints (endpoints: [] declares none)")
		}
	} else {
		p.endpoints(v, m, d)
	}
	return m
}

// firstKeys describes a foreign mapping by its first few keys.
func (p *parser) firstKeys(n *yaml.Node) string {
	var keys []string
	for i := 0; i+1 < len(n.Content) && len(keys) < 5; i += 2 {
		if k := p.deref(n.Content[i]); k.Kind == yaml.ScalarNode {
			keys = append(keys, quote(k.Value))
		}
	}
	if len(keys) == 0 {
		return "an empty mapping"
	}
	got := "a mapping with " + strings.Join(keys, ", ")
	if len(n.Content) > 10 {
		got += ", ..."
	}
	return got
}

// topKeys collects the values of a manifest's top-level keys, reporting
// unknown and duplicate keys. hinted marks the keys suggested for an
// unknown one: they are not reported missing too.
func (p *parser) topKeys(n *yaml.Node, m *Manifest) (values [numTop]*yaml.Node, hinted [numTop]bool) {
	p.eachPair(n, func(k, v *yaml.Node, merged bool) {
		key, ok := p.key(k)
		if !ok {
			return
		}
		f := lookupTop(key)
		if f < 0 {
			if h := lookupTop(p.unknownKey(k, key, ctxManifest)); h >= 0 {
				hinted[h] = true
			}
			return
		}
		if values[f] != nil {
			if !merged {
				p.errorf(k, "duplicate key %q (first at %s)", key, lineCol(m.FieldPos[key]))
			}
			return
		}
		values[f] = v
		m.FieldPos[key] = p.pos(k)
	})
	return values, hinted
}

// header reads the scalars at the top of a manifest: version, set,
// region and project_id.
func (p *parser) header(n *yaml.Node, m *Manifest, values [numTop]*yaml.Node, hinted [numTop]bool) {
	if v := values[topVersion]; v == nil {
		if !hinted[topVersion] {
			p.errorf(n, "missing version, want version: 1")
		}
	} else if v = p.deref(v); v.Kind == yaml.ScalarNode && v.Tag == "!!int" && v.Value == "1" {
		m.Version = 1
	} else {
		p.errorf(v, "version: want 1, got %s", describeVersion(v))
	}

	if v := values[topSet]; v == nil {
		if !hinted[topSet] {
			p.errorf(n, "missing set, want %s (the ownership scope of the endpoints)", wantSet)
		}
	} else if s, ok := p.str(v, "set", wantSet); ok {
		if !validSet(s) {
			p.errorf(p.deref(v), "set: want %s, got %s", wantSet, quote(s))
		} else {
			m.Set = s
		}
	}

	if v := values[topRegion]; v != nil && !isNull(p.deref(v)) {
		if s, ok := p.str(v, "region", wantRegion); ok {
			if !validRegion(s) {
				p.errorf(p.deref(v), "region: want %s, got %s", wantRegion, quote(s))
			}
			m.Region = s
		}
	}

	if v := values[topProjectID]; v != nil && !isNull(p.deref(v)) {
		if s, ok := p.str(v, "project_id", wantProjectID); ok {
			if !validProjectID(s) {
				p.errorf(p.deref(v), "project_id: want %s, got %s", wantProjectID, quote(s))
			}
			m.ProjectID = s
		}
	}
}

// foreign reports whether mapping n has none of the top-level keys: it is
// some other YAML (a Kubernetes object, a CI file) in the manifest paths,
// better told in one line than as a key-by-key list of problems.
func foreign(n *yaml.Node) bool {
	for i := 0; i+1 < len(n.Content); i += 2 {
		k := n.Content[i]
		if k.Kind == yaml.AliasNode && k.Alias != nil {
			k = k.Alias
		}
		if isMergeKey(k) || k.Kind == yaml.ScalarNode && lookupTop(k.Value) >= 0 {
			return false
		}
	}
	return true
}

// lineCol is a position within the same file.
func lineCol(p Pos) string { return strconv.Itoa(p.Line) + ":" + strconv.Itoa(p.Col) }

// endpoints walks the list of endpoints of m.
func (p *parser) endpoints(n *yaml.Node, m *Manifest, d *defaults) {
	n = p.deref(n)
	if n.Kind != yaml.SequenceNode {
		hint := ""
		if n.Kind == yaml.MappingNode {
			hint = ` (start each endpoint with "- name: ...")`
		}
		p.errorf(n, "endpoints: want a list of endpoints, got %s%s", describe(n), hint)
		return
	}
	m.Endpoints = make([]*Endpoint, 0, len(n.Content))
	names := make(map[string]Pos, len(n.Content))
	for i, item := range n.Content {
		if p.step(item) {
			return
		}
		item = p.deref(item)
		if item.Kind != yaml.MappingNode {
			p.errorf(item, "endpoints[%d]: want an endpoint (a mapping with name, vpc_id, ...), got %s", i, describe(item))
			continue
		}
		e := p.endpoint(item, m, d)
		if e.Name != "" {
			if first, ok := names[e.Name]; ok {
				p.errAt(e.FieldPos["name"].Line, e.FieldPos["name"].Col,
					fmt.Sprintf("duplicate endpoint name %q in set %q (first at %s), want names unique in a set", e.Name, m.Set, lineCol(first)))
			} else {
				names[e.Name] = e.FieldPos["name"]
			}
		}
		m.Endpoints = append(m.Endpoints, e)
	}
}
