package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/vpcepctl/vpcepctl/internal/outfile"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/sim"
)

func (a *app) simCommand() *cobra.Command {
	var (
		addr, state string
		aksk        bool
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
		Example: `  vpcepctl sim --addr 127.0.0.1:8787 > sim.env &   # then: . ./sim.env
  vpcepctl sim --throttle-rps 20 --lost-rate 0.1 --fail-rate 0.2
  vpcepctl sim --state sim.json --accept-after 30s
  vpcepctl sim --lost-rate 0.1 --commit-delay 40s --tie-order random   # the real back end's worst
  vpcepctl sim --aksk > sim-aksk.env &   # AK/SK request signing instead of a password`,
		Args: noArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return a.runSim(cmd.Context(), addr, state, aksk, o)
		},
	}
	fs := cmd.Flags()
	fs.StringVar(&addr, "addr", "127.0.0.1:8787", "listen address (use port 0 for a free port)")
	fs.BoolVar(&aksk, "aksk", false, "print the variables of AK/SK request signing (OS_ACCESS_KEY, OS_SECRET_KEY, VPCEPCTL_ENDPOINT) instead of the password ones")
	fs.StringVar(&state, "state", "", "state file, loaded at start and saved at exit (default: in memory only)")
	o.Flags(fs, 2*time.Second)
	return cmd
}

func (a *app) runSim(ctx context.Context, addr, state string, aksk bool, o sim.Options) error {
	if err := o.Check(); err != nil {
		return invalid(err)
	}
	s := sim.New(o)
	if state != "" {
		if err := loadSimState(s, state); err != nil {
			return invalid(fmt.Errorf("--state %s: %w", state, err))
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return invalid(fmt.Errorf("--addr %s: %w", addr, err))
	}
	base := "http://" + ln.Addr().String()
	env := sim.Env(base)
	if aksk {
		env = sim.EnvAKSK(base)
	}
	for _, kv := range env {
		// The simulator's credentials are public (package sim's
		// constants): printed as they are, even when the shell already
		// holds them (the run's Redactor would scrub a password it knows).
		fmt.Fprintf(a.simOut, "export %s\n", kv)
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
		if err := saveSimState(s, state); err != nil {
			return fmt.Errorf("--state %s: %w", state, err)
		}
	}
	return nil
}

// startSim serves the simulator of --sim on a loopback port, with its
// state read from --sim-state and its faults from --sim-faults. It returns
// the simulator's URL and a func that stops it and saves its state.
func (a *app) startSim() (string, func(), error) {
	path := cmp.Or(a.simState, a.defaultSimState())
	o, err := sim.ParseFaults(a.simFaults)
	if err != nil {
		return "", nil, invalid(fmt.Errorf("--sim-faults %w", err))
	}
	sm := sim.New(o)
	if err := loadSimState(sm, path); err != nil {
		return "", nil, invalid(fmt.Errorf("--sim-state %s: %w", path, err))
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", nil, fmt.Errorf("simulator: %w", err)
	}
	srv := &http.Server{Handler: sm.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	a.log.Debug("simulator started", "addr", ln.Addr().String(), "state", path)
	return "http://" + ln.Addr().String(), func() {
		_ = srv.Close()
		if err := saveSimState(sm, path); err != nil {
			a.log.Error("simulator state not saved", "path", path, "err", err)
		}
	}, nil
}

// loadSimState loads a simulator's state file; a missing one is an empty
// state.
func loadSimState(s *sim.Sim, path string) error {
	fh, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return s.Load(nil)
	}
	if err != nil {
		return outfile.CleanError(err)
	}
	defer fh.Close()
	return s.Load(fh)
}

// saveSimState writes a simulator's state file (whole or not at all),
// creating its directory.
func saveSimState(s *sim.Sim, path string) error {
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return outfile.CleanError(err)
	}
	var b bytes.Buffer
	if err := s.Save(&b); err != nil {
		return err
	}
	return outfile.Write(path, 0o600, b.Bytes())
}
