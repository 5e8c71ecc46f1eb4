package main

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/plan"
)

func (a *app) showCommand() *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "show PLANFILE [-o text|json]",
		Short: "Print a saved plan",
		Long: `show prints a plan file saved by plan --out, as plan printed it (or its JSON
document), with how it was made and the command that applies it. It reads
the file only: no credentials, no request.`,
		Example: `  vpcepctl --sim plan -f examples/manifests --out plan.json
  vpcepctl show plan.json
  vpcepctl show plan.json -o json`,
		Args: func(_ *cobra.Command, args []string) error {
			if len(args) != 1 {
				return usageError{fmt.Errorf("show takes one plan file, got %d arguments", len(args))}
			}
			return nil
		},
		ValidArgsFunction: completePlanFile,
		RunE: func(cmd *cobra.Command, args []string) error {
			if output != "text" && output != "json" {
				return invalid(fmt.Errorf("--output %q: want text or json", output))
			}
			p, err := readPlanFile(args[0], "show")
			if err != nil {
				return err
			}
			if output == "json" {
				return a.writeDocument(a.stdout, func(w io.Writer) error { return plan.WriteJSON(w, p) })
			}
			if err := a.printPlan(p, "text", a.stdout); err != nil {
				return err
			}
			a.say(fmt.Sprintf("Made %s. Apply it with: %s", madeWith(&p.Scope), applyLine(cmd, args[0])))
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "text", "output format: text or json")
	return cmd
}

// madeWith says how a plan was made: its flags and targets.
func madeWith(s *plan.Scope) string {
	var flags []string
	for _, f := range []struct {
		name string
		on   bool
	}{{"--adopt", s.Adopt}, {"--prune", s.Prune}, {"--allow-replace", s.AllowReplace}, {"--approve", s.Approve}} {
		if f.on {
			flags = append(flags, f.name)
		}
	}
	if s.Shard != "" {
		flags = append(flags, "--shard "+s.Shard)
	}
	for _, v := range s.OnlySets {
		flags = append(flags, "--set "+v)
	}
	for _, v := range s.OnlyNames {
		flags = append(flags, "--name "+v)
	}
	var targets []string
	for _, t := range s.Targets {
		targets = append(targets, t.Region+"/"+t.ProjectID+" (sets "+strings.Join(t.Sets, ", ")+")")
	}
	what := "for " + strings.Join(targets, "; ")
	if len(flags) == 0 {
		return what + ", without flags"
	}
	return what + ", with " + strings.Join(flags, " ")
}

// shellQuote quotes s for a shell when it needs quotes.
// applyLine is the command line that applies the plan file path: with
// the global flags of this command line that say where to connect (a
// plan made with --sim applies with --sim), and nothing secret.
func applyLine(cmd *cobra.Command, path string) string {
	words := []string{"vpcepctl"}
	pf := cmd.Root().PersistentFlags()
	for _, name := range []string{"sim", "sim-state", "cloud", "endpoint", "region", "project-id", "cacert", "insecure"} {
		f := pf.Lookup(name)
		switch {
		case f == nil || !f.Changed:
		case f.Value.Type() == "bool":
			if f.Value.String() == "true" {
				words = append(words, "--"+name)
			}
		default:
			words = append(words, "--"+name, shellQuote(f.Value.String()))
		}
	}
	return strings.Join(append(words, "apply", shellQuote(path), "--yes"), " ")
}

func shellQuote(s string) string {
	if s != "" && strings.IndexFunc(s, func(r rune) bool {
		return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./=:@%+,", r))
	}) < 0 {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
