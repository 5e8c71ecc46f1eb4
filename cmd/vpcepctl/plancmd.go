package main

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

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
		Example: `  vpcepctl plan -f manifests/
  vpcepctl plan -f manifests/ --prune --detailed-exitcode
  vpcepctl plan -f manifests/ -o json --out plan.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runPlan(cmd, &f, cf)
		},
	}
	f.register(cmd.Flags())
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
	opts, err := a.planOptions(f)
	if err != nil {
		return err
	}
	ms, err := a.loadManifests(f.files)
	if err != nil {
		return err
	}
	rm, err := a.startMetrics()
	if err != nil {
		return err
	}
	a.groupMetrics(rm, ms, nil, opts)
	p, err := a.plan(cmd, rm, ms, opts, cf)
	if err != nil {
		return rm.done(err, false)
	}
	if f.out != "" {
		if err := writeFileAtomic(f.out, func(w io.Writer) error { return plan.WriteJSON(w, p) }); err != nil {
			return rm.done(&exitError{exitFailure, fmt.Errorf("--out: %w", err)}, false)
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
	s, err := a.connect(cmd.Context(), cf, rm.m)
	if err != nil {
		return nil, err
	}
	defer s.close()
	p, _, err := s.makePlan(cmd.Context(), ms, opts)
	return p, err
}

func (a *app) printPlan(p *plan.Plan, format string, w io.Writer) error {
	if format == "json" {
		return plan.WriteJSON(w, p)
	}
	return plan.WriteText(w, p, plan.TextOptions{Color: a.color(w)})
}

// writeFileAtomic writes a file through a temporary file and a rename, so
// a reader never sees half a file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
