package main

// The flags plan, apply, status and destroy share: the manifests, the
// flags that allow actions, and the targeting (--shard, --set, --name).

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/plan"
)

// planFlags are the flags plan and apply share.
type planFlags struct {
	files            []string
	adopt, prune     bool
	allowReplace     bool
	approve          bool
	shard            string
	sets, names      []string
	output           string
	detailedExitcode bool
	out              string
	// destroy is set by the destroy command (not a flag).
	destroy bool
}

func (f *planFlags) register(fs *pflag.FlagSet) {
	f.registerFiles(fs)
	fs.BoolVar(&f.adopt, "adopt", false, "take over unmanaged endpoints that match a desired one (same service and VPC, and subnet for interface services)")
	fs.BoolVar(&f.prune, "prune", false, "delete owned endpoints no longer declared (duplicates are deleted without it)")
	fs.BoolVar(&f.allowReplace, "allow-replace", false, "replace owned endpoints whose immutable fields drifted (delete, then create)")
	fs.BoolVar(&f.approve, "approve", false, "accept the connections of owned endpoints awaiting approval (pendingAcceptance) where the same project owns the endpoint service")
	f.registerTargeting(fs)
	fs.StringVarP(&f.output, "output", "o", "text", "output format: text or json")
}

// registerFiles registers -f.
func (f *planFlags) registerFiles(fs *pflag.FlagSet) {
	fs.StringArrayVarP(&f.files, "filename", "f", nil, "manifest file, directory (recursive *.yaml, *.yml) or - for stdin; repeatable")
}

// loadTargeted loads the -f manifests and checks the targeting flags
// against them: an error for a --set or --name no manifest can mean, a
// warning for a --name no manifest declares.
func (a *app) loadTargeted(f *planFlags, opts plan.Options) ([]*manifests.Manifest, error) {
	ms, err := a.loadManifests(f.files)
	if err == nil {
		err = checkTargets(opts, ms)
	}
	if err != nil {
		return nil, err
	}
	a.warnUndeclared(opts, ms)
	return ms, nil
}

// registerTargeting registers --shard, --set and --name.
func (f *planFlags) registerTargeting(fs *pflag.FlagSet) {
	fs.StringVar(&f.shard, "shard", "", "I/N: only endpoints whose hash of project_id/set/name modulo N is I (default $JOB_COMPLETION_INDEX/$VPCEPCTL_SHARDS)")
	fs.StringArrayVar(&f.sets, "set", nil, "act only on the endpoints of set `NAME` (prune and adopt only inside); repeatable, adds to --name")
	fs.StringArrayVar(&f.names, "name", nil, "act only on the endpoint `SET/NAME`; repeatable, adds to --set")
}

// checkTargets refuses --set and --name values that no manifest
// declares: a mistyped name would plan nothing, silently.
func checkTargets(o plan.Options, ms []*manifests.Manifest) error {
	sets := map[string]bool{}
	for _, m := range ms {
		sets[m.Set] = true
	}
	for _, s := range o.Sets {
		if !sets[s] {
			hint := ""
			if strings.Contains(s, "/") {
				hint = "; to pick one endpoint, use --name " + s
			}
			return invalid(fmt.Errorf("--set %s: no manifest declares that set%s", s, hint))
		}
	}
	for _, n := range o.Names {
		// A name no manifest declares is fine in a declared set: an owned
		// endpoint no longer declared (prune, destroy). warnUndeclared
		// says so.
		set, _, _ := strings.Cut(n, "/")
		if !sets[set] {
			return invalid(fmt.Errorf("--name %s: no manifest declares set %s", n, set))
		}
	}
	return nil
}

// warnUndeclared warns of each --name that no manifest declares (in a
// declared set, or checkTargets refuses it): it is taken, since it may
// name an owned endpoint no longer declared, but it may be a typo.
func (a *app) warnUndeclared(o plan.Options, ms []*manifests.Manifest) {
	declared := map[string]bool{}
	for _, m := range ms {
		for _, e := range m.Endpoints {
			declared[e.Set+"/"+e.Name] = true
		}
	}
	for _, n := range o.Names {
		if !declared[n] {
			a.warn(fmt.Sprintf("--name %s: no manifest declares it; only an owned endpoint of that name no longer declared can match", n))
		}
	}
}

func (a *app) planOptions(f *planFlags) (plan.Options, error) {
	o := plan.Options{Adopt: f.adopt, Prune: f.prune, AllowReplace: f.allowReplace, Approve: f.approve, Sets: f.sets, Names: f.names, Destroy: f.destroy}
	for _, n := range f.names {
		if set, name, ok := strings.Cut(n, "/"); !ok || set == "" || name == "" || strings.Contains(name, "/") {
			return o, invalid(fmt.Errorf("--name %q: want SET/NAME, e.g. --name payments/checkout", n))
		}
	}
	s := f.shard
	if s == "" {
		n, i := a.getenv("VPCEPCTL_SHARDS"), a.getenv("JOB_COMPLETION_INDEX")
		switch {
		case n != "":
			s = i + "/" + n
		case i != "":
			// An Indexed Job without VPCEPCTL_SHARDS would run every pod on
			// every endpoint.
			return o, invalid(fmt.Errorf("JOB_COMPLETION_INDEX=%s is set but VPCEPCTL_SHARDS is not: set it to the Job's completions (or --shard I/N)", i))
		}
	}
	if s != "" {
		sh, err := plan.ParseShard(s)
		if err != nil {
			return o, invalid(fmt.Errorf("--shard %q: want I/N with 0 <= I < N (JOB_COMPLETION_INDEX and VPCEPCTL_SHARDS give the defaults)", s))
		}
		o.Shard = sh
	}
	if f.output != "text" && f.output != "json" {
		return o, invalid(fmt.Errorf("--output %q: want text or json", f.output))
	}
	return o, nil
}

// loadManifests loads -f paths; problems are invalid input.
func (a *app) loadManifests(paths []string) ([]*manifests.Manifest, error) {
	if len(paths) == 0 {
		return nil, invalid(errors.New("no manifests: give -f FILE, -f DIR or -f -"))
	}
	ms, err := manifests.Load(paths, a.stdin)
	if err != nil {
		return nil, invalid(err)
	}
	return ms, nil
}
