package kubernetes

import (
	"slices"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
	"k8s.io/utils/ptr"
)

// TestRulesCatchMistakes changes one thing in an example and wants the
// rules to say what is wrong: each rule fails when it should.
func TestRulesCatchMistakes(t *testing.T) {
	const (
		apply   = "cronjob.yaml"
		monitor = "plan-drift-monitor.yaml"
		migrate = "indexed-job.yaml"
	)
	for _, tt := range []struct {
		name, file string
		change     func(w *workload)
		want       []string
	}{
		{"the drift monitor before issue 14: exit 2 Ignored", monitor, func(w *workload) {
			args(w, append(args(w), "--detailed-exitcode")...)
			w.job.PodFailurePolicy.Rules = []batchv1.PodFailurePolicyRule{{Action: batchv1.PodFailurePolicyActionIgnore,
				OnExitCodes: &batchv1.PodFailurePolicyOnExitCodesRequirement{ContainerName: ptr.To("vpcepctl"), Operator: "In", Values: []int32{2}}}}
		}, []string{"Ignore on exit In [2] starts a new pod for every such exit", "exit 2 (plan --detailed-exitcode found differences) is Ignore", "exit 3 (invalid input) is Count"}},
		{"--detailed-exitcode retried", monitor, func(w *workload) {
			args(w, append(args(w), "--detailed-exitcode")...)
			w.job.PodFailurePolicy.Rules[0].OnExitCodes.Values = []int32{3}
		}, []string{"exit 2 (plan --detailed-exitcode found differences) is Count"}},
		{"no podFailurePolicy", apply, func(w *workload) { w.job.PodFailurePolicy = nil }, []string{"no podFailurePolicy"}},
		{"exit 1 fails the Job", apply, func(w *workload) { w.job.PodFailurePolicy.Rules[0].OnExitCodes.Values = []int32{1, 3, 4} },
			[]string{"exit 1 (a rerun may fix it) is FailJob"}},
		{"apply without --yes", apply, func(w *workload) { args(w, slices.DeleteFunc(args(w), func(a string) bool { return a == "--yes" })...) },
			[]string{"apply without --yes"}},
		{"no --timeout", monitor, func(w *workload) { args(w, "plan", "-f", "/manifests") }, []string{"no --timeout"}},
		{"--timeout too long for the deadline", apply, func(w *workload) { flag(w, "--timeout", "1h50m") }, []string{"activeDeadlineSeconds (2h0m0s) is shorter than 2 runs"}},
		{"backoffLimit left at its default", apply, func(w *workload) { w.job.BackoffLimit = nil }, []string{"shorter than 7 runs"}},
		{"a wave of indexes after another", migrate, func(w *workload) { w.job.Parallelism = ptr.To[int32](2) }, []string{"shorter than 4 runs"}},
		{"--grace beyond terminationGracePeriodSeconds", apply, func(w *workload) { flag(w, "--grace", "90s") }, []string{"--grace 90s is not below"}},
		{"no activeDeadlineSeconds", migrate, func(w *workload) { w.job.ActiveDeadlineSeconds = nil }, []string{"no activeDeadlineSeconds"}},
		{"restartPolicy OnFailure", apply, func(w *workload) { w.job.Template.Spec.RestartPolicy = corev1.RestartPolicyOnFailure }, []string{"podFailurePolicy needs Never"}},
		{"exit code 0 with In", apply, func(w *workload) { w.job.PodFailurePolicy.Rules[0].OnExitCodes.Values = []int32{0, 3} }, []string{"0 is not allowed with In"}},
		{"values out of order", apply, func(w *workload) { w.job.PodFailurePolicy.Rules[0].OnExitCodes.Values = []int32{4, 3} }, []string{"want them ascending"}},
		{"containerName of no container", apply, func(w *workload) { w.job.PodFailurePolicy.Rules[0].OnExitCodes.ContainerName = ptr.To("vpcep") }, []string{`containerName "vpcep" names no container`}},
		{"FailIndex without backoffLimitPerIndex", apply, func(w *workload) { w.job.PodFailurePolicy.Rules[0].Action = batchv1.PodFailurePolicyActionFailIndex }, []string{"FailIndex needs backoffLimitPerIndex"}},
		{"both onExitCodes and onPodConditions", apply, func(w *workload) {
			w.job.PodFailurePolicy.Rules[1].OnExitCodes = w.job.PodFailurePolicy.Rules[0].OnExitCodes
		}, []string{"give one of onExitCodes and onPodConditions"}},
		{"02:30 in Berlin", apply, func(w *workload) { w.cron.Schedule = "30 2 * * *" }, []string{"runs 0 times on 2027-03-28", "runs 2 times on 2027-10-31"}},
		{"no timeZone", apply, func(w *workload) { w.cron.TimeZone = nil }, []string{"no timeZone"}},
		{"TZ in the schedule", monitor, func(w *workload) { w.cron.Schedule = "CRON_TZ=UTC 0 * * * *" }, []string{"TZ= and CRON_TZ= are refused"}},
		{"unknown time zone", monitor, func(w *workload) { w.cron.TimeZone = ptr.To("Europe/Bonn") }, []string{`timeZone "Europe/Bonn"`}},
		{"runs may overlap", apply, func(w *workload) { w.cron.ConcurrencyPolicy = batchv1.AllowConcurrent }, []string{"want Forbid"}},
		{"shards and completions differ", migrate, func(w *workload) { w.job.Completions = ptr.To[int32](8) }, []string{`VPCEPCTL_SHARDS "4", want completions (8)`}},
		{"shards without an Indexed Job", apply, func(w *workload) {
			c := &w.job.Template.Spec.Containers[0]
			c.Env = append(c.Env, corev1.EnvVar{Name: "VPCEPCTL_SHARDS", Value: "4"})
		}, []string{"VPCEPCTL_SHARDS without completionMode Indexed"}},
		{"image without a tag", apply, func(w *workload) { w.job.Template.Spec.Containers[0].Image = vpcepctlImage }, []string{"want ghcr.io/vpcepctl/vpcepctl:TAG"}},
		{"command instead of args", apply, func(w *workload) { w.job.Template.Spec.Containers[0].Command = []string{"/bin/sh"} }, []string{"replaces the image's entrypoint"}},
		{"manifests not mounted", apply, func(w *workload) { flag(w, "-f", "/config") }, []string{"-f /config is not in any volumeMount"}},
	} {
		ws, err := loadFile(tt.file)
		if err != nil || len(ws) != 1 {
			t.Fatalf("%s: %d workloads, %v", tt.file, len(ws), err)
		}
		w := ws[0]
		if ps := append(apiServerProblems(w), vpcepctlProblems(w)...); len(ps) > 0 {
			t.Fatalf("%s before the change: %q", tt.file, ps)
		}
		tt.change(w)
		ps := append(apiServerProblems(w), vpcepctlProblems(w)...)
		for _, want := range tt.want {
			if !slices.ContainsFunc(ps, func(p string) bool { return strings.Contains(p, want) }) {
				t.Errorf("%s: problems %q, want one with %q", tt.name, ps, want)
			}
		}
	}
}

// args returns the vpcepctl container's args, after setting them when
// some are given.
func args(w *workload, set ...string) []string {
	c := &w.job.Template.Spec.Containers[0]
	if len(set) > 0 {
		c.Args = set
	}
	return slices.Clone(c.Args)
}

// flag sets the value of a flag in the args.
func flag(w *workload, name, value string) {
	a := args(w)
	if i := slices.Index(a, name); i >= 0 && i+1 < len(a) {
		a[i+1] = value
	} else {
		a = append(a, name, value)
	}
	args(w, a...)
}
