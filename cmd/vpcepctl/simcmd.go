package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/spf13/cobra"

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
  vpcepctl sim --state /tmp/sim.json --accept-after 30s`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSim(cmd.Context(), addr, state, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:8787", "listen address (use port 0 for a free port)")
	fs.StringVar(&state, "state", "", "state file, loaded at start and saved at exit (default: in memory only)")
	fs.DurationVar(&o.Latency, "latency", 0, "added to every response")
	fs.DurationVar(&o.AcceptAfter, "accept-after", 2*time.Second, "creating -> accepted (and deleting -> gone) after this")
	fs.IntVar(&o.Quota, "quota", 50, "endpoints per project")
	fs.Float64Var(&o.ThrottleRPS, "throttle-rps", 0, "server rate limit in requests/s (429 or 400 EndPoint.0022 beyond it); 0 = off")
	fs.Float64Var(&o.FailRate, "fail-rate", 0, "share of requests answered 500 without effect")
	fs.Float64Var(&o.LostRate, "lost-rate", 0, "share of creates and deletes committed and then answered with nothing (or 504)")
	fs.Float64Var(&o.FailedRate, "failed-rate", 0, "share of created endpoints that end in status failed")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed of the faults")
	return cmd
}

func (a *app) runSim(ctx context.Context, addr, state string, o sim.Options) error {
	for _, r := range []float64{o.FailRate, o.LostRate, o.FailedRate} {
		if r < 0 || r > 1 {
			return invalid(errors.New("--fail-rate, --lost-rate and --failed-rate are shares between 0 and 1"))
		}
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
