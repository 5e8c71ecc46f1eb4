package main

// Output policy: plans, reports and other JSON documents go to stdout;
// everything else (logs, progress, prompts, summaries, errors) goes to
// stderr. Errors are printed once, here, as "vpcepctl: error: ...".
// Everything written, to the streams and to files, passes through the
// run's Redactor first: it holds the secrets of the environment and every
// secret the run learns (see otc.Redactor).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcepctl/vpcepctl/internal/term"
	"github.com/vpcepctl/vpcepctl/metrics"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/reconcile"
)

// Exit codes (DESIGN.md "Exit codes").
const (
	exitOK        = 0
	exitFailure   = 1
	exitChanges   = 2
	exitInvalid   = 3
	exitConflicts = 4
)

// exitError carries an exit code with an error (nil error: exit quietly).
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}
func (e *exitError) Unwrap() error { return e.err }

func invalid(err error) error { return &exitError{exitInvalid, err} }

// app is one invocation: its streams, environment and global flags.
type app struct {
	stdin          io.Reader
	stdout, stderr io.Writer
	getenv         func(string) string
	log            *slog.Logger
	status         *term.StatusLine // stderr on a terminal: logs and the progress bar share it
	redactor       *otc.Redactor    // the run's secrets
	simOut         io.Writer        // stdout unredacted: only for the simulator's own, public credentials
	pushFromArgv   bool             // --pushgateway was given on the command line

	sim        bool
	simState   string
	simFaults  string
	cloud      string
	endpoint   string
	region     string
	projectID  string
	logLevel   string
	logFormat  string
	metricsAdr string
	pushURL    string
	pushPassF  string
	metricsOut string
	cacert     string
	insecure   bool
	timeout    time.Duration

	runCtx      context.Context // the command's context, with --timeout
	stopTimeout func()
}

// errTimeout is the cause of a run stopped by --timeout.
var errTimeout = errors.New("--timeout reached")

// timedOut reports whether --timeout stopped the run.
func (a *app) timedOut() bool {
	return a.runCtx != nil && errors.Is(context.Cause(a.runCtx), errTimeout)
}

func run(ctx context.Context, args []string, stdin io.Reader, stdout, stderr io.Writer, getenv func(string) string) int {
	red := otc.NewRedactor(envSecrets(getenv)...)
	a := &app{stdin: stdin, stdout: red.Writer(stdout), stderr: red.Writer(stderr), getenv: getenv, redactor: red, simOut: stdout}
	root := a.rootCommand()
	root.SetArgs(args)
	root.SetIn(stdin)
	root.SetOut(stdout)
	root.SetErr(stderr)
	err := unknownCommand(root, root.ExecuteContext(ctx))
	if a.stopTimeout != nil {
		a.stopTimeout()
	}
	if se, ok := interrupted(ctx); ok {
		if err != nil && !errors.Is(err, context.Canceled) {
			a.printError(err)
		}
		return se.exitCode()
	}
	if a.timedOut() {
		// Stopped as on SIGTERM; the report and metrics say what was done.
		if err != nil && !errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded) && !errors.Is(err, errTimeout) {
			a.printError(err)
		}
		a.printError(fmt.Errorf("--timeout %v reached: stopped, as on SIGTERM; a rerun goes on from here", a.timeout))
		return exitFailure
	}
	if err == nil {
		return exitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			a.printError(ee.err)
		}
		return ee.code
	}
	a.printError(err)
	// Flag and argument errors from cobra, and what reconcile calls invalid
	// (manifests, plan files, configuration), are invalid input.
	if isUsageError(err) || reconcile.Invalid(err) || strings.HasPrefix(err.Error(), "unknown command") {
		return exitInvalid
	}
	return exitFailure
}

// usageError marks errors in flags and arguments.
type usageError struct{ error }

func isUsageError(err error) bool {
	var ue usageError
	return errors.As(err, &ue)
}

var invalidArgRE = regexp.MustCompile(`^invalid argument "(.*)" for "(.*)" flag: (.*)$`)

// friendlyFlagError rewrites pflag's "invalid argument "abc" for "--rate"
// flag: strconv.ParseFloat: ..." into what the flag wants.
func friendlyFlagError(err error) error {
	m := invalidArgRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	flag := m[2]
	if i := strings.Index(flag, ", "); i >= 0 { // "-o, --output"
		flag = flag[i+2:]
	}
	return fmt.Errorf("%s %q: %s", flag, m[1], wantForType(typeOfParseError(m[3]), errors.New(m[3])))
}

