package main

import (
	"bufio"
	"cmp"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/internal/term"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/plan"
)

type applyFlags struct {
	planFlags
	client       clientFlags
	yes          bool
	report       string
	wait         bool
	noWait       bool
	waitTimeout  time.Duration
	pollEvery    time.Duration
	failFast     bool
	grace        time.Duration
	commitWindow time.Duration
}

func (a *app) applyCommand() *cobra.Command {
	var f applyFlags
	f.client.defaults()
	cmd := &cobra.Command{
		Use:   "apply -f PATH... | PLANFILE [flags]",
		Short: "Make the endpoints match the manifests",
		Long: `apply makes a plan (or loads a plan file saved by plan --out), prints it,
and executes it: a worker pool (--concurrency) whose requests share one rate
limiter per target (--rate, --burst) that slows down when the API throttles
and speeds up again while it does not. Creates are never doubled: when a
create's answer is lost, apply looks for the endpoint by its name tag before
sending it again.

A plan file is refused when the endpoints changed since it was made.
apply asks for confirmation only when stdin is a terminal and neither --yes
nor a plan file is given.

Exit status: 0 all planned changes done, 1 some failed (or API/network
trouble), 3 invalid input or stale plan, 4 no failures, but conflicts remain
(the declared state is not reached: a person or a flag must act), 130/143
interrupted.`,
		Example: `  vpcepctl apply -f examples/manifests --yes
  vpcepctl apply -f examples/manifests --yes --prune --rate 5 --report report.json
  vpcepctl plan -f examples/manifests --out plan.json && vpcepctl apply plan.json --yes`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("apply takes at most one plan file, got %d arguments", len(args))}
			}
			return nil
		},
		ValidArgsFunction: completePlanFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			planFile := ""
			if len(args) == 1 {
				planFile = args[0]
			}
			return a.runApply(cmd, &f, planFile)
		},
	}
	fs := cmd.Flags()
	f.register(fs)
	f.registerRun(fs, "wait until created endpoints are accepted (or pendingAcceptance) and deleted ones are gone")
	fs.DurationVar(&f.commitWindow, "commit-window", time.Minute, "after a create's answer was lost, how long it may still appear (a late commit): apply looks for it that long before sending it again")
	return cmd
}

// registerRun registers the flags of a run that changes endpoints (apply
// and destroy): confirmation, report, the pool and the client, waiting,
// stopping. wait is --wait's help.
func (f *applyFlags) registerRun(fs *pflag.FlagSet, wait string) {
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	fs.StringVar(&f.report, "report", "", "write the report (JSON) to FILE")
	fs.IntVar(&f.client.concurrency, "concurrency", f.client.concurrency, "requests in flight at most (workers)")
	f.client.register(fs)
	fs.BoolVar(&f.wait, "wait", true, wait)
	fs.BoolVar(&f.noWait, "no-wait", false, "do not wait (same as --wait=false)")
	fs.DurationVar(&f.waitTimeout, "wait-timeout", 10*time.Minute, "how long to wait for one endpoint")
	fs.DurationVar(&f.pollEvery, "poll-interval", 10*time.Second, "the longest gap between status polls while waiting (they start after 1s and back off to it)")
	fs.BoolVar(&f.failFast, "fail-fast", false, "stop dispatching after the first failure")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "after SIGINT/SIGTERM, how long requests in flight may take to finish")
}

