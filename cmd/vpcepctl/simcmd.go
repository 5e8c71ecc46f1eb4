package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"github.com/vpcepctl/vpcepctl/sim"
)

func (a *app) simCommand() *cobra.Command {
	var (
		addr, state string
		o           sim.Options
	)
	cmd := &cobra.Command{
		Use:   "sim [flags]",
		Short: "Serve the VPCEP and IAM simulator",
		Long: `sim serves an in-memory VPCEP + IAM API on a loopback port, with the
documented paths, bodies, status and error codes, asynchronous status and
quotas, and faults on demand. It prints the OS_* variables that point
vpcepctl (or any OpenStack-style client) at it, then serves until
SIGINT/SIGTERM, saving its state to --state when given.`,
		Example: `  vpcepctl sim --addr 127.0.0.1:8787 > /tmp/sim.env &   # then: . /tmp/sim.env
  vpcepctl sim --throttle-rps 20 --lost-rate 0.1 --fail-rate 0.2
  vpcepctl sim --state /tmp/sim.json --accept-after 30s
  vpcepctl sim --lost-rate 0.1 --commit-delay 40s --tie-order random   # the real back end's worst`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSim(cmd.Context(), addr, state, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:8787", "listen address (use port 0 for a free port)")
	fs.StringVar(&state, "state", "", "state file, loaded at start and saved at exit (default: in memory only)")
	simFaultFlags(fs, &o, 2*time.Second)
	return cmd
}

// simFaultFlags registers the simulator's knobs and faults: the flags of
// "vpcepctl sim", and the keys of --sim-faults.
func simFaultFlags(fs *pflag.FlagSet, o *sim.Options, acceptAfter time.Duration) {
	fs.DurationVar(&o.Latency, "latency", 0, "added to every response")
	fs.DurationVar(&o.AcceptAfter, "accept-after", acceptAfter, "creating -> accepted (and deleting -> gone) after this")
	fs.IntVar(&o.Quota, "quota", 50, "endpoints per project")
	fs.Float64Var(&o.ThrottleRPS, "throttle-rps", 0, "server rate limit in requests/s (429 or 400 EndPoint.0022 beyond it); 0 = off")
	fs.Float64Var(&o.FailRate, "fail-rate", 0, "share of requests answered 500 without effect")
	fs.Float64Var(&o.LostRate, "lost-rate", 0, "share of creates and deletes committed and then answered with nothing (or 504)")
	fs.DurationVar(&o.CommitDelay, "commit-delay", 0, "a lost create commits only up to this long after its answer was lost (a slow back end); 0 = at once")
	fs.StringVar(&o.TieOrder, "tie-order", sim.TieStable, "order of endpoints created in the same second in list answers: stable, or random (a fresh order per request)")
	fs.DurationVar(&o.GetLag, "get-lag", 0, "GET answers 404 this long after a create (a lagging read replica)")
	fs.Float64Var(&o.FailedRate, "failed-rate", 0, "share of created endpoints that end in status failed")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed of the faults")
}

// checkSimOptions checks the values simFaultFlags read.
func checkSimOptions(o sim.Options) error {
	for _, r := range []float64{o.FailRate, o.LostRate, o.FailedRate} {
		if r < 0 || r > 1 {
			return errors.New("--fail-rate, --lost-rate and --failed-rate are shares between 0 and 1")
		}
	}
	if o.TieOrder != sim.TieStable && o.TieOrder != sim.TieRandom {
		return fmt.Errorf("--tie-order %q: want stable or random", o.TieOrder)
	}
	if o.Latency < 0 || o.AcceptAfter < 0 || o.CommitDelay < 0 || o.GetLag < 0 || o.Quota < 0 || o.ThrottleRPS < 0 {
		return errors.New("durations, --quota and --throttle-rps must not be negative")
	}
	return nil
}

// parseSimFaults reads --sim-faults: comma-separated KEY=VALUE pairs whose
// keys are the fault flags of "vpcepctl sim" (e.g.
// "lost-rate=0.1,commit-delay=40s,tie-order=random").
func parseSimFaults(spec string) (sim.Options, error) {
	var o sim.Options
	fs := pflag.NewFlagSet("sim-faults", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	simFaultFlags(fs, &o, 500*time.Millisecond)
	o.Quota = 0 // sim.DefaultQuota unless given
	if spec != "" {
		var args []string
		for _, kv := range strings.Split(spec, ",") {
			if kv = strings.TrimSpace(kv); kv != "" {
				args = append(args, "--"+kv)
			}
		}
		if err := fs.Parse(args); err != nil {
			return o, fmt.Errorf("--sim-faults %q: %v (keys are the flags of vpcepctl sim, e.g. lost-rate=0.1,commit-delay=40s)", spec, err)
		}
	}
	if err := checkSimOptions(o); err != nil {
		return o, fmt.Errorf("--sim-faults: %w", err)
	}
	return o, nil
}

func (a *app) runSim(ctx context.Context, addr, state string, o sim.Options) error {
	if err := checkSimOptions(o); err != nil {
		return invalid(err)
	}
	s := sim.New(o)
	if state != "" {
		if err := s.Load(state); err != nil {
			return invalid(fmt.Errorf("--state %s: %w", state, err))
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return invalid(fmt.Errorf("--addr %s: %w", addr, err))
	}
	base := "http://" + ln.Addr().String()
	for _, kv := range sim.Env(base) {
		fmt.Fprintf(a.stdout, "export %s\n", kv)
	}
	fmt.Fprintf(a.stdout, "# simulator metrics: %s/metrics\n", base)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	a.log.Info("simulator serving", "addr", ln.Addr().String())
	select {
	case <-ctx.Done():
	case err := <-errc:
		return err
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_ = srv.Shutdown(sctx)
	if state != "" {
		if err := s.Save(state); err != nil {
			return fmt.Errorf("--state %s: %w", state, err)
		}
	}
	return nil
}
