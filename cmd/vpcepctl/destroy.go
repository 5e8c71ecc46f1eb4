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
	f.registerFiles(fs)
	f.registerTargeting(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json (the report)")
	f.registerRun(fs, "wait until deleted endpoints are gone")
	return cmd
}
