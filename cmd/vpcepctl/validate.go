package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/manifests"
)

func (a *app) validateCommand() *cobra.Command {
	var files []string
	cmd := &cobra.Command{
		Use:   "validate -f PATH...",
		Short: "Check manifests offline",
		Long: `validate checks manifests without calling any API: syntax, unknown and
missing fields, ids, addresses, tags, duplicate names and sets. Every
problem is listed, one per line, as FILE:LINE:COL: message.
Checks that need the endpoint service's type run in plan and apply.

Exit status: 0 valid, 3 invalid.`,
		Example: `  vpcepctl validate -f examples/manifests
  vpcepctl validate -f examples/manifests/payments.yaml -f examples/manifests/storage.yaml
  cat examples/manifests/payments.yaml | vpcepctl validate -f -`,
		Args: noArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			ms, err := a.loadManifests(files)
			if err != nil {
				return err
			}
			sets := map[string]bool{}
			for _, m := range ms {
				sets[m.Set] = true
			}
			fmt.Fprintf(a.stdout, "%d endpoints in %d sets (%d documents): valid.\n", manifests.Count(ms), len(sets), len(ms))
			return nil
		},
	}
	cmd.Flags().StringArrayVarP(&files, "filename", "f", nil, "manifest file, directory or - for stdin; repeatable")
	return cmd
}
