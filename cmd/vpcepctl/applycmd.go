package main

import (
	"bufio"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/plan"
	"github.com/vpcepctl/vpcepctl/vpcep"
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
trouble), 3 invalid input or stale plan, 130/143 interrupted.`,
		Example: `  vpcepctl apply -f manifests/ --yes
  vpcepctl apply -f manifests/ --prune --rate 5 --report report.json
  vpcepctl plan -f manifests/ --out plan.json && vpcepctl apply plan.json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) > 1 {
				return usageError{fmt.Errorf("apply takes at most one plan file, got %d arguments", len(args))}
			}
			return nil
		},
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
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	fs.StringVar(&f.report, "report", "", "write the report (JSON) to FILE")
	fs.IntVar(&f.client.concurrency, "concurrency", f.client.concurrency, "requests in flight at most (workers)")
	f.client.register(fs)
	fs.BoolVar(&f.wait, "wait", true, "wait until created endpoints are accepted (or pendingAcceptance) and deleted ones are gone")
	fs.BoolVar(&f.noWait, "no-wait", false, "do not wait (same as --wait=false)")
	fs.DurationVar(&f.waitTimeout, "wait-timeout", 10*time.Minute, "how long to wait for one endpoint")
	fs.DurationVar(&f.pollEvery, "poll-interval", 5*time.Second, "how often to poll the status while waiting")
	fs.BoolVar(&f.failFast, "fail-fast", false, "stop dispatching after the first failure")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "after SIGINT/SIGTERM, how long requests in flight may take to finish")
	fs.DurationVar(&f.commitWindow, "commit-window", time.Minute, "after a create's answer was lost, how long it may still appear (a late commit): apply looks for it that long before sending it again")
	return cmd
}

func (a *app) runApply(cmd *cobra.Command, f *applyFlags, planFile string) error {
	ctx := cmd.Context()
	rm, err := a.startMetrics()
	if err != nil {
		return err
	}
	ms, saved, opts, err := a.applyInput(f, planFile)
	if err != nil {
		return rm.done(err, false)
	}
	a.groupMetrics(rm, "apply", ms, saved, opts)
	s, err := a.connect(ctx, f.client, rm.m)
	if err != nil {
		return rm.done(err, false)
	}
	defer s.close()

	var p *plan.Plan
	if saved != nil {
		p, err = s.checkFresh(ctx, saved)
	} else {
		p, _, err = s.makePlan(ctx, ms, opts)
	}
	if err != nil {
		return rm.done(err, false)
	}
	planOut := a.stdout
	if f.output == "json" {
		planOut = a.stderr
	}
	if err := a.printPlan(p, "text", planOut); err != nil {
		return rm.done(err, false)
	}
	if p.Summary.Changes() == 0 {
		fmt.Fprintln(a.stderr, "No changes to apply.")
		rep := apply.New(nil, apply.Options{Metrics: rm.m}).Run(ctx, p) // conflicts count as skipped
		err := a.writeReport(rep, f)
		return rm.done(err, err == nil && rep.OK())
	}
	if planFile == "" && !f.yes && isTerminal(a.stdin) {
		ok, err := confirm(a.stdin, a.stderr, p)
		if err != nil || !ok {
			return rm.done(&exitError{exitFailure, errors.New("apply cancelled")}, false)
		}
	}
	prog := a.newProgress()
	rep := apply.New(s.apis(), apply.Options{
		Concurrency:  f.client.concurrency,
		CommitWindow: f.commitWindow,
		Resends:      cmp.Or(f.client.maxRetries, -1), // --max-retries 0: none
		Wait:         f.wait && !f.noWait,
		WaitTimeout:  f.waitTimeout,
		PollInterval: f.pollInterval(a.sim),
		FailFast:     f.failFast,
		Grace:        f.grace,
		Logger:       a.log,
		Metrics:      rm.m,
		Progress:     prog.update,
	}).Run(ctx, p)
	prog.finish()
	err = a.writeReport(rep, f)
	if err == nil && !rep.OK() && !rep.Interrupted {
		err = &exitError{code: exitFailure, err: fmt.Errorf("%d of %d changes failed", rep.Summary.Failed, len(rep.Results))}
	}
	return rm.done(err, err == nil && rep.OK())
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
		saved, err := readPlanFile(planFile)
		if err == nil {
			err = checkPlanFlags(opts, &saved.Scope)
		}
		return nil, saved, opts, err
	}
	ms, err := a.loadManifests(f.files)
	return ms, nil, opts, err
}

func (f *applyFlags) pollInterval(sim bool) time.Duration {
	if sim && f.pollEvery == 5*time.Second {
		return 250 * time.Millisecond // the simulator settles in half a second
	}
	return f.pollEvery
}

func (a *app) writeReport(rep *apply.Report, f *applyFlags) error {
	fmt.Fprintln(a.stderr, rep.SummaryLine())
	for _, r := range rep.Results {
		if r.Error != "" && r.Action != string(plan.Conflict) && !strings.HasPrefix(r.Error, "not started") {
			id := ""
			if r.ID != "" {
				id = " " + r.ID
			}
			fmt.Fprintf(a.stderr, "  failed: %s/%s%s: %s\n", r.Set, r.Name, id, r.Error)
		}
	}
	var errs []error
	if f.report != "" {
		if err := a.writeOutput("--report", f.report, privateMode, rep.WriteJSON); err != nil {
			errs = append(errs, err)
		}
	}
	if f.output == "json" {
		if err := rep.WriteJSON(a.stdout); err != nil {
			errs = append(errs, err)
		}
	}
	if len(errs) > 0 {
		return &exitError{exitFailure, errors.Join(errs...)}
	}
	return nil
}

