package manifests

// This file reads scalars: strings and booleans as YAML writes them, and
// describes a node in a message the way a user wrote it.

import (
	"strconv"

	"go.yaml.in/yaml/v3"
)

// describe says what a node is, for "got ..." in messages.
func describe(n *yaml.Node) string {
	switch n.Kind {
	case yaml.MappingNode:
		return "a mapping"
	case yaml.SequenceNode:
		return "a list"
	case yaml.AliasNode:
		if n.Alias != nil {
			return describe(n.Alias)
		}
	case yaml.ScalarNode:
		switch n.Tag {
		case "!!null":
			return "no value"
		case "!!int", "!!float", "!!bool":
			return n.Value
		}
		return quote(n.Value)
	}
	return "nothing"
}

// quote quotes s for a message, shortened to keep the message on one
// readable line.
func quote(s string) string {
	const max = 60
	if len(s) > max {
		n := 0
		for i := range s {
			if n == max {
				s = s[:i] + "..."
				break
			}
			n++
		}
	}
	return strconv.Quote(s)
}

// scalarText returns the text of a scalar where a string is wanted, without
// reporting anything: hot paths call it first and build a label for str
// only when there is a problem to report.
func (p *parser) scalarText(n *yaml.Node) (string, bool) {
	n = p.deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" || !plainTags[n.Tag] {
		return "", false
	}
	return n.Value, true
}

// str returns the text of a scalar where a string is wanted, reporting
// anything else.
func (p *parser) str(n *yaml.Node, label, want string) (string, bool) {
	n = p.deref(n)
	if n.Kind != yaml.ScalarNode || n.Tag == "!!null" {
		p.errorf(n, "%s: want %s, got %s", label, want, describe(n))
		return "", false
	}
	if !plainTags[n.Tag] {
		p.errorf(n, "%s: yaml tag %s is not supported here, want %s", label, n.Tag, want)
		return "", false
	}
	return n.Value, true
}

// boolean returns a new *bool for a true or false scalar, or nil.
func (p *parser) boolean(n *yaml.Node, label string) *bool {
	n = p.deref(n)
	if n.Kind == yaml.ScalarNode && n.Tag == "!!bool" {
		switch n.Value {
		case "true", "True", "TRUE":
			b := true
			return &b
		case "false", "False", "FALSE":
			b := false
			return &b
		}
	}
	p.errorf(n, "%s: want true or false, got %s", label, describe(n))
	return nil
}
