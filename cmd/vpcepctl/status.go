package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/internal/term"
	"github.com/vpcepctl/vpcepctl/plan"
)

func (a *app) statusCommand() *cobra.Command {
	var f planFlags
	var cf clientFlags
	cf.defaults()
	cmd := &cobra.Command{
		Use:   "status -f PATH... [flags]",
		Short: "Show the declared endpoints as they are",
		Long: `status lists every declared endpoint as it exists: id, status, IP, service,
age and what a plan would do to it (with the same flags); then the
endpoints the declared sets own that are no longer declared. A table on a
terminal (fitted to its width), one JSON document with -o json.

Exit status: 0, 1 API or network failure, 3 invalid input.`,
		Example: `  vpcepctl --sim status -f examples/manifests
  vpcepctl --sim status -f examples/manifests --set payments -o json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runStatus(cmd, &f, cf)
		},
	}
	fs := cmd.Flags()
	f.registerFiles(fs)
	fs.BoolVar(&f.adopt, "adopt", false, "show adopts as plan --adopt would plan them")
	fs.BoolVar(&f.prune, "prune", false, "show deletes as plan --prune would plan them")
	fs.BoolVar(&f.allowReplace, "allow-replace", false, "show replaces as plan --allow-replace would plan them")
	fs.BoolVar(&f.approve, "approve", false, "show approvals as plan --approve would plan them")
	f.registerTargeting(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
	cf.register(fs)
	return cmd
}

func (a *app) runStatus(cmd *cobra.Command, f *planFlags, cf clientFlags) error {
	rm, err := a.startMetrics()
	if err != nil {
		return err
	}
	opts, err := a.planOptions(f)
	if err == nil {
		err = cf.check()
	}
	if err != nil {
		return rm.done(err, false)
	}
	ms, err := a.loadTargeted(f, opts)
	if err != nil {
		return rm.done(err, false)
	}
	rm.group("status", ms, nil, opts)
	s, closeSession, err := a.open(cmd.Context(), cf, rm.m)
	if err != nil {
		return rm.done(err, false)
	}
	defer closeSession()
	rows, _, err := s.Status(cmd.Context(), ms, opts)
	if err != nil {
		return rm.done(err, false)
	}
	if f.output == "json" {
		doc := struct {
			FormatVersion string     `json:"format_version"`
			Endpoints     []plan.Row `json:"endpoints"`
		}{"1", rows}
		return rm.done(a.writeDocument(a.stdout, func(w io.Writer) error {
			enc := json.NewEncoder(w)
			enc.SetIndent("", "  ")
			return enc.Encode(doc)
		}), true)
	}
	return rm.done(writeWhole(a.stdout, func(w io.Writer) error {
		return writeStatus(w, rows, a.width(), time.Now())
	}), true)
}

// width is the terminal's width on stdout, 0 off a terminal.
func (a *app) width() int { return term.Width(a.stdout) }

// writeStatus writes the rows as a table, fitted into width (0: no
// limit) by fit, and no line wider than width.
func writeStatus(w io.Writer, rows []plan.Row, width int, now time.Time) error {
	header := []string{"SET/NAME", "ID", "STATUS", "IP", "SERVICE", "AGE", "PLAN"}
	cells := [][]string{header}
	targets := map[string]bool{}
	for _, r := range rows {
		targets[r.Region+"/"+r.ProjectID] = true
	}
	for _, r := range rows {
		name := r.Set + "/" + r.Name
		if r.Name == "" {
			name = r.Set + "/(no name tag)"
		}
		if len(targets) > 1 {
			name = r.Region + "/" + r.ProjectID[:min(8, len(r.ProjectID))] + ": " + name
		}
		age := ""
		if !r.CreatedAt.IsZero() {
			age = shortAge(now.Sub(r.CreatedAt))
		}
		cells = append(cells, []string{name, dash(r.ID), dash(r.Status), dash(r.IP), dash(r.Service), dash(age), planCell(r)})
	}
	all := slices.Clone(header) // fit deletes from cells[0], which is header
	cells = fit(cells, width)
	var left []string // the columns fit left out
	for _, h := range all {
		if !slices.Contains(cells[0], h) {
			left = append(left, h)
		}
	}
	var b strings.Builder
	widths := columnWidths(cells)
	for _, row := range cells {
		var line strings.Builder
		for i, c := range row {
			if i == len(row)-1 {
				line.WriteString(c)
				break
			}
			line.WriteString(c + strings.Repeat(" ", widths[i]-utf8.RuneCountInString(c)+2))
		}
		b.WriteString(fitLine(line.String(), width) + "\n") // cut: narrower than fit can make it
	}
	if len(left) > 0 {
		b.WriteString(fitLine(fmt.Sprintf("(%s left out to fit %d columns; -o json shows every field)", strings.Join(left, ", "), width), width) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// fitLine cuts s to width runes.
func fitLine(s string, width int) string {
	if width <= 0 || utf8.RuneCountInString(s) <= width {
		return s
	}
	rs := []rune(s)
	return string(rs[:max(width-1, 0)]) + "…"
}

// planCell says what the plan does to a row.
func planCell(r plan.Row) string {
	switch {
	case r.Duplicate && r.Action == plan.Delete:
		return "- delete (duplicate)"
	case !r.Declared && r.Action == plan.Noop:
		return "undeclared (--prune deletes it)"
	case r.Action == plan.Noop && r.Status == "pendingAcceptance":
		return "awaiting approval"
	case r.Action == plan.Noop:
		return "in sync"
	case r.Action == plan.Conflict:
		return "conflict: " + r.Reason
	}
	return fmt.Sprintf("%s %s", r.Action.Symbol(), r.Action)
}

// fit makes the table fit into width, one step at a time until it does:
// it shortens the service and the id (to 9 characters), leaves out the
// service and the IP, shortens the plan, leaves out the age and the id;
// writeStatus cuts what is still too wide. Each step is one pass over the
// cells, whatever the number of rows.
func fit(cells [][]string, width int) [][]string {
	if width <= 0 {
		return cells
	}
	ws := columnWidths(cells)
	total := func() int {
		n := -2
		for _, w := range ws {
			n += w + 2
		}
		return n
	}
	col := func(name string) int { return slices.Index(cells[0], name) }
	shorten := func(name string) {
		c := col(name)
		target := max(9, ws[c]-(total()-width))
		if total() <= width || ws[c] <= target {
			return
		}
		for _, row := range cells[1:] {
			row[c] = fitLine(row[c], target)
		}
		ws[c] = max(target, utf8.RuneCountInString(cells[0][c]))
	}
	drop := func(name string) {
		if total() <= width {
			return
		}
		c := col(name)
		for i, row := range cells {
			cells[i] = slices.Delete(row, c, c+1)
		}
		ws = slices.Delete(ws, c, c+1)
	}
	shorten("SERVICE")
	shorten("ID")
	drop("SERVICE")
	drop("IP")
	shorten("PLAN")
	drop("AGE")
	drop("ID")
	return cells
}

// columnWidths is the widest cell of each column, in runes.
func columnWidths(cells [][]string) []int {
	ws := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			ws[i] = max(ws[i], utf8.RuneCountInString(c))
		}
	}
	return ws
}

func dash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// shortAge is an age as kubectl shows it: 45s, 12m, 3h, 20d. An age
// below zero (created_at ahead of the local clock) shows as 0s.
func shortAge(d time.Duration) string {
	switch {
	case d < 0:
		return "0s"
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}
