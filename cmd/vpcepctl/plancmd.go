package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/internal/term"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/plan"
)

func (a *app) planCommand() *cobra.Command {
	var f planFlags
	var cf clientFlags
	cf.defaults()
	cmd := &cobra.Command{
		Use:   "plan -f PATH... [flags]",
		Short: "Show what apply would change",
		Long: `plan lists the endpoints that exist in every target the manifests name,
resolves their endpoint services, reads the quota, and prints what apply
would do: + create, ~ tag, -/+ replace, & adopt, ^ approve, - delete,
! conflict. --out saves it for apply PLANFILE (and show PLANFILE).

Exit status: 0 success (with --detailed-exitcode: in sync), 2 declared and
live differ (--detailed-exitcode only: changes, duplicates, conflicts, or
owned endpoints awaiting --prune), 1 API or network failure, 3 invalid
input.`,
		Example: `  vpcepctl plan -f examples/manifests
  vpcepctl plan -f examples/manifests --prune --detailed-exitcode
  vpcepctl plan -f examples/manifests -o json --out plan.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runPlan(cmd, &f, cf)
		},
	}
	f.register(cmd.Flags())
	cf.register(cmd.Flags())
	cmd.Flags().StringVar(&f.out, "out", "", "also save the plan to FILE (JSON), for apply FILE")
	cmd.Flags().BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 2 when declared and live differ (changes, duplicates, conflicts, endpoints awaiting --prune), 0 when in sync")
	return cmd
}

func noArgs(_ *cobra.Command, args []string) error {
	if len(args) > 0 {
		return usageError{fmt.Errorf("unexpected argument %q: manifests are given with -f", args[0])}
	}
	return nil
}

func (a *app) runPlan(cmd *cobra.Command, f *planFlags, cf clientFlags) (err error) {
	// Metrics first: a run that fails on its input is still pushed, so a
	// broken manifest in a cron job is seen.
	rm, err := a.startMetrics()
	if err != nil {
		return err
	}
	opts, err := a.planOptions(f)
	if err == nil {
		err = cf.check()
	}
	if err == nil {
		err = a.checkOutput("--out", f.out)
	}
	if err != nil {
		return rm.done(err, false)
	}
	ms, err := a.loadTargeted(f, opts)
	if err != nil {
		return rm.done(err, false)
	}
	rm.group("plan", ms, nil, opts)
	p, err := a.plan(cmd, rm, ms, opts, cf)
	if err != nil {
		return rm.done(err, false)
	}
	if f.out != "" {
		data, err := render(func(w io.Writer) error { return plan.WriteJSON(w, p) })
		if err == nil {
			err = a.writeOutput("--out", f.out, privateMode, data)
		}
		if err != nil {
			return rm.done(&exitError{exitFailure, err}, false)
		}
	}
	if err := a.printPlan(p, f.output, a.stdout); err != nil {
		return rm.done(err, false)
	}
	if f.out != "" {
		a.say(fmt.Sprintf("Saved the plan to %s. Apply exactly this plan with: %s", f.out, applyLine(cmd, f.out)))
	}
	if f.detailedExitcode && p.Differs() {
		return rm.done(&exitError{code: exitChanges}, true)
	}
	return rm.done(nil, true)
}

// plan connects, observes and diffs.
func (a *app) plan(cmd *cobra.Command, rm *runMetrics, ms []*manifests.Manifest, opts plan.Options, cf clientFlags) (*plan.Plan, error) {
	s, closeSession, err := a.open(cmd.Context(), cf, rm.m)
	if err != nil {
		return nil, err
	}
	defer closeSession()
	return s.Plan(cmd.Context(), ms, opts)
}

// printPlan writes the plan to w. In JSON, the warnings (quota, owned
// endpoints left for --prune) that only the text shows go to stderr.
func (a *app) printPlan(p *plan.Plan, format string, w io.Writer) error {
	if format == "json" {
		if p.Unpruned > 0 {
			a.warn(fmt.Sprintf("%d owned endpoint(s) no longer declared; --prune deletes them", p.Unpruned))
		}
		for _, wn := range p.Warnings {
			a.warn(wn)
		}
		return a.writeDocument(w, func(b io.Writer) error { return plan.WriteJSON(b, p) })
	}
	return writeWhole(w, func(b io.Writer) error { return plan.WriteText(b, p, plan.TextOptions{Color: a.color(w)}) })
}

// writeWhole renders a document and writes it in one Write, so that the
// redacting stream sees every secret whole.
func writeWhole(w io.Writer, render func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := render(&buf); err != nil {
		return err
	}
	_, err := w.Write(buf.Bytes())
	return err
}

// planAttrs are a plan's counts as log attributes.
func planAttrs(p *plan.Plan) []any {
	var attrs []any
	for _, act := range plan.Actions {
		attrs = append(attrs, string(act), p.Summary.Count(act))
	}
	return append(attrs, "duplicates", p.Duplicates, "unpruned", p.Unpruned)
}

// writeDocument writes a JSON document in one Write: indented on a
// terminal, compact (one line) otherwise.
func (a *app) writeDocument(w io.Writer, write func(io.Writer) error) error {
	return writeWhole(w, func(b io.Writer) error {
		if term.IsTerminal(w) {
			return write(b)
		}
		var pretty bytes.Buffer
		if err := write(&pretty); err != nil {
			return err
		}
		if err := json.Compact(b.(*bytes.Buffer), pretty.Bytes()); err != nil {
			return err
		}
		_, err := io.WriteString(b, "\n")
		return err
	})
}
