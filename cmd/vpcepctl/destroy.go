package main

import (
	"time"

	"github.com/spf13/cobra"
)

func (a *app) destroyCommand() *cobra.Command {
	f := applyFlags{planFlags: planFlags{destroy: true}, commitWindow: time.Minute}
	f.client.defaults()
	cmd := &cobra.Command{
		Use:   "destroy -f PATH... [flags]",
		Short: "Delete every endpoint the declared sets own",
		Long: `destroy deletes every endpoint that carries the set tag of a set the
manifests declare (in their region and project): the declared endpoints,
their duplicates, those no longer declared and those that lost their name
tag. Nothing else: never another set's endpoint, never an unmanaged one.
--set and --name narrow it. It prints the plan first, asks for
confirmation on a terminal, and runs it as apply does (same worker pool,
rate limit, report, metrics and exit codes); off a terminal it refuses to
run without --yes.

Exit status: 0 all deleted, 1 some failed (or API/network trouble), 3
invalid input or no --yes off a terminal, 130/143 interrupted.`,
		Example: `  vpcepctl destroy -f examples/manifests --set storage --yes
  vpcepctl destroy -f examples/manifests --name payments/billing --yes --report report.json`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runApply(cmd, &f, "")
		},
	}
	fs := cmd.Flags()
	fs.StringArrayVarP(&f.files, "filename", "f", nil, "manifest file, directory (recursive *.yaml, *.yml) or - for stdin; repeatable")
	f.registerTargeting(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json (the report)")
	fs.BoolVarP(&f.yes, "yes", "y", false, "do not ask for confirmation")
	fs.StringVar(&f.report, "report", "", "write the report (JSON) to FILE")
	fs.IntVar(&f.client.concurrency, "concurrency", f.client.concurrency, "requests in flight at most (workers)")
	f.client.register(fs)
	fs.BoolVar(&f.wait, "wait", true, "wait until deleted endpoints are gone")
	fs.BoolVar(&f.noWait, "no-wait", false, "do not wait (same as --wait=false)")
	fs.DurationVar(&f.waitTimeout, "wait-timeout", 10*time.Minute, "how long to wait for one endpoint")
	fs.DurationVar(&f.pollEvery, "poll-interval", 10*time.Second, "the longest gap between status polls while waiting (they start after 1s and back off to it)")
	fs.BoolVar(&f.failFast, "fail-fast", false, "stop dispatching after the first failure")
	fs.DurationVar(&f.grace, "grace", 30*time.Second, "after SIGINT/SIGTERM, how long requests in flight may take to finish")
	return cmd
}
