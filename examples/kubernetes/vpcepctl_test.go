package kubernetes

// What vpcepctl relies on in a Job that runs it (DESIGN.md's command line
// and exit statuses, as docs/exit-codes.md and docs/operations.md tell
// them).

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// vpcepctlImage is the image the Dockerfile builds; its entrypoint is
// vpcepctl.
const vpcepctlImage = "ghcr.io/vpcepctl/vpcepctl"

// valueless are vpcepctl's flags that take no value.
var valueless = []string{"--yes", "-y", "--prune", "--adopt", "--allow-replace", "--approve",
	"--detailed-exitcode", "--fail-fast", "--wait", "--no-wait", "--insecure", "--sim"}

// invocation is what a container runs: the command and its flags, from
// args and the VPCEPCTL_* variables (args win, as in vpcepctl).
type invocation struct {
	command string
	flags   map[string]string // "--timeout": "55m"; a valueless flag: "true"
	files   []string          // -f, --filename
	env     map[string]string
}

func parseInvocation(c corev1.Container) invocation {
	inv := invocation{flags: map[string]string{}, env: map[string]string{}}
	for _, e := range c.Env {
		inv.env[e.Name] = e.Value
		if name, ok := strings.CutPrefix(e.Name, "VPCEPCTL_"); ok {
			inv.flags["--"+strings.ReplaceAll(strings.ToLower(name), "_", "-")] = e.Value
		}
	}
	for i := 0; i < len(c.Args); i++ {
		a := c.Args[i]
		switch {
		case !strings.HasPrefix(a, "-") && inv.command == "":
			inv.command = a
		case a == "-f" || a == "--filename":
			if i+1 < len(c.Args) {
				inv.files = append(inv.files, c.Args[i+1])
				i++
			}
		case strings.Contains(a, "="):
			k, v, _ := strings.Cut(a, "=")
			inv.flags[k] = v
		case slices.Contains(valueless, a):
			inv.flags[a] = "true"
		case i+1 < len(c.Args):
			inv.flags[a] = c.Args[i+1]
			i++
		}
	}
	return inv
}

// duration returns a flag's duration, or def when it is not set.
func (inv invocation) duration(flag string, def time.Duration) (time.Duration, error) {
	v, ok := inv.flags[flag]
	if !ok {
		return def, nil
	}
	return time.ParseDuration(v)
}

// vpcepctlProblems returns what vpcepctl needs and a workload lacks.
func vpcepctlProblems(w *workload) []string {
	var ps []string
	add := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	pod := w.job.Template.Spec
	i := slices.IndexFunc(pod.Containers, func(c corev1.Container) bool { return strings.HasPrefix(c.Image, vpcepctlImage) })
	if i < 0 {
		add("no container runs %s", vpcepctlImage)
		return ps
	}
	c := pod.Containers[i]
	if ref := strings.TrimPrefix(c.Image, vpcepctlImage); len(ref) < 2 || (ref[0] != ':' && ref[0] != '@') {
		add("image %q: want %s:TAG or %s@sha256:...", c.Image, vpcepctlImage, vpcepctlImage)
	}
	if len(c.Command) > 0 {
		add("command %q replaces the image's entrypoint, vpcepctl: give args only", c.Command)
	}
	inv := parseInvocation(c)
	if inv.command != "plan" && inv.command != "apply" {
		add("args %q: want plan or apply first", c.Args)
		return ps
	}
	if len(inv.files) == 0 {
		add("args %q: no -f", c.Args)
	}
	for _, f := range inv.files {
		if !slices.ContainsFunc(c.VolumeMounts, func(m corev1.VolumeMount) bool {
			return f == m.MountPath || strings.HasPrefix(f, strings.TrimSuffix(m.MountPath, "/")+"/")
		}) {
			add("-f %s is not in any volumeMount: the manifests would not be there", f)
		}
	}
	if inv.command == "apply" && inv.flags["--yes"] != "true" && inv.flags["-y"] != "true" {
		add("apply without --yes: off a terminal vpcepctl refuses to run (exit 3)")
	}
	ps = append(ps, budgetProblems(w, inv)...)
	ps = append(ps, exitStatusProblems(w, c, inv)...)
	ps = append(ps, shardProblems(w, inv)...)
	if w.cron != nil {
		ps = append(ps, cronProblems(w.cron)...)
	}
	return ps
}

