package plan

// This file renders plans for people (WriteText) and for programs and
// plan files (WriteJSON, Read). The text plan is a compact diff: one line
// per change, unchanged endpoints only counted, the summary line last.

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
)

// TextOptions control the text rendering.
type TextOptions struct {
	Color bool // ANSI colours (the caller decides: a terminal, no NO_COLOR)
}

const (
	colorReset  = "\x1b[0m"
	colorYellow = "\x1b[33m"
)

func (a Action) color() string {
	switch a {
	case Create:
		return "\x1b[32m"
	case Tag:
		return colorYellow
	case Replace:
		return "\x1b[35m"
	case Adopt:
		return "\x1b[36m"
	case Approve:
		return "\x1b[34m"
	case Delete:
		return "\x1b[31m"
	case Conflict:
		return "\x1b[1;31m"
	}
	return ""
}

// WriteText renders the plan: one line per change ("SYMBOL set/name ID
// (reason)"), under a line naming the target when the plan has more than
// one; then the count of what --prune would delete, the warnings, and the
// summary line.
func WriteText(w io.Writer, p *Plan, o TextOptions) error {
	bw := bufio.NewWriter(w)
	multi := len(p.Targets) > 1
	line := func(c *Change) {
		if multi {
			bw.WriteString("  ")
		}
		sym := c.Action.Symbol()
		for range 3 - len(sym) {
			bw.WriteByte(' ')
		}
		if o.Color {
			bw.WriteString(c.Action.color() + sym + colorReset)
		} else {
			bw.WriteString(sym)
		}
		bw.WriteString(" " + c.Set + "/" + c.Name)
		if c.ID != "" {
			bw.WriteString(" " + c.ID)
		}
		if c.Reason != "" {
			bw.WriteString(" (" + c.Reason + ")")
		}
		bw.WriteByte('\n')
	}
	if multi {
		byTarget := make(map[Target][]int, len(p.Targets))
		for i := range p.Changes {
			t := p.Changes[i].Target()
			byTarget[t] = append(byTarget[t], i)
		}
		for _, t := range p.Targets {
			idx := byTarget[t]
			if len(idx) == 0 {
				bw.WriteString(t.String() + ": no changes\n")
				continue
			}
			bw.WriteString(t.String() + ":\n")
			for _, i := range idx {
				line(&p.Changes[i])
			}
		}
	} else {
		for i := range p.Changes {
			line(&p.Changes[i])
		}
	}
	if p.Unpruned > 0 {
		what := "owned endpoints are no longer declared; --prune deletes them"
		if p.Unpruned == 1 {
			what = "owned endpoint is no longer declared; --prune deletes it"
		}
		bw.WriteString(strconv.Itoa(p.Unpruned) + " " + what + ".\n")
	}
	switch p.AwaitingApproval {
	case 0:
	case 1:
		bw.WriteString("1 unchanged endpoint awaits the service owner's approval (pendingAcceptance).\n")
	default:
		bw.WriteString(strconv.Itoa(p.AwaitingApproval) + " unchanged endpoints await the service owner's approval (pendingAcceptance).\n")
	}
	for _, wn := range p.Warnings {
		if o.Color {
			bw.WriteString(colorYellow + "warning:" + colorReset + " " + wn + "\n")
		} else {
			bw.WriteString("warning: " + wn + "\n")
		}
	}
	bw.WriteString(SummaryLine(p.Summary) + "\n")
	return bw.Flush()
}

// SummaryLine is the last line of the text plan, e.g.
// "Plan: 3 to create, 1 to tag, 0 to replace, 0 to adopt, 0 to approve, 0 to delete, 2 conflicts, 40 unchanged."
func SummaryLine(s Summary) string {
	conflicts := "conflicts"
	if s.Conflict == 1 {
		conflicts = "conflict"
	}
	return fmt.Sprintf("Plan: %d to create, %d to tag, %d to replace, %d to adopt, %d to approve, %d to delete, %d %s, %d unchanged.",
		s.Create, s.Tag, s.Replace, s.Adopt, s.Approve, s.Delete, s.Conflict, conflicts, s.Noop)
}

