package main

// Shell completion policy: cobra writes the scripts (vpcepctl completion
// SHELL) and answers them (its hidden __complete command); this file says
// what the values of vpcepctl's flags complete to. --set and --name
// complete the sets and SET/NAME that the manifests of -f on the line
// being completed (else $VPCEPCTL_FILENAME) declare, read from local files
// only: no request, no credentials, nothing on stderr, and what a broken
// manifest still declares, or nothing. Flags complete by name on every
// command that has them, so a new command with -f, --set or --name
// completes them as plan does.

import (
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/manifests"
)

func (a *app) completionCommand() *cobra.Command {
	var noDesc bool
	cmd := &cobra.Command{
		Use:   "completion bash|zsh|fish|powershell",
		Short: "Print the shell completion script",
		Long: `completion prints a script that makes the shell complete vpcepctl's
commands and flags, and the values the manifests hold: --set completes
the sets, --name the SET/NAME of the endpoints that the manifests given
with -f on the same line declare (else $VPCEPCTL_FILENAME; read locally,
nothing is sent). -f completes *.yaml and *.yml files and directories,
-o text or json.

For the current shell:

  bash:        source <(vpcepctl completion bash)   (needs the bash-completion package)
  zsh:         source <(vpcepctl completion zsh)    (after compinit)
  fish:        vpcepctl completion fish | source
  PowerShell:  vpcepctl completion powershell | Out-String | Invoke-Expression

Put that line in ~/.bashrc, ~/.zshrc or $PROFILE, or install the script
once for every new shell, as the examples do (for zsh, ~/.zfunc must be
in fpath before compinit: fpath=(~/.zfunc $fpath) in ~/.zshrc).`,
		Example: `  mkdir -p ~/.local/share/bash-completion/completions && vpcepctl completion bash > ~/.local/share/bash-completion/completions/vpcepctl
  mkdir -p ~/.zfunc && vpcepctl completion zsh > ~/.zfunc/_vpcepctl
  mkdir -p ~/.config/fish/completions && vpcepctl completion fish > ~/.config/fish/completions/vpcepctl.fish`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			switch {
			case len(args) != 1:
				return usageError{fmt.Errorf("completion takes one shell (bash, zsh, fish or powershell), got %d arguments", len(args))}
			case !slices.Contains(cmd.ValidArgs, args[0]):
				return usageError{fmt.Errorf("completion %q: want bash, zsh, fish or powershell", args[0])}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			// The script goes where cobra's help and completions go.
			root, out := cmd.Root(), cmd.OutOrStdout()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, !noDesc)
			case "zsh":
				if noDesc {
					return root.GenZshCompletionNoDesc(out)
				}
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, !noDesc)
			default:
				if noDesc {
					return root.GenPowerShellCompletion(out)
				}
				return root.GenPowerShellCompletionWithDesc(out)
			}
		},
	}
	cmd.Flags().BoolVar(&noDesc, "no-descriptions", false, "complete without descriptions (the endpoint count of a set, an endpoint's description)")
	return cmd
}

// registerCompletions makes the flags of root and its commands complete
// their values, by flag name, and the commands that take no argument
// complete none (a command that takes files sets its own
// ValidArgsFunction).
func (a *app) registerCompletions(root *cobra.Command) {
	root.CompletionOptions.DisableDefaultCmd = true // completionCommand replaces it
	complete(root, "log-format", fixed("text", "json"))
	complete(root, "log-level", fixed("debug", "info", "warn", "error"))
	for _, c := range root.Commands() {
		complete(c, "filename", func(*cobra.Command, []string, string) ([]cobra.Completion, cobra.ShellCompDirective) {
			return []cobra.Completion{"yaml", "yml"}, cobra.ShellCompDirectiveFilterFileExt
		})
		complete(c, "output", fixed("text", "json"))
		complete(c, "set", a.completeSets)
		complete(c, "name", a.completeNames)
		if c.ValidArgsFunction == nil && c.ValidArgs == nil {
			c.ValidArgsFunction = cobra.NoFileCompletions
		}
	}
}