// budgetProblems checks that every run ends by its own --timeout, cleanly,
// before activeDeadlineSeconds would cut it: the deadline covers every
// run the Job may make, each up to --timeout plus the time its stop may
// take (terminationGracePeriodSeconds, which must exceed apply's --grace).
func budgetProblems(w *workload, inv invocation) []string {
	var ps []string
	add := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	spec := w.job
	timeout, err := inv.duration("--timeout", 0)
	if err != nil || timeout <= 0 {
		add("no --timeout (or VPCEPCTL_TIMEOUT): a run that hangs holds the Job until activeDeadlineSeconds cuts it wherever it is")
		return ps
	}
	stop := 30 * time.Second
	if s := spec.Template.Spec.TerminationGracePeriodSeconds; s != nil {
		stop = time.Duration(*s) * time.Second
	}
	if inv.command == "apply" {
		grace, err := inv.duration("--grace", 30*time.Second)
		if err != nil || grace >= stop {
			add("--grace %s is not below terminationGracePeriodSeconds (%v): the kubelet would kill a stopping run before its requests finish and its report is written", inv.flags["--grace"], stop)
		}
	}
	if spec.ActiveDeadlineSeconds == nil {
		add("no activeDeadlineSeconds: a Job that hangs is never stopped")
		return ps
	}
	deadline := time.Duration(*spec.ActiveDeadlineSeconds) * time.Second
	runs := int64(7) // backoffLimit's default is 6
	if spec.BackoffLimit != nil {
		runs = int64(*spec.BackoffLimit) + 1
	}
	if indexed(spec) && spec.BackoffLimitPerIndex != nil {
		runs = int64(*spec.BackoffLimitPerIndex) + 1
		parallel := int64(1)
		if spec.Parallelism != nil && *spec.Parallelism > 0 {
			parallel = int64(*spec.Parallelism)
		}
		runs *= (int64(*spec.Completions) + parallel - 1) / parallel // one wave of indexes after another
	}
	if need := time.Duration(runs) * (timeout + stop); need > deadline {
		add("activeDeadlineSeconds (%v) is shorter than %d runs of --timeout %v + terminationGracePeriodSeconds %v (%v): the deadline would cut a run that --timeout should end cleanly",
			deadline, runs, timeout, stop, need)
	}
	return ps
}

func indexed(spec *batchv1.JobSpec) bool {
	return spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion && spec.Completions != nil
}

// exitStatusProblems checks the pod failure policy against vpcepctl's
// exit statuses: those a rerun does not change end the Job (or the index)
// at once, 1 (a rerun may fix it) is retried, and no exit status is
// Ignored (Ignore starts a new pod for every failure, without limit).
func exitStatusProblems(w *workload, c corev1.Container, inv invocation) []string {
	var ps []string
	final := map[int32]string{3: "invalid input"}
	if inv.command == "apply" {
		final[4] = "conflicts that need a person or a flag"
	}
	if inv.flags["--detailed-exitcode"] == "true" {
		final[2] = "plan --detailed-exitcode found differences"
	}
	pfp := w.job.PodFailurePolicy
	if pfp == nil {
		return []string{"no podFailurePolicy: exit 3 (invalid input) would be retried up to backoffLimit times"}
	}
	for i, r := range pfp.Rules {
		if r.OnExitCodes != nil && r.Action == batchv1.PodFailurePolicyActionIgnore && appliesTo(r.OnExitCodes, c.Name) {
			ps = append(ps, fmt.Sprintf("podFailurePolicy.rules[%d]: Ignore on exit %s %v starts a new pod for every such exit, without limit; with concurrencyPolicy Forbid later schedules are skipped meanwhile",
				i, r.OnExitCodes.Operator, r.OnExitCodes.Values))
		}
	}
	for code := int32(1); code <= 4; code++ {
		action := actionFor(pfp, c.Name, code)
		_, isFinal := final[code]
		switch {
		case isFinal && action != batchv1.PodFailurePolicyActionFailJob && action != batchv1.PodFailurePolicyActionFailIndex:
			ps = append(ps, fmt.Sprintf("exit %d (%s) is %s: want FailJob or FailIndex, a rerun ends the same way", code, final[code], action))
		case code == 1 && action != batchv1.PodFailurePolicyActionCount:
			ps = append(ps, fmt.Sprintf("exit 1 (a rerun may fix it) is %s: want it retried (Count, or no rule)", action))
		}
	}
	return ps
}