func typeOfParseError(msg string) string {
	switch {
	case strings.HasPrefix(msg, "strconv.ParseFloat"):
		return "float64"
	case strings.HasPrefix(msg, "strconv.ParseInt"), strings.HasPrefix(msg, "strconv.Atoi"):
		return "int"
	case strings.HasPrefix(msg, "strconv.ParseBool"):
		return "bool"
	case strings.HasPrefix(msg, "time:"):
		return "duration"
	}
	return ""
}

// wantForType says what a flag of type t wants, for a value it refused.
func wantForType(t string, err error) string {
	switch t {
	case "float64":
		return "want a number, e.g. 10 or 2.5"
	case "int", "int64":
		return "want a whole number"
	case "bool":
		return "want true or false"
	case "duration":
		return "want a duration such as 30s, 5m or 1h30m"
	}
	return err.Error()
}

// printError writes err, one line per joined error (manifest problems):
// "vpcepctl: error: ..." lines, or error records when stderr is JSON.
func (a *app) printError(err error) {
	for _, line := range strings.Split(strings.TrimRight(err.Error(), "\n"), "\n") {
		if a.log != nil && a.logFormat == "json" {
			a.log.Error(line)
			continue
		}
		fmt.Fprintf(a.stderr, "vpcepctl: error: %s\n", line)
	}
}

// warn writes a warning: a "vpcepctl: warning: ..." line, or a warning
// record when stderr is JSON.
func (a *app) warn(msg string) {
	if a.log != nil && a.logFormat == "json" {
		a.log.Warn(msg)
		return
	}
	fmt.Fprintf(a.stderr, "vpcepctl: warning: %s\n", msg)
}

// say writes a line for people on stderr, or an info record when stderr
// is JSON.
func (a *app) say(msg string) {
	if a.log != nil && a.logFormat == "json" {
		a.log.Info(msg)
		return
	}
	fmt.Fprintln(a.stderr, msg)
}

func (a *app) rootCommand() *cobra.Command {
	root := &cobra.Command{
		Use:   "vpcepctl",
		Short: "Keep Open Telekom Cloud VPC endpoints in the state your YAML declares",
		Long: `vpcepctl reads YAML manifests of VPC endpoints, lists what exists, prints a
plan (create, tag, replace, adopt, delete) and applies it with a rate-limited,
retried worker pool that never creates a duplicate.

Every flag can also be set as VPCEPCTL_<FLAG> (e.g. VPCEPCTL_RATE=5);
the command line wins. Credentials come from OS_CLOUD/clouds.yaml or the
OS_* variables, as for the OpenStack CLI.`,
		Example: `  vpcepctl validate -f examples/manifests
  vpcepctl --sim plan -f examples/manifests      # against the built-in simulator
  vpcepctl plan -f examples/manifests --detailed-exitcode
  vpcepctl apply -f examples/manifests --yes --report report.json`,
		SilenceUsage:  true,
		SilenceErrors: true,
		PersistentPreRunE: func(cmd *cobra.Command, _ []string) error {
			a.pushFromArgv = cmd.Flags().Changed("pushgateway")
			if err := a.bindEnv(cmd.Flags()); err != nil {
				return usageError{err}
			}
			if a.timeout < 0 {
				return usageError{fmt.Errorf("--timeout %v: want a positive duration, or 0 for none", a.timeout)}
			}
			if a.timeout > 0 {
				ctx, cancel := context.WithTimeoutCause(cmd.Context(), a.timeout, errTimeout)
				a.runCtx, a.stopTimeout = ctx, cancel
				cmd.SetContext(ctx)
			}
			return a.setupLogger()
		},
	}
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError{friendlyFlagError(err)} })
	suggestOneLine(root)
	a.versionFlag(root)
	pf := root.PersistentFlags()
	pf.BoolVar(&a.sim, "sim", false, "run against an in-process simulator (state in --sim-state)")
	pf.StringVar(&a.simState, "sim-state", "", "simulator state file for --sim (default $XDG_STATE_HOME/vpcepctl/sim.json)")
	pf.StringVar(&a.simFaults, "sim-faults", "", "faults of the --sim simulator, as KEY=VALUE,... with the flags of vpcepctl sim (e.g. lost-rate=0.1,commit-delay=40s,tie-order=random)")
	pf.StringVar(&a.cloud, "cloud", "", "cloud name in clouds.yaml (default $OS_CLOUD)")
	pf.StringVar(&a.endpoint, "endpoint", "", "VPCEP base URL without /v1/{project_id}, e.g. https://vpcep.eu-de.otc.t-systems.com")
	pf.StringVar(&a.region, "region", "", "region (default $OS_REGION_NAME)")
	pf.StringVar(&a.projectID, "project-id", "", "project id (default $OS_PROJECT_ID or the token's project)")
	pf.StringVar(&a.logLevel, "log-level", "info", "log level: debug, info, warn, error")
	pf.StringVar(&a.logFormat, "log-format", "text", "log format: text or json")
	pf.StringVar(&a.metricsAdr, "metrics-addr", "", "serve Prometheus /metrics on this address during the run, e.g. 127.0.0.1:9115")
	pf.StringVar(&a.pushURL, "pushgateway", "", "push metrics to this Pushgateway URL at the end of the run (a password in it: set VPCEPCTL_PUSHGATEWAY instead, the command line is public)")
	pf.StringVar(&a.pushPassF, "pushgateway-password-file", "", "basic-auth password for --pushgateway, read from FILE (the user name from the URL, https://USER@host)")
	pf.StringVar(&a.cacert, "cacert", "", "PEM file of CA certificates to trust for the API and IAM, besides the system's (default $OS_CACERT, clouds.yaml cacert)")
	pf.BoolVar(&a.insecure, "insecure", false, "do not verify the API's and IAM's TLS certificates (warned about on every run)")
	pf.StringVar(&a.metricsOut, "metrics-file", "", "write metrics to this file (node_exporter textfile format) at the end of the run")
	pf.DurationVar(&a.timeout, "timeout", 0, "stop the whole run after this long (as on SIGTERM: requests in flight get --grace, the report is written) and exit 1; 0: no limit")

	root.AddCommand(a.validateCommand(), a.planCommand(), a.applyCommand(), a.showCommand(), a.statusCommand(), a.destroyCommand(),
		a.simCommand(), a.versionCommand(), a.completionCommand())
	a.registerCompletions(root)
	return root
}

