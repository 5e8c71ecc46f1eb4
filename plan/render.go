package plan

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
)

// TextOptions control the text rendering.
type TextOptions struct {
	Color bool // ANSI colours (only on a terminal, never with NO_COLOR)
}

var colors = map[Action]string{
	Create: "\x1b[32m", Tag: "\x1b[33m", Replace: "\x1b[35m", Adopt: "\x1b[36m", Delete: "\x1b[31m", Conflict: "\x1b[1;31m",
}

// WriteText renders the plan as a compact diff: one line per change,
// unchanged endpoints only counted, then warnings and the summary line.
func WriteText(w io.Writer, p *Plan, o TextOptions) error {
	var b strings.Builder
	for _, c := range p.Changes {
		sym := fmt.Sprintf("%3s", c.Action.Symbol())
		if o.Color {
			sym = colors[c.Action] + sym + "\x1b[0m"
		}
		fmt.Fprintf(&b, "%s %s/%s", sym, c.Set, c.Name)
		if c.ID != "" {
			fmt.Fprintf(&b, " %s", c.ID)
		}
		if len(p.Targets) > 1 {
			fmt.Fprintf(&b, " [%s]", c.Target())
		}
		if r := lineReason(&c); r != "" {
			fmt.Fprintf(&b, " (%s)", r)
		}
		b.WriteByte('\n')
	}
	if p.Unpruned > 0 {
		fmt.Fprintf(&b, "%d owned endpoint(s) no longer declared or duplicated; --prune deletes them.\n", p.Unpruned)
	}
	for _, wn := range p.Warnings {
		fmt.Fprintf(&b, "warning: %s\n", wn)
	}
	b.WriteString(SummaryLine(p.Summary) + "\n")
	_, err := io.WriteString(w, b.String())
	return err
}

func lineReason(c *Change) string {
	switch c.Action {
	case Create:
		if c.Desired != nil {
			s := "vpc " + c.Desired.VPCID
			if c.Desired.SubnetID != "" {
				s += ", subnet " + c.Desired.SubnetID
			}
			return s
		}
	case Replace, Tag, Delete, Conflict, Adopt:
		return c.Reason
	}
	return ""
}

// SummaryLine is the last line of the text plan.
func SummaryLine(s Summary) string {
	return fmt.Sprintf("Plan: %d to create, %d to tag, %d to replace, %d to adopt, %d to delete, %d %s, %d unchanged.",
		s.Create, s.Tag, s.Replace, s.Adopt, s.Delete, s.Conflict, plural(s.Conflict, "conflict", "conflicts"), s.Noop)
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// WriteJSON writes the plan document (also the plan file format).
func WriteJSON(w io.Writer, p *Plan) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(p)
}

// Read reads a plan file.
func Read(r io.Reader) (*Plan, error) {
	var p Plan
	dec := json.NewDecoder(r)
	if err := dec.Decode(&p); err != nil {
		return nil, fmt.Errorf("not a plan file: %v", err)
	}
	if p.FormatVersion != FormatVersion {
		return nil, fmt.Errorf("plan file format_version %q, want %q", p.FormatVersion, FormatVersion)
	}
	if p.Fingerprint == "" {
		return nil, fmt.Errorf("plan file has no fingerprint")
	}
	return &p, nil
}