func appliesTo(ec *batchv1.PodFailurePolicyOnExitCodesRequirement, container string) bool {
	return ec.ContainerName == nil || *ec.ContainerName == container
}

// actionFor is the action of the first exit-code rule that matches the
// container's exit status, Count when none does (the Job's default).
func actionFor(pfp *batchv1.PodFailurePolicy, container string, code int32) batchv1.PodFailurePolicyAction {
	for _, r := range pfp.Rules {
		ec := r.OnExitCodes
		if ec == nil || !appliesTo(ec, container) {
			continue
		}
		if slices.Contains(ec.Values, code) == (ec.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn) {
			return r.Action
		}
	}
	return batchv1.PodFailurePolicyActionCount
}

// shardProblems: an Indexed Job runs one shard per index; vpcepctl takes
// the index from JOB_COMPLETION_INDEX and the count from VPCEPCTL_SHARDS.
func shardProblems(w *workload, inv invocation) []string {
	var ps []string
	shards, set := inv.env["VPCEPCTL_SHARDS"]
	switch {
	case indexed(w.job) && shards != strconv.Itoa(int(*w.job.Completions)):
		ps = append(ps, fmt.Sprintf("VPCEPCTL_SHARDS %q, want completions (%d): otherwise shards are planned twice or not at all", shards, *w.job.Completions))
	case !indexed(w.job) && set:
		ps = append(ps, "VPCEPCTL_SHARDS without completionMode Indexed: no pod has a JOB_COMPLETION_INDEX")
	}
	if _, ok := inv.env["JOB_COMPLETION_INDEX"]; ok {
		ps = append(ps, "JOB_COMPLETION_INDEX is Kubernetes' to set")
	}
	if _, ok := inv.flags["--shard"]; ok && indexed(w.job) {
		ps = append(ps, "--shard would give every index the same shard")
	}
	return ps
}

// cronProblems: a CronJob says its time zone, never runs twice at once,
// and a daily schedule runs exactly once every day, DST changes included.
func cronProblems(cj *batchv1.CronJobSpec) []string {
	var ps []string
	if cj.ConcurrencyPolicy != batchv1.ForbidConcurrent {
		ps = append(ps, fmt.Sprintf("concurrencyPolicy %q: want Forbid, so that a run that outlasts its interval does not overlap the next", cj.ConcurrencyPolicy))
	}
	if cj.TimeZone == nil {
		return append(ps, "no timeZone: the schedule would follow the zone of the controller manager, which nobody here chose")
	}
	loc, err := time.LoadLocation(*cj.TimeZone)
	sched, err2 := cron.ParseStandard(cj.Schedule)
	if err != nil || err2 != nil {
		return ps // scheduleProblems says why
	}
	// Two years from a fixed date: runs per local day.
	start := time.Date(2027, 1, 1, 0, 0, 0, 0, loc)
	end := start.AddDate(2, 0, 0)
	perDay := map[string]int{}
	runs := 0
	for t := sched.Next(start); !t.IsZero() && t.Before(end); t = sched.Next(t) {
		perDay[t.Format(time.DateOnly)]++
		runs++
	}
	if runs > 800 || len(perDay) < 700 {
		return ps // several times a day, or not every day
	}
	for d := start; d.Before(end); d = d.AddDate(0, 0, 1) {
		if n := perDay[d.Format(time.DateOnly)]; n != 1 {
			ps = append(ps, fmt.Sprintf("schedule %q in %s runs %d times on %s (a DST change): choose a time that exists once every day",
				cj.Schedule, *cj.TimeZone, n, d.Format(time.DateOnly)))
		}
	}
	return ps
}