// WriteJSON writes the plan document of DESIGN.md (also the plan file):
// format_version, fingerprint, targets, summary, changes.
func WriteJSON(w io.Writer, p *Plan) error {
	doc := *p
	if doc.Targets == nil {
		doc.Targets = []Target{}
	}
	if doc.Changes == nil {
		doc.Changes = []Change{}
	}
	if doc.Observed == nil {
		doc.Observed = []Digest{}
	}
	doc.Scope.Targets = slices.Clone(doc.Scope.Targets)
	if doc.Scope.Targets == nil {
		doc.Scope.Targets = []TargetScope{}
	}
	for i := range doc.Scope.Targets {
		ts := &doc.Scope.Targets[i]
		if ts.Sets == nil {
			ts.Sets = []string{}
		}
		if ts.Keys == nil {
			ts.Keys = []NaturalKey{}
		}
	}
	bw := bufio.NewWriter(w)
	enc := json.NewEncoder(bw)
	enc.SetIndent("", "  ")
	if err := enc.Encode(&doc); err != nil {
		return err
	}
	return bw.Flush()
}

// Read reads a plan file and checks that it is one apply can act on: the
// format version, a fingerprint, known actions, every change in one of
// the plan's targets with what its action needs, and a summary that
// counts the changes.
func Read(r io.Reader) (*Plan, error) {
	var p Plan
	if err := json.NewDecoder(r).Decode(&p); err != nil {
		return nil, fmt.Errorf("not a plan file: %v", err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan file format_version %q, want %q", p.FormatVersion, FormatVersion)
	}
	if p.Fingerprint == "" {
		return nil, errors.New("plan file has no fingerprint")
	}
	targets := make(map[Target]bool, len(p.Targets))
	for _, t := range p.Targets {
		targets[t] = true
	}
	var counted Summary
	for i := range p.Changes {
		c := &p.Changes[i]
		if err := c.check(targets); err != nil {
			return nil, fmt.Errorf("plan file: changes[%d] (%s/%s): %w", i, c.Set, c.Name, err)
		}
		(*counted.field(c.Action))++
	}
	counted.Noop = p.Summary.Noop
	if counted != p.Summary {
		return nil, fmt.Errorf("plan file: summary %+v does not count its changes (%+v)", p.Summary, counted)
	}
	if err := p.checkScope(targets); err != nil {
		return nil, err
	}
	if p.Changes == nil {
		p.Changes = []Change{}
	}
	return &p, nil
}

// checkScope reports what makes a plan file's scope unusable: a plan from
// before scopes were recorded, a shard that does not parse, scope targets
// that are not the plan's.
func (p *Plan) checkScope(targets map[Target]bool) error {
	if len(p.Scope.Targets) == 0 && len(p.Targets) > 0 {
		return errors.New("plan file has no scope (made by an older vpcepctl?); run plan again")
	}
	if _, err := p.Scope.ShardOf(); err != nil {
		return fmt.Errorf("plan file: %w", err)
	}
	seen := map[Target]bool{}
	for _, ts := range p.Scope.Targets {
		t := Target{ts.Region, ts.ProjectID}
		if !targets[t] || seen[t] {
			return fmt.Errorf("plan file: scope target %s is not one of the plan's targets, or twice", t)
		}
		seen[t] = true
	}
	if len(seen) != len(targets) {
		return errors.New("plan file: a target has no scope")
	}
	return nil
}

// check reports what makes a change of a plan file unusable.
func (c *Change) check(targets map[Target]bool) error {
	switch {
	case !c.Action.valid() || c.Action == Noop:
		return fmt.Errorf("unknown action %q", c.Action)
	case !targets[c.Target()]:
		return fmt.Errorf("target %s is not among the plan's targets", c.Target())
	case c.Set == "":
		return errors.New("no set")
	case c.ID == "" && c.Action != Create && c.Action != Conflict:
		return fmt.Errorf("%s without an id", c.Action)
	case c.Desired == nil && (c.Action == Create || c.Action == Replace || c.Action == Tag || c.Action == Adopt):
		return fmt.Errorf("%s without desired", c.Action)
	}
	return nil
}
