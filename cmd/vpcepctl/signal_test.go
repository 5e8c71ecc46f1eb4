package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/apply"
)

// writeBigManifest writes one set of n interface endpoints.
func writeBigManifest(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("version: 1\nset: bulk\ndefaults:\n  endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be\nendpoints:\n")
	for i := range n {
		fmt.Fprintf(&b, "  - name: ep-%04d\n    vpc_id: %08x-0000-4000-8000-000000000001\n    subnet_id: %08x-0000-4000-8000-000000000002\n", i, i, i)
	}
	dir := t.TempDir()
	return writeFile(t, dir, "bulk.yaml", b.String())
}

// startApply starts "vpcepctl apply" in the background.
func startApply(t *testing.T, env []string, args ...string) (*exec.Cmd, *strings.Builder) {
	t.Helper()
	cmd := exec.Command(vpcepctlPath(t), append([]string{"apply", "--yes", "--log-level", "warn"}, args...)...)
	cmd.Env = append(cleanEnv(), env...)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stderr
}

// waitForOwned polls the simulator until at least n endpoints exist.
func waitForOwned(t *testing.T, env []string, n int) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		total := 0
		for _, c := range listOwned(t, env) {
			total += c
		}
		if total >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %d endpoints after 60s, want %d", total, n)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func exitCode(err error) int {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return ee.ExitCode()
	}
	if err != nil {
		return -1
	}
	return 0
}

// TestSIGTERMHalfway: a graceful stop exits 143 and the report lists
// every endpoint created so far.
func TestSIGTERMHalfway(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vpcepctl as a process")
	}
	const n = 200
	env := startSimProcess(t, "--quota", "1000", "--latency", "20ms", "--accept-after", "200ms")
	m := writeBigManifest(t, n)
	report := filepath.Join(t.TempDir(), "report.json")
	cmd, stderr := startApply(t, env, "-f", m, "--rate", "40", "--concurrency", "4", "--poll-interval", "100ms", "--report", report)
	waitForOwned(t, env, n/5)
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := exitCode(err); code != 143 {
		t.Fatalf("exit %d, want 143\nstderr:\n%s", code, stderr)
	}
	data, err := os.ReadFile(report)
	if err != nil {
		t.Fatalf("no report after SIGTERM: %v\nstderr:\n%s", err, stderr)
	}
	var rep apply.Report
	if err := json.Unmarshal(data, &rep); err != nil {
		t.Fatal(err)
	}
	ids := map[string]apply.Result{}
	for _, r := range rep.Results {
		if r.ID != "" {
			ids[r.Set+"/"+r.Name] = r
		}
	}
	owned := listOwned(t, env)
	created := 0
	for name, c := range owned {
		created += c
		if c != 1 {
			t.Errorf("%s: %d endpoints", name, c)
		}
		if _, ok := ids[name]; !ok {
			t.Errorf("%s exists but the report does not list it with an id", name)
		}
	}
	if created == 0 || created >= n {
		t.Errorf("%d endpoints created; the test wants the run stopped halfway", created)
	}
	if rep.Summary.Skipped == 0 {
		t.Errorf("report summary %+v: want the changes not started reported as skipped", rep.Summary)
	}
	if len(rep.Results) != n {
		t.Errorf("report has %d results, want %d (one per planned change)", len(rep.Results), n)
	}
}

// TestSIGKILLThenRerunConverges: after a kill -9 halfway, the next run
// converges from the live tags alone, with no duplicate.
func TestSIGKILLThenRerunConverges(t *testing.T) {
	if testing.Short() {
		t.Skip("runs vpcepctl as a process")
	}
	const n = 200
	env := startSimProcess(t, "--quota", "1000", "--latency", "20ms", "--accept-after", "200ms")
	m := writeBigManifest(t, n)
	cmd, _ := startApply(t, env, "-f", m, "--rate", "40", "--concurrency", "4", "--poll-interval", "100ms")
	waitForOwned(t, env, n/5)
	if err := cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	_ = cmd.Wait()
	mid := 0
	for _, c := range listOwned(t, env) {
		mid += c
	}
	if mid >= n {
		t.Fatalf("%d endpoints before the rerun; the kill came too late", mid)
	}
	out, stderr, code := runBinary(t, env, "apply", "--yes", "-f", m, "--rate", "200", "--concurrency", "16", "--poll-interval", "100ms", "--log-level", "warn")
	if code != 0 {
		t.Fatalf("rerun: exit %d\n%s\n%s", code, out, stderr)
	}
	if want := fmt.Sprintf("Plan: %d to create", n-mid); !strings.Contains(out, want) {
		t.Errorf("rerun plan does not say %q:\n%s", want, out)
	}
	owned := listOwned(t, env)
	if len(owned) != n {
		t.Errorf("%d names after the rerun, want %d", len(owned), n)
	}
	for name, c := range owned {
		if c != 1 {
			t.Errorf("%s: %d endpoints, want 1", name, c)
		}
	}
}
