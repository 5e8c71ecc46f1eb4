package main

import (
	"errors"
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
	if err == nil && f.out != "" {
		err = checkWritable("--out", f.out)
	}
	if err != nil {
		return rm.done(err, false)
	}
	ms, err := a.loadManifests(f.files)
	if err != nil {
		return rm.done(err, false)
	}
	a.groupMetrics(rm, "plan", ms, nil, opts)
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
		return plan.WriteJSON(w, p)
	}
	return plan.WriteText(w, p, plan.TextOptions{Color: a.color(w)})
}

// checkWritable fails early (before any API call) when a file named by a
// flag cannot be written: its directory must exist.
func checkWritable(flag, path string) error {
	if path == "-" || isSpecialFile(path) {
		return nil
	}
	dir := filepath.Dir(path)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return invalid(fmt.Errorf("%s %s: directory %s does not exist", flag, path, dir))
	}
	return nil
}

// isSpecialFile reports whether path exists and is not a regular file
// (/dev/stdout, a pipe): such a file is written in place, not replaced.
func isSpecialFile(path string) bool {
	fi, err := os.Stat(path)
	return err == nil && !fi.Mode().IsRegular()
}

// writeFileAtomic writes a file through a temporary file and a rename, so
// a reader never sees half a file.
func writeFileAtomic(path string, write func(io.Writer) error) error {
	if isSpecialFile(path) {
		fh, err := os.OpenFile(path, os.O_WRONLY, 0)
		if err != nil {
			return cleanPathError(err)
		}
		if err := write(fh); err != nil {
			fh.Close()
			return err
		}
		return fh.Close()
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return cleanPathError(err)
	}
	defer os.Remove(tmp.Name())
	if err := write(tmp); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Chmod(tmp.Name(), 0o644); err != nil {
		return err
	}
	return cleanPathError(os.Rename(tmp.Name(), path))
}

// cleanPathError drops the operation and (temporary) file name of an os
// error: "permission denied" reads better than "open /dir/.f.123: ...".
func cleanPathError(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
