package manifests

// This file reads the values of an endpoint's fields that are more than
// a scalar: ids, lists of addresses, tags and policy statements, each
// problem at its line and column.

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

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

// statementKeys are the keys of a policy statement, spelt as in the API.
var statementKeys = [...]string{"Effect", "Action", "Resource"}

func (p *parser) statement(n *yaml.Node, label string) PolicyStatement {
	var st PolicyStatement
	var seen [len(statementKeys)]*yaml.Node
	var hinted [len(statementKeys)]bool
	p.eachPair(n, func(k, v *yaml.Node, merged bool) {
		key, ok := p.key(k)
		if !ok {
			return
		}
		i := slices.Index(statementKeys[:], key)
		if i < 0 {
			if j := slices.Index(statementKeys[:], p.unknownKey(k, key, ctxStatement)); j >= 0 {
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
	for i, key := range statementKeys {
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
