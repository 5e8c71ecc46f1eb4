package main

import (
	"bytes"
	"fmt"
	"io"

	"github.com/spf13/cobra"

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
would do: + create, ~ tag, -/+ replace, & adopt, - delete, ! conflict.

Exit status: 0 success (with --detailed-exitcode: no changes), 2 changes
pending (--detailed-exitcode only), 1 API or network failure, 3 invalid input.`,
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
	cmd.Flags().BoolVar(&f.detailedExitcode, "detailed-exitcode", false, "exit 2 when there are changes, 0 when there are none")
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
	ms, err := a.loadManifests(f.files)
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
	if f.detailedExitcode && p.Summary.Changes() > 0 {
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
			fmt.Fprintf(a.stderr, "vpcepctl: warning: %d owned endpoint(s) no longer declared; --prune deletes them\n", p.Unpruned)
		}
		for _, wn := range p.Warnings {
			fmt.Fprintf(a.stderr, "vpcepctl: warning: %s\n", wn)
		}
		return writeWhole(w, func(b io.Writer) error { return plan.WriteJSON(b, p) })
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
