package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/apply"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestLoadTwoRunsUnderFaults is the promise of DESIGN.md "Apply" under the
// faults of the real back end: two vpcepctl processes apply one manifest
// of 2,000 endpoints at once against one "vpcepctl sim" server whose
// lost creates commit up to 40 s late, whose created_at ties come back in
// a fresh order on every list, which answers 20% of requests with a 5xx,
// loses 10% of the answers to creates and deletes, and throttles. After
// both exit, each with 0, exactly 2,000 endpoints exist, one per name, and
// a plan finds nothing to do.
func TestLoadTwoRunsUnderFaults(t *testing.T) {
	if os.Getenv("VPCEPCTL_LOAD_TEST") != "1" {
		t.Skip("two processes, 2,000 endpoints, minutes: VPCEPCTL_LOAD_TEST=1 runs it (make test does)")
	}
	const n = 2000
	env := startSimProcess(t, "--accept-after", "2s", "--quota", "10000", "--throttle-rps", "150",
		"--fail-rate", "0.2", "--lost-rate", "0.1", "--commit-delay", "40s", "--tie-order", "random", "--seed", "7")
	manifest := writeBigManifest(t, n)
	dir := t.TempDir()
	start := time.Now()
	var cmds []*exec.Cmd
	var logs []*strings.Builder
	for i := range 2 {
		cmd, stderr := startApply(t, env, "-f", manifest, "--commit-window", "45s", "--rate", "100", "--concurrency", "32",
			"--poll-interval", "2s", "--report", filepath.Join(dir, "report"+string(rune('a'+i))+".json"))
		cmds, logs = append(cmds, cmd), append(logs, stderr)
	}
	for i, cmd := range cmds {
		done := make(chan error, 1)
		go func() { done <- cmd.Wait() }()
		select {
		case err := <-done:
			if code := exitCode(err); code != 0 {
				t.Errorf("run %d exited %d:\n%s", i, code, tail(logs[i].String()))
			}
		case <-time.After(8 * time.Minute):
			t.Fatalf("run %d did not end within 8 minutes", i)
		}
	}
	t.Logf("both runs ended after %s", time.Since(start).Round(time.Second))
	swept := 0
	for i := range 2 {
		var rep apply.Report
		if err := json.Unmarshal([]byte(readFile(t, filepath.Join(dir, "report"+string(rune('a'+i))+".json"))), &rep); err != nil {
			t.Fatal(err)
		}
		for _, r := range rep.Results {
			if r.Action == "delete" {
				swept++
			}
		}
		t.Logf("run %d: %+v", i, rep.Summary)
	}
	if swept == 0 {
		t.Error("no run swept a duplicate: the runs did not overlap, the test does not test it")
	}

	eps := listAll(t, env)
	names := map[string]int{}
	live := 0
	for _, e := range eps {
		if e.Status == vpcep.StatusDeleting {
			continue // a duplicate on its way out
		}
		live++
		name, _ := e.TagValue(manifests.TagName)
		names[name]++
	}
	dups := 0
	for name, k := range names {
		if k > 1 {
			dups++
			if dups <= 5 {
				t.Errorf("%d endpoints named %s", k, name)
			}
		}
	}
	if live != n || len(names) != n || dups > 0 {
		t.Errorf("%d endpoints with %d names (%d duplicated), want %d, one each", live, len(names), dups, n)
	}
	if _, stderr, code := runBinary(t, env, "plan", "-f", manifest, "--detailed-exitcode"); code != 0 {
		t.Errorf("plan after both runs exited %d, want 0 (nothing to do):\n%s", code, tail(stderr))
	}
}