func (a *app) runApply(cmd *cobra.Command, f *applyFlags, planFile string) error {
	ctx := cmd.Context()
	rm, err := a.startMetrics()
	if err != nil {
		return err
	}
	ms, saved, opts, err := a.applyInput(f, planFile)
	command := cmd.Name()
	if err == nil && !f.yes && !term.IsTerminal(a.stdin) {
		err = invalid(fmt.Errorf("%s changes endpoints and stdin is not a terminal to confirm it: give --yes (as cron jobs, CI and Kubernetes jobs must)", command))
	}
	if err != nil {
		return rm.done(err, false)
	}
	rm.group(command, ms, saved, opts)
	s, closeSession, err := a.open(ctx, f.client, rm.m)
	if err != nil {
		return rm.done(err, false)
	}
	defer closeSession()

	var p *plan.Plan
	if saved != nil {
		p, err = s.Recheck(ctx, saved)
	} else {
		p, err = s.Plan(ctx, ms, opts)
	}
	if err == nil {
		err = a.showPlan(p, f, planFile, command)
	}
	if err != nil {
		return rm.done(err, false)
	}
	prog := a.newProgress(len(p.Changes))
	rep := s.Apply(ctx, p, apply.Options{
		Concurrency:  f.client.concurrency,
		CommitWindow: f.commitWindow,
		Wait:         f.wait && !f.noWait,
		WaitTimeout:  f.waitTimeout,
		PollInterval: f.pollEvery,
		FailFast:     f.failFast,
		Grace:        f.grace,
		Progress:     prog.event,
	})
	prog.finish()
	if command == "destroy" {
		rep.Title = "Destroy"
	}
	err = a.writeReport(rep, f)
	if err == nil {
		err = applyOutcome(rep)
	}
	return rm.done(err, err == nil && rep.OK())
}

// showPlan prints the plan apply is about to execute (on stdout; on
// stderr when stdout takes the JSON report, as a log record when stderr
// is JSON) and asks for confirmation on a terminal.
func (a *app) showPlan(p *plan.Plan, f *applyFlags, planFile, command string) error {
	switch {
	case f.output != "json":
		if err := a.printPlan(p, "text", a.stdout); err != nil {
			return err
		}
	case a.logFormat == "json":
		a.log.Info("plan", planAttrs(p)...)
	default:
		if err := a.printPlan(p, "text", a.stderr); err != nil {
			return err
		}
	}
	if p.Summary.Changes() > 0 && planFile == "" && !f.yes && term.IsTerminal(a.stdin) {
		ok, err := confirm(a.stdin, a.stderr, p, command)
		if err != nil || !ok {
			return &exitError{exitFailure, errors.New(command + " cancelled")}
		}
	}
	switch {
	case p.Summary.Changes() > 0:
	case command == "destroy" && (len(p.Scope.OnlySets) > 0 || len(p.Scope.OnlyNames) > 0 || p.Scope.Shard != ""):
		a.say("Nothing to destroy: the declared sets own no endpoints in the selection (--set, --name, --shard).")
	case command == "destroy":
		a.say("Nothing to destroy: the declared sets own no endpoints here.")
	default:
		a.say("No changes to apply.")
	}
	return nil
}

// applyOutcome is the exit status of a run that wrote its report: 1 when
// changes failed, 4 when it ended without failures but conflicts remain
// (declared state not reached), else 0. An interrupted run exits with its
// signal's code (see run).
func applyOutcome(rep *apply.Report) error {
	switch {
	case rep.Interrupted:
		return nil
	case rep.Summary.Failed > 0:
		return &exitError{exitFailure, fmt.Errorf("%d of %d changes failed", rep.Summary.Failed, len(rep.Results))}
	case rep.Summary.Conflicts == 0 && rep.Summary.OwnApproval > 0:
		return &exitError{exitConflicts, fmt.Errorf("%d created endpoint(s) await the approval of a service this project owns: "+
			"the declared state is not reached; --approve accepts them", rep.Summary.OwnApproval)}
	case rep.Summary.Conflicts == 1:
		return &exitError{exitConflicts, errors.New("1 conflict remains: the declared state is not reached; " +
			"it needs a person or the flag its reason names (see the plan's ! line)")}
	case rep.Summary.Conflicts > 1:
		return &exitError{exitConflicts, fmt.Errorf("%d conflicts remain: the declared state is not reached; "+
			"each needs a person or the flag its reason names (see the plan's ! lines)", rep.Summary.Conflicts)}
	}
	return nil
}