func readPlanFile(path string) (*plan.Plan, error) {
	fh, err := os.Open(path)
	if err != nil {
		return nil, invalid(fmt.Errorf("plan file: %w", err))
	}
	defer fh.Close()
	p, err := plan.Read(fh)
	if err != nil {
		hint := ""
		if ext := strings.ToLower(filepath.Ext(path)); ext == ".yaml" || ext == ".yml" {
			hint = "; to apply manifests, give them with -f " + path
		}
		return nil, invalid(fmt.Errorf("%s: %w%s", path, err, hint))
	}
	return p, nil
}

// checkFresh lists the plan's targets again and checks the saved plan
// against what exists now, before anything is sent: its fingerprint
// (stale: the refusal names what changed), each change's ownership (an
// edited file), and its creates against the quota read now.
func (s *session) checkFresh(ctx context.Context, p *plan.Plan) (*plan.Plan, error) {
	observed := map[plan.Target][]vpcep.Endpoint{}
	quotas := map[plan.Target]*vpcep.Quota{}
	var inputs []plan.Input
	for _, t := range p.Targets {
		c, rt, err := s.client(ctx, t)
		if err != nil {
			return nil, err
		}
		q, err := c.EndpointQuota(ctx)
		if err != nil {
			s.a.log.Warn("quota not read; the plan's creates cannot be checked against it", "target", rt.String(), "err", err)
		}
		bound := 0
		if q != nil {
			bound, quotas[rt] = otc.ListBound(q.Quota), q
		}
		eps, err := c.ListEndpoints(ctx, otc.ListOptions{MaxEndpoints: bound})
		if err != nil {
			return nil, fmt.Errorf("%s: %w", rt, err)
		}
		observed[rt] = eps
		inputs = append(inputs, plan.Input{Target: rt, Observed: eps})
	}
	if err := p.CheckFresh(observed); err != nil {
		return nil, invalid(fmt.Errorf("%w; run plan again", err))
	}
	if err := p.CheckChanges(observed); err != nil {
		return nil, invalid(err)
	}
	p.Warnings = p.QuotaWarnings(quotas)
	sets := map[string]bool{}
	for _, ts := range p.Scope.Targets {
		for _, set := range ts.Sets {
			sets[set] = true
		}
	}
	s.observeCounts(inputs, sets, p)
	return p, nil
}

// checkPlanFlags refuses flags that would make a plan other than the one
// in the file: the file records how it was made, and applies as made.
func checkPlanFlags(opts plan.Options, sc *plan.Scope) error {
	var bad []string
	if opts.Shard.N > 1 && opts.Shard.String() != sc.Shard {
		made := sc.Shard
		if made == "" {
			made = "no shard"
		}
		bad = append(bad, fmt.Sprintf("--shard %s (the plan was made with %s)", opts.Shard, made))
	}
	for _, f := range []struct {
		name      string
		given, in bool
	}{{"--adopt", opts.Adopt, sc.Adopt}, {"--prune", opts.Prune, sc.Prune}, {"--allow-replace", opts.AllowReplace, sc.AllowReplace}} {
		if f.given && !f.in {
			bad = append(bad, f.name+" (the plan was made without it)")
		}
	}
	if len(bad) > 0 {
		return invalid(fmt.Errorf("a plan file applies as it was made: %s; make a new plan with the flags you want", strings.Join(bad, ", ")))
	}
	return nil
}

func confirm(in io.Reader, out io.Writer, p *plan.Plan) (bool, error) {
	fmt.Fprintf(out, "Apply %d changes? Only 'yes' is accepted: ", p.Summary.Changes())
	line, err := bufio.NewReader(in).ReadString('\n')
	if err != nil && line == "" {
		return false, err
	}
	return strings.TrimSpace(line) == "yes", nil
}

// groupMetrics sets the push grouping: the command (plan or apply), set
// when the run covers one set (from the manifests, or from a plan file's
// changes), shard when sharded.
//
// command deviates from DESIGN.md's grouping key (job, set, shard): with
// the key alone, an hourly "plan --pushgateway" drift monitor replaces the
// nightly apply's families in the same group, so a failing apply would
// look successful (its vpcepctl_last_success_timestamp_seconds and
// vpcepctl_changes_total{result="failed"} overwritten within the hour).
func (a *app) groupMetrics(rm *runMetrics, command string, ms []*manifests.Manifest, saved *plan.Plan, opts plan.Options) {
	rm.group("command", command)
	sets := map[string]bool{}
	for _, m := range ms {
		sets[m.Set] = true
	}
	shard := opts.Shard
	if saved != nil {
		for _, ts := range saved.Scope.Targets {
			for _, set := range ts.Sets {
				sets[set] = true
			}
		}
		shard, _ = saved.Scope.ShardOf()
	}
	if len(sets) == 1 {
		for s := range sets {
			rm.group("set", s)
		}
	}
	if shard.N > 1 {
		rm.group("shard", shardLabel(shard.I))
	}
}
