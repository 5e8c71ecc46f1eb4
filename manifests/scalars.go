package manifests

// This file reads scalars: strings and booleans as YAML writes them, and
// describes a node in a message the way a user wrote it.

import (
	"strconv"
	"strings"

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
	p.errorf(n, "%s: want true or false, got %s", label, describeBool(n))
	return nil
}

// describeBool is describe where true or false is wanted: it says how to
// write what the user evidently meant.
func describeBool(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!int" {
		switch n.Value {
		case "1":
			return "1 (write true)"
		case "0":
			return "0 (write false)"
		}
	}
	return describeString(n, func(s string) string {
		if plainTag(s) == "!!bool" {
			return unquote(n)
		}
		// YAML 1.1 booleans: YAML 1.2, which vpcepctl reads, takes them
		// for strings.
		switch strings.ToLower(s) {
		case "yes", "y", "on":
			return "write true"
		case "no", "n", "off":
			return "write false"
		}
		return ""
	})
}

// describeVersion is describe where version 1 is wanted.
func describeVersion(n *yaml.Node) string {
	if n.Kind == yaml.ScalarNode && n.Tag == "!!float" {
		if f, err := strconv.ParseFloat(n.Value, 64); err == nil && f == 1 {
			return n.Value + " (write 1)"
		}
	}
	return describeString(n, func(s string) string {
		if s == "1" {
			return unquote(n)
		}
		return ""
	})
}

// describeString is describe where a boolean or a number is wanted: a
// string is called one, so that "true" and true do not read alike, and
// fix(value) says what to change, if it can tell.
func describeString(n *yaml.Node, fix func(string) string) string {
	if n.Kind != yaml.ScalarNode || n.Tag != "!!str" {
		return describe(n)
	}
	d := "the string " + quote(n.Value)
	if hint := fix(n.Value); hint != "" {
		d += " (" + hint + ")"
	}
	return d
}

// plainTag is the type YAML gives s written plain, without quotes.
func plainTag(s string) string {
	return (&yaml.Node{Kind: yaml.ScalarNode, Value: s}).ShortTag()
}

// unquote says how to make a string scalar plain.
func unquote(n *yaml.Node) string {
	quoted := n.Style&(yaml.DoubleQuotedStyle|yaml.SingleQuotedStyle) != 0
	switch {
	case n.Style&yaml.TaggedStyle != 0 && quoted:
		return "remove the tag and the quotes"
	case n.Style&yaml.TaggedStyle != 0:
		return "remove the tag"
	case quoted:
		return "remove the quotes"
	}
	return "write it plain, on the line of its key"
}