// applyInput checks the flags and reads the manifests or the plan file,
// before any API call.
func (a *app) applyInput(f *applyFlags, planFile string) ([]*manifests.Manifest, *plan.Plan, plan.Options, error) {
	opts, err := a.planOptions(&f.planFlags)
	if err != nil {
		return nil, nil, opts, err
	}
	if err := f.client.check(); err != nil {
		return nil, nil, opts, err
	}
	if f.client.concurrency < 1 {
		return nil, nil, opts, invalid(errors.New("--concurrency must be at least 1"))
	}
	if err := a.checkOutput("--report", f.report); err != nil {
		return nil, nil, opts, err
	}
	if planFile != "" && len(f.files) > 0 {
		return nil, nil, opts, invalid(errors.New("give either -f manifests or a plan file, not both"))
	}
	if planFile != "" {
		saved, err := readPlanFile(planFile, "apply")
		if err == nil {
			err = saved.Scope.Check(opts)
		}
		return nil, saved, opts, err
	}
	ms, err := a.loadTargeted(&f.planFlags, opts)
	return ms, nil, opts, err
}

// writeReport tells the report: its summary and failures on stderr (log
// records when stderr is JSON), the document in --report and, with -o
// json, on stdout (compact unless stdout is a terminal).
func (a *app) writeReport(rep *apply.Report, f *applyFlags) error {
	if a.logFormat == "json" {
		s := rep.Summary
		a.log.Info(strings.ToLower(cmp.Or(rep.Title, "apply"))+" finished", "succeeded", s.Succeeded, "awaiting_approval", s.AwaitingApproval, "failed", s.Failed,
			"skipped", s.Skipped, "conflicts", s.Conflicts, "took", rep.FinishedAt.Sub(rep.StartedAt).Round(time.Millisecond).String())
	} else if err := rep.WriteText(a.stderr); err != nil {
		return err
	}
	var errs []error
	if f.report != "" {
		data, err := render(rep.WriteJSON)
		if err == nil {
			err = a.writeOutput("--report", f.report, privateMode, data)
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	if f.output == "json" {
		if err := a.writeDocument(a.stdout, rep.WriteJSON); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &exitError{exitFailure, errors.Join(errs...)}
	}
	return nil
}

// readPlanFile reads the plan file of apply or show (command). Given
// manifests instead, a YAML file or a directory, it says how command's
// user gives those.
func readPlanFile(path, command string) (*plan.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, invalid(fmt.Errorf("plan file: %w", err))
	}
	defer fh.Close()
	hint := "; to apply manifests, give them with -f " + shellQuote(path)
	if command == "show" {
		hint = "; to see the plan of manifests, run vpcepctl plan -f " + shellQuote(path)
	}
	if fi, err := fh.Stat(); err == nil && fi.IsDir() {
		return nil, invalid(fmt.Errorf("%s is a directory, not a plan file%s", path, hint))
	}
	p, err := plan.Read(fh)
	if err != nil {
		if ext := strings.ToLower(filepath.Ext(path)); ext != ".yaml" && ext != ".yml" {
			hint = ""
		}
		return nil, invalid(fmt.Errorf("%s: %w%s", path, err, hint))
	}
	return p, nil
}

// confirm asks on a terminal: "Apply 3 changes?", or for destroy
// "Destroy 3 endpoints?".
func confirm(in io.Reader, out io.Writer, p *plan.Plan, command string) (bool, error) {
	n := p.Summary.Changes()
	switch {
	case command == "destroy" && n == 1:
		fmt.Fprint(out, "Destroy 1 endpoint? Only 'yes' is accepted: ")
	case command == "destroy":
		fmt.Fprintf(out, "Destroy %d endpoints? Only 'yes' is accepted: ", n)
	case n == 1:
		fmt.Fprint(out, "Apply 1 change? Only 'yes' is accepted: ")
	default:
		fmt.Fprintf(out, "Apply %d changes? Only 'yes' is accepted: ", n)
	}
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, err
	}
	return strings.TrimSpace(line) == "yes", nil
}
