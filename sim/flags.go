package sim

import (
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/pflag"
)

// This file names the simulator's knobs and faults for a command line.

// Flags registers the simulator's knobs and faults on fs, as the flags of
// "vpcepctl sim" (and the keys of ParseFaults) name them; acceptAfter is
// the default of --accept-after.
func (o *Options) Flags(fs *pflag.FlagSet, acceptAfter time.Duration) {
	fs.DurationVar(&o.Latency, "latency", 0, "added to every response")
	fs.DurationVar(&o.IAMLatency, "iam-latency", 0, "added to every token response, on top of --latency")
	fs.IntVar(&o.Projects, "projects", 0, "projects beyond the two built in (ids e0e0e0e0000...0 up, names eu-de_extra0000 up)")
	fs.DurationVar(&o.AcceptAfter, "accept-after", acceptAfter, "creating -> accepted (and deleting -> gone) after this")
	fs.IntVar(&o.Quota, "quota", 50, "endpoints per project")
	fs.Float64Var(&o.ThrottleRPS, "throttle-rps", 0, "server rate limit in requests/s (429 or 400 EndPoint.0022 beyond it); 0 = off")
	fs.Float64Var(&o.FailRate, "fail-rate", 0, "share of requests answered 500 without effect")
	fs.Float64Var(&o.LostRate, "lost-rate", 0, "share of creates, deletes and connection accepts committed and then answered with nothing (or 504)")
	fs.DurationVar(&o.CommitDelay, "commit-delay", 0, "a lost create commits only up to this long after its answer was lost (a slow back end); 0 = at once")
	fs.StringVar(&o.TieOrder, "tie-order", TieStable, "order of endpoints created in the same second in list answers: stable, or random (a fresh order per request)")
	fs.DurationVar(&o.GetLag, "get-lag", 0, "GET answers 404 this long after a create (a lagging read replica)")
	fs.Float64Var(&o.FailedRate, "failed-rate", 0, "share of created endpoints that end in status failed")
	fs.Int64Var(&o.Seed, "seed", 1, "random seed of the faults")
}

// Check checks the values Flags read.
func (o Options) Check() error {
	for _, r := range []float64{o.FailRate, o.LostRate, o.FailedRate} {
		if r < 0 || r > 1 {
			return errors.New("--fail-rate, --lost-rate and --failed-rate are shares between 0 and 1")
		}
	}
	if o.TieOrder != TieStable && o.TieOrder != TieRandom {
		return fmt.Errorf("--tie-order %q: want stable or random", o.TieOrder)
	}
	if o.Latency < 0 || o.IAMLatency < 0 || o.Projects < 0 || o.AcceptAfter < 0 || o.CommitDelay < 0 || o.GetLag < 0 || o.Quota < 0 || o.ThrottleRPS < 0 {
		return errors.New("durations, --quota, --projects and --throttle-rps must not be negative")
	}
	return nil
}

// ParseFaults reads a list of comma-separated KEY=VALUE pairs whose keys
// are the flags of "vpcepctl sim" (e.g.
// "lost-rate=0.1,commit-delay=40s,tie-order=random"), as --sim-faults
// gives them; AcceptAfter defaults to 500ms, Quota to DefaultQuota.
func ParseFaults(spec string) (Options, error) {
	var o Options
	fs := pflag.NewFlagSet("sim-faults", pflag.ContinueOnError)
	fs.SetOutput(io.Discard)
	o.Flags(fs, 500*time.Millisecond)
	o.Quota = 0 // sim.DefaultQuota unless given
	if spec != "" {
		var args []string
		for _, kv := range strings.Split(spec, ",") {
			if kv = strings.TrimSpace(kv); kv != "" {
				args = append(args, "--"+kv)
			}
		}
		if err := fs.Parse(args); err != nil {
			return o, fmt.Errorf("%q: %v (keys are the flags of vpcepctl sim, e.g. lost-rate=0.1,commit-delay=40s)", spec, err)
		}
	}
	if err := o.Check(); err != nil {
		return o, err
	}
	return o, nil
}