// complete registers fn for flag of c, if c has that flag.
func complete(c *cobra.Command, flag string, fn cobra.CompletionFunc) {
	fs := c.Flags()
	if c == c.Root() {
		fs = c.PersistentFlags()
	}
	if fs.Lookup(flag) == nil {
		return
	}
	// The only error left is a second registration of one flag, which
	// registerCompletions, called once per command tree, does not make.
	_ = c.RegisterFlagCompletionFunc(flag, fn)
}

// fixed completes the values a flag accepts that start with what was typed.
func fixed(values ...string) cobra.CompletionFunc {
	return func(_ *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
		var out []cobra.Completion
		for _, v := range values {
			if strings.HasPrefix(v, toComplete) {
				out = append(out, v)
			}
		}
		return out, cobra.ShellCompDirectiveNoFileComp
	}
}

// completePlanFile completes the PLANFILE argument of show and apply:
// any file (plan --out writes JSON, under whatever name it is given), once,
// and none for apply -f.
func completePlanFile(cmd *cobra.Command, args []string, _ string) ([]cobra.Completion, cobra.ShellCompDirective) {
	if len(args) > 0 || cmd.Flags().Changed("filename") {
		return nil, cobra.ShellCompDirectiveNoFileComp
	}
	return nil, cobra.ShellCompDirectiveDefault
}

// completeSets completes --set: the sets the manifests declare, each with
// its number of endpoints.
func (a *app) completeSets(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	count := map[string]int{}
	for _, m := range a.declared(cmd) {
		if m.Set == "" || !strings.HasPrefix(m.Set, toComplete) {
			continue
		}
		n := count[m.Set]
		for _, e := range m.Endpoints {
			if e.Name != "" {
				n++
			}
		}
		count[m.Set] = n
	}
	var out []cobra.Completion
	for _, set := range slices.Sorted(maps.Keys(count)) {
		desc := fmt.Sprintf("%d endpoints", count[set])
		if count[set] == 1 {
			desc = "1 endpoint"
		}
		out = append(out, cobra.CompletionWithDesc(set, desc))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// completeNames completes --name: the SET/NAME of the endpoints the
// manifests declare, each with its description.
func (a *app) completeNames(cmd *cobra.Command, _ []string, toComplete string) ([]cobra.Completion, cobra.ShellCompDirective) {
	desc := map[string]string{}
	for _, m := range a.declared(cmd) {
		for _, e := range m.Endpoints {
			if e.Set == "" || e.Name == "" {
				continue
			}
			if n := e.Set + "/" + e.Name; strings.HasPrefix(n, toComplete) {
				desc[n] = e.Description
			}
		}
	}
	var out []cobra.Completion
	for _, n := range slices.Sorted(maps.Keys(desc)) {
		if desc[n] == "" {
			out = append(out, n)
			continue
		}
		out = append(out, cobra.CompletionWithDesc(n, strings.Join(strings.Fields(desc[n]), " ")))
	}
	return out, cobra.ShellCompDirectiveNoFileComp
}

// declared returns what the manifests of the line being completed declare,
// as far as they can be read: the -f paths (else $VPCEPCTL_FILENAME),
// files and directories only. Standard input and other special files
// (a FIFO, /dev/stdin) are left out: reading them would hang the shell.
func (a *app) declared(cmd *cobra.Command) []*manifests.Manifest {
	paths, _ := cmd.Flags().GetStringArray("filename")
	if len(paths) == 0 {
		if env := a.getenv("VPCEPCTL_FILENAME"); env != "" {
			paths = strings.Split(env, ",")
		}
	}
	paths = slices.DeleteFunc(paths, func(p string) bool {
		fi, err := os.Stat(p)
		return p == "-" || err != nil || !fi.IsDir() && !fi.Mode().IsRegular()
	})
	if len(paths) == 0 {
		return nil
	}
	ms, _ := manifests.LoadPartial(paths, nil) // problems: complete what was read
	return ms
}
