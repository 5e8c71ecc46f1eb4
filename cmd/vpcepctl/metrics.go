package main

// Metrics of a command: the flags that say where they go (--metrics-addr,
// --pushgateway, --pushgateway-password-file, --metrics-file), mapped to a
// metrics.Run. The policy (what is pushed when, what a failed run keeps)
// is package metrics'.

import (
	"encoding/base64"
	"errors"
	"fmt"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/outfile"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/plan"
)

// runMetrics is the metrics side of one command.
type runMetrics struct {
	a    *app
	run  *metrics.Run
	m    *metrics.Metrics
	push *metrics.PushTarget // nil: no --pushgateway
}

// pushTarget parses --pushgateway and reads --pushgateway-password-file.
// The password becomes one of the run's secrets; one given on the command
// line is warned about (every user of the machine can read it).
func (a *app) pushTarget() (*metrics.PushTarget, error) {
	pt, err := metrics.ParsePushURL(a.pushURL)
	if err != nil {
		return nil, fmt.Errorf("--pushgateway: %w", err)
	}
	if pt.Pass != "" && a.pushFromArgv {
		a.log.Warn("the --pushgateway URL on the command line carries a password, which other users of this machine can read; " +
			"set VPCEPCTL_PUSHGATEWAY or --pushgateway-password-file instead")
	}
	if a.pushPassF != "" {
		if pt.Pass != "" {
			return nil, errors.New("--pushgateway carries a password and --pushgateway-password-file gives one: give one of them")
		}
		b, err := os.ReadFile(a.pushPassF)
		if err != nil {
			return nil, fmt.Errorf("--pushgateway-password-file %s: %w", a.pushPassF, outfile.CleanError(err))
		}
		pt.Pass = strings.TrimRight(string(b), "\r\n")
		if pt.Pass == "" {
			return nil, fmt.Errorf("--pushgateway-password-file %s: the file is empty", a.pushPassF)
		}
		pt.Auth = true
	}
	a.redactor.Add(pt.Pass, basicAuth(pt.User, pt.Pass))
	return pt, nil
}

// startMetrics starts the metrics of a command: checks where they go
// (before any API call) and serves them on --metrics-addr.
func (a *app) startMetrics() (*runMetrics, error) {
	run := metrics.NewRun()
	rm := &runMetrics{a: a, run: run, m: run.Metrics}
	if a.pushURL != "" {
		pt, err := a.pushTarget()
		if err != nil {
			return nil, invalid(err)
		}
		rm.push = pt
	} else if a.pushPassF != "" {
		return nil, invalid(errors.New("--pushgateway-password-file needs --pushgateway"))
	}
	if n := a.redactor.Unredacted(); n > 0 {
		a.log.Warn(fmt.Sprintf("%d secret(s) of this run (a password, a token) are words vpcepctl writes itself; "+
			"they are not redacted from its output, which they would garble: choose stronger ones", n))
	}
	if err := a.checkOutput("--metrics-file", a.metricsOut); err != nil {
		return nil, err
	}
	if a.metricsAdr != "" {
		addr, err := run.Serve(a.metricsAdr)
		if err != nil {
			return nil, invalid(fmt.Errorf("--metrics-addr %s: %w", a.metricsAdr, err))
		}
		a.log.Info("serving metrics", "addr", addr.String())
	}
	return rm, nil
}

// finish records the run, pushes and writes the metrics and stops serving
// them. success sets vpcepctl_last_success_timestamp_seconds. The error is
// a push or write failure.
func (rm *runMetrics) finish(success bool) error {
	rm.m.Finish(rm.run.Start, time.Now(), success)
	return rm.run.Deliver(metrics.Delivery{Push: rm.push, File: rm.a.metricsOut}, success, func(msg string, err error) {
		rm.a.log.Warn(msg, "path", rm.a.metricsOut, "err", err)
	})
}

// done ends a command: it finishes the metrics and folds a metrics failure
// into the result. A push or write that fails is always logged, and
// changes the exit status only when the run itself succeeded with 0; any
// other outcome (a failure, an interruption, plan --detailed-exitcode's 2)
// keeps its own status, which already says more.
func (rm *runMetrics) done(err error, success bool) error {
	merr := rm.finish(success)
	if merr == nil {
		return err
	}
	rm.a.log.Error("metrics not delivered", "err", merr)
	if err == nil && success {
		return &exitError{exitFailure, merr}
	}
	return err
}

// groupMetrics sets the push grouping: the command (plan or apply), set
// when the run covers one set (from the manifests, or from a plan file's
// scope), shard when sharded.
//
// command goes beyond DESIGN.md's first grouping key (job, set, shard):
// with that key alone, an hourly "plan --pushgateway" drift monitor would
// replace the nightly apply's families in the same group, so a failing
// apply would look successful.
func (rm *runMetrics) group(command string, ms []*manifests.Manifest, saved *plan.Plan, opts plan.Options) {
	rm.run.Group("command", command)
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
	only, names := opts.Sets, opts.Names
	if saved != nil {
		only, names = saved.Scope.OnlySets, saved.Scope.OnlyNames
	}
	if len(only) > 0 && len(names) == 0 { // --set narrows the run to its sets
		sets = map[string]bool{}
		for _, s := range only {
			sets[s] = true
		}
	}
	if len(sets) == 1 {
		for s := range sets {
			rm.run.Group("set", s)
		}
	}
	if shard.N > 1 {
		rm.run.Group("shard", strconv.Itoa(shard.I))
	}
}

// basicAuth is the Authorization header's credentials (a server may echo
// them): "" without a password.
func basicAuth(user, pass string) string {
	if pass == "" {
		return ""
	}
	return base64.StdEncoding.EncodeToString([]byte(user + ":" + pass))
}
