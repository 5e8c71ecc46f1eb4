package kubernetes

// The rules: those of the API server (pkg/apis/batch/validation in
// Kubernetes, for the fields the examples use), and those of vpcepctl.

import (
	"fmt"
	"slices"
	"strings"
	"time"
	_ "time/tzdata" // the CronJob time zones, whatever the machine has

	"github.com/robfig/cron/v3"
	batchv1 "k8s.io/api/batch/v1"
	corev1 "k8s.io/api/core/v1"
)

// apiServerProblems returns what the API server would refuse.
func apiServerProblems(w *workload) []string {
	var ps []string
	add := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	spec := w.job
	switch rp := spec.Template.Spec.RestartPolicy; {
	case rp != corev1.RestartPolicyNever && rp != corev1.RestartPolicyOnFailure:
		add("restartPolicy %q: a Job's pods want Never or OnFailure", rp)
	case spec.PodFailurePolicy != nil && rp != corev1.RestartPolicyNever:
		add("restartPolicy %q: podFailurePolicy needs Never", rp)
	}
	indexed := spec.CompletionMode != nil && *spec.CompletionMode == batchv1.IndexedCompletion
	if indexed && spec.Completions == nil {
		add("completionMode Indexed needs completions")
	}
	if !indexed && (spec.BackoffLimitPerIndex != nil || spec.MaxFailedIndexes != nil) {
		add("backoffLimitPerIndex and maxFailedIndexes need completionMode Indexed")
	}
	if spec.PodFailurePolicy != nil {
		ps = append(ps, podFailurePolicyProblems(spec)...)
	}
	if w.cron != nil {
		ps = append(ps, scheduleProblems(w.cron)...)
		if len(w.name) > 52 {
			add("name %q: a CronJob's name has at most 52 characters (its Jobs add 11)", w.name)
		}
	}
	return ps
}

// podFailurePolicyProblems checks the rules of a pod failure policy.
func podFailurePolicyProblems(spec *batchv1.JobSpec) []string {
	var ps []string
	add := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	var names []string
	for _, c := range append(slices.Clone(spec.Template.Spec.InitContainers), spec.Template.Spec.Containers...) {
		names = append(names, c.Name)
	}
	rules := spec.PodFailurePolicy.Rules
	if len(rules) > 20 {
		add("podFailurePolicy: %d rules, at most 20", len(rules))
	}
	for i, r := range rules {
		where := fmt.Sprintf("podFailurePolicy.rules[%d]", i)
		switch r.Action {
		case batchv1.PodFailurePolicyActionFailJob, batchv1.PodFailurePolicyActionIgnore, batchv1.PodFailurePolicyActionCount:
		case batchv1.PodFailurePolicyActionFailIndex:
			if spec.BackoffLimitPerIndex == nil {
				add("%s: action FailIndex needs backoffLimitPerIndex", where)
			}
		default:
			add("%s: action %q: want FailJob, FailIndex, Ignore or Count", where, r.Action)
		}
		if (r.OnExitCodes == nil) == (len(r.OnPodConditions) == 0) {
			add("%s: give one of onExitCodes and onPodConditions", where)
		}
		for j, c := range r.OnPodConditions {
			if c.Status != corev1.ConditionTrue && c.Status != corev1.ConditionFalse && c.Status != corev1.ConditionUnknown {
				add("%s.onPodConditions[%d]: status %q: want True, False or Unknown", where, j, c.Status)
			}
		}
		if r.OnExitCodes != nil {
			ps = append(ps, exitCodesProblems(where+".onExitCodes", r.OnExitCodes, names)...)
		}
	}
	return ps
}

func exitCodesProblems(where string, ec *batchv1.PodFailurePolicyOnExitCodesRequirement, containers []string) []string {
	var ps []string
	add := func(format string, args ...any) { ps = append(ps, fmt.Sprintf(format, args...)) }
	if ec.Operator != batchv1.PodFailurePolicyOnExitCodesOpIn && ec.Operator != batchv1.PodFailurePolicyOnExitCodesOpNotIn {
		add("%s: operator %q: want In or NotIn", where, ec.Operator)
	}
	if ec.ContainerName != nil && !slices.Contains(containers, *ec.ContainerName) {
		add("%s: containerName %q names no container of the pod (%s)", where, *ec.ContainerName, strings.Join(containers, ", "))
	}
	if n := len(ec.Values); n == 0 || n > 255 {
		add("%s: %d values, want 1 to 255", where, n)
	}
	for i, v := range ec.Values {
		if v == 0 && ec.Operator == batchv1.PodFailurePolicyOnExitCodesOpIn {
			add("%s: values: 0 is not allowed with In (a container that exits 0 did not fail)", where)
		}
		if i > 0 && ec.Values[i-1] >= v {
			add("%s: values %v: want them ascending, without duplicates", where, ec.Values)
			break
		}
	}
	return ps
}

// scheduleProblems checks a CronJob's schedule and time zone as the API
// server does (robfig/cron parses it there too).
func scheduleProblems(cj *batchv1.CronJobSpec) []string {
	var ps []string
	if _, err := cron.ParseStandard(cj.Schedule); err != nil {
		ps = append(ps, fmt.Sprintf("schedule %q: %v", cj.Schedule, err))
	}
	if strings.Contains(cj.Schedule, "TZ") {
		ps = append(ps, fmt.Sprintf("schedule %q: TZ= and CRON_TZ= are refused, use timeZone", cj.Schedule))
	}
	if tz := cj.TimeZone; tz != nil {
		if _, err := time.LoadLocation(*tz); err != nil || *tz == "" || strings.EqualFold(*tz, "Local") {
			ps = append(ps, fmt.Sprintf("timeZone %q: want an IANA time zone such as Europe/Berlin", *tz))
		}
	}
	return ps
}