// bindEnv sets every flag not given on the command line from
// VPCEPCTL_<FLAG> (dashes as underscores, upper case).
func (a *app) bindEnv(fs *pflag.FlagSet) error {
	var errs []error
	fs.VisitAll(func(f *pflag.Flag) {
		if f.Changed || f.Name == "help" {
			return
		}
		name := "VPCEPCTL_" + strings.ToUpper(strings.ReplaceAll(f.Name, "-", "_"))
		v := a.getenv(name)
		if v == "" {
			return
		}
		if f.Value.Type() == "stringSlice" || f.Value.Type() == "stringArray" {
			for _, part := range strings.Split(v, ",") {
				if err := fs.Set(f.Name, part); err != nil {
					errs = append(errs, fmt.Errorf("%s: %v", name, err))
				}
			}
			return
		}
		if err := fs.Set(f.Name, v); err != nil {
			errs = append(errs, fmt.Errorf("%s=%q: %s", name, v, wantForType(f.Value.Type(), err)))
		}
	})
	return errors.Join(errs...)
}

func (a *app) setupLogger() error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(a.logLevel)); err != nil {
		return usageError{fmt.Errorf("--log-level %q: want debug, info, warn or error", a.logLevel)}
	}
	opts := &slog.HandlerOptions{Level: level}
	var out io.Writer = a.stderr
	if term.IsTerminal(a.stderr) {
		a.status = term.NewStatusLine(a.stderr)
		out = a.status
	}
	switch a.logFormat {
	case "text":
		a.log = slog.New(a.redactor.Handler(slog.NewTextHandler(out, opts)))
	case "json":
		a.log = slog.New(a.redactor.Handler(slog.NewJSONHandler(out, opts)))
	default:
		return usageError{fmt.Errorf("--log-format %q: want text or json", a.logFormat)}
	}
	return nil
}

// envSecrets are the secrets the environment holds, known to the run's
// Redactor from its first line of output.
func envSecrets(getenv func(string) string) []string {
	var out []string
	for _, k := range []string{"OS_PASSWORD", "OS_AUTH_TOKEN", "OS_SECRET_KEY", "OS_SECRET_ACCESS_KEY", "OS_SECURITY_TOKEN"} {
		if v := getenv(k); v != "" {
			out = append(out, v)
		}
	}
	if pt, err := metrics.ParsePushURL(getenv("VPCEPCTL_PUSHGATEWAY")); err == nil && pt.Pass != "" {
		out = append(out, pt.Pass, basicAuth(pt.User, pt.Pass))
	}
	return out
}

func (a *app) defaultSimState() string {
	dir := a.getenv("XDG_STATE_HOME")
	if dir == "" {
		home := a.getenv("HOME")
		if home == "" {
			home, _ = os.UserHomeDir()
		}
		dir = filepath.Join(home, ".local", "state")
	}
	return filepath.Join(dir, "vpcepctl", "sim.json")
}
