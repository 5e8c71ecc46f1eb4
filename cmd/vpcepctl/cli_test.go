package main

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// cli runs vpcepctl in-process against a simulator whose state lives in a
// temporary directory shared by every call of one test.
type cli struct {
	t     *testing.T
	state string
	env   map[string]string
}

func newCLI(t *testing.T) *cli {
	t.Helper()
	dir := t.TempDir()
	return &cli{t: t, state: filepath.Join(dir, "sim.json"), env: map[string]string{"HOME": dir}}
}

func (c *cli) run(args ...string) (stdout, stderr string, code int) {
	c.t.Helper()
	var out, errb strings.Builder
	full := append([]string{"--sim", "--sim-state", c.state, "--log-level", "warn"}, args...)
	code = run(context.Background(), full, strings.NewReader(""), &out, &errb, func(k string) string { return c.env[k] })
	return out.String(), errb.String(), code
}

func examplesDir() string { return filepath.Join("..", "..", "examples", "manifests") }

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestValidate(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", `version: 1
set: payments
endpoints:
  - name: app-a
    vpc_id: not-a-uuid
    subnet_id: 68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de
    endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be
    enable_dsn: true
`)
	tests := []struct {
		name       string
		args       []string
		wantCode   int
		wantStdout string
		wantStderr []string
	}{
		{"valid examples", []string{"validate", "-f", examplesDir()}, 0, "7 endpoints in 3 sets (3 documents): valid.\n", nil},
		{"invalid manifest", []string{"validate", "-f", bad}, 3, "", []string{
			"vpcepctl: error: " + bad + ":5:13: ",
			"vpcepctl: error: " + bad + ":8:5: ",
			"enable_dns",
		}},
		{"missing path", []string{"validate", "-f", filepath.Join(dir, "nope.yaml")}, 3, "", []string{"nope.yaml"}},
		{"no -f", []string{"validate"}, 3, "", []string{"vpcepctl: error: no manifests"}},
		{"unknown flag", []string{"validate", "--frobnicate"}, 3, "", []string{"vpcepctl: error: unknown flag: --frobnicate"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newCLI(t)
			out, errs, code := c.run(tt.args...)
			if code != tt.wantCode {
				t.Errorf("exit %d, want %d\nstderr:\n%s", code, tt.wantCode, errs)
			}
			if tt.wantStdout != "" && out != tt.wantStdout {
				t.Errorf("stdout %q, want %q", out, tt.wantStdout)
			}
			for _, w := range tt.wantStderr {
				if !strings.Contains(errs, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, errs)
				}
			}
			for _, line := range strings.Split(strings.TrimSpace(errs), "\n") {
				if line != "" && !strings.HasPrefix(line, "vpcepctl: error: ") {
					t.Errorf("stderr line without the error prefix: %q", line)
				}
			}
		})
	}
}

func TestFlagErrorsExit3(t *testing.T) {
	for _, args := range [][]string{
		{"plan", "-f", examplesDir(), "--shard", "3/3"},
		{"plan", "-f", examplesDir(), "--shard", "x"},
		{"plan", "-f", examplesDir(), "-o", "yaml"},
		{"plan", "-f", examplesDir(), "extra-arg"},
		{"apply", "plan.json", "-f", examplesDir()},
		{"apply", "-f", examplesDir(), "--rate", "0"},
		{"--log-format", "xml", "plan", "-f", examplesDir()},
		{"apply", filepath.Join(t.TempDir(), "missing-plan.json")},
		{"apply", filepath.Join(examplesDir(), "payments.yaml")},
		{"bogus"},
		{"apply", "-f", examplesDir(), "--yes", "--report", "/nonexistent-dir/report.json"},
		{"plan", "-f", examplesDir(), "--out", "/nonexistent-dir/plan.json"},
		{"apply", "-f", examplesDir(), "--yes", "--wait-timeout", "10"},
	} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			_, errs, code := newCLI(t).run(args...)
			if code != 3 {
				t.Errorf("exit %d, want 3\nstderr:\n%s", code, errs)
			}
			if !strings.HasPrefix(errs, "vpcepctl: error: ") {
				t.Errorf("stderr %q, want a vpcepctl: error: line", errs)
			}
		})
	}
}

func TestPlanApplyPlanAgain(t *testing.T) {
	c := newCLI(t)
	out, errs, code := c.run("plan", "-f", examplesDir(), "--detailed-exitcode")
	if code != 2 || !strings.Contains(out, "Plan: 7 to create") {
		t.Fatalf("plan: exit %d\n%s\n%s", code, out, errs)
	}
	if _, errs, code = c.run("apply", "-f", examplesDir(), "--yes", "--poll-interval", "50ms"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	out, errs, code = c.run("plan", "-f", examplesDir(), "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("second plan: exit %d, want 0\n%s\n%s", code, out, errs)
	}
	if want := "Plan: 0 to create, 0 to tag, 0 to replace, 0 to adopt, 0 to delete, 0 conflicts, 7 unchanged.\n"; out != want {
		t.Errorf("second plan = %q, want %q", out, want)
	}
}

func TestPlanFileStaleAndReapplied(t *testing.T) {
	c := newCLI(t)
	pf := filepath.Join(t.TempDir(), "plan.json")
	if _, errs, code := c.run("plan", "-f", examplesDir(), "--out", pf); code != 0 {
		t.Fatalf("plan --out: exit %d\n%s", code, errs)
	}
	var doc map[string]any
	data, err := os.ReadFile(pf)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatalf("plan file is not JSON: %v", err)
	}
	if fp, _ := doc["fingerprint"].(string); !strings.HasPrefix(fp, "sha256:") {
		t.Errorf("fingerprint %q, want sha256:...", fp)
	}
	if _, errs, code := c.run("apply", pf, "--poll-interval", "50ms"); code != 0 {
		t.Fatalf("apply PLANFILE: exit %d\n%s", code, errs)
	}
	// The plan was made from an empty project: applying it again must be
	// refused, not create everything twice.
	_, errs, code := c.run("apply", pf)
	if code != 3 || !strings.Contains(errs, "plan is stale") {
		t.Fatalf("re-applied plan: exit %d, want 3 with 'plan is stale'\n%s", code, errs)
	}
	out, _, code := c.run("plan", "-f", examplesDir(), "--detailed-exitcode")
	if code != 0 {
		t.Errorf("plan after re-apply: exit %d, want 0 (nothing doubled)\n%s", code, out)
	}
}

func TestEnvironmentSetsFlags(t *testing.T) {
	c := newCLI(t)
	c.env["VPCEPCTL_OUTPUT"] = "json"
	out, errs, code := c.run("plan", "-f", examplesDir())
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	var doc struct {
		FormatVersion string         `json:"format_version"`
		Summary       map[string]int `json:"summary"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("VPCEPCTL_OUTPUT=json did not give JSON: %v\n%s", err, out)
	}
	if doc.FormatVersion != "1" || doc.Summary["create"] != 7 {
		t.Errorf("plan JSON = %+v", doc)
	}
	// The command line wins over the environment.
	out, _, _ = c.run("plan", "-f", examplesDir(), "-o", "text")
	if lines := strings.Split(strings.TrimSpace(out), "\n"); !strings.HasPrefix(lines[len(lines)-1], "Plan:") {
		t.Errorf("-o text with VPCEPCTL_OUTPUT=json:\n%s", out)
	}
	c.env["VPCEPCTL_RATE"] = "fast"
	if _, errs, code := c.run("apply", "-f", examplesDir(), "--yes"); code != 3 || !strings.Contains(errs, "VPCEPCTL_RATE") {
		t.Errorf("bad VPCEPCTL_RATE: exit %d\n%s", code, errs)
	}
}

func TestShardsPartitionThePlan(t *testing.T) {
	c := newCLI(t)
	total := 0
	for i := range 3 {
		c.env["JOB_COMPLETION_INDEX"] = string(rune('0' + i))
		c.env["VPCEPCTL_SHARDS"] = "3"
		out, errs, code := c.run("plan", "-f", examplesDir(), "-o", "json")
		if code != 0 {
			t.Fatalf("shard %d: exit %d\n%s", i, code, errs)
		}
		var doc struct {
			Summary map[string]int `json:"summary"`
		}
		if err := json.Unmarshal([]byte(out), &doc); err != nil {
			t.Fatal(err)
		}
		total += doc.Summary["create"]
	}
	if total != 7 {
		t.Errorf("creates over 3 shards = %d, want 7", total)
	}
}

func TestSeveralProjectsAndDefaultTarget(t *testing.T) {
	doc := func(project, name string) string {
		s := "version: 1\nset: payments\n"
		if project != "" {
			s += "project_id: " + project + "\n"
		}
		return s + "endpoints:\n  - name: " + name + `
    endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be
    vpc_id: 84758cf5-9c62-43ae-a778-3dbd8370c0a4
    subnet_id: 68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de
`
	}
	dir := t.TempDir()
	two := writeFile(t, dir, "two.yaml", doc("", "a")+"---\n"+doc("6e9dfd51d1124e8d8498dce894923a0d", "c"))
	c := newCLI(t)
	out, errs, code := c.run("plan", "-f", two)
	if code != 0 {
		t.Fatalf("exit %d\n%s", code, errs)
	}
	for _, want := range []string{
		"eu-de/0df25bbc87a24b1f9c1d2e3f4a5b6c7d:\n    + payments/a (",
		"eu-de/6e9dfd51d1124e8d8498dce894923a0d:\n    + payments/c (",
		"Plan: 2 to create",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not contain %q:\n%s", want, out)
		}
	}
	// The default project written out collides with a document without one.
	dup := writeFile(t, dir, "dup.yaml", doc("", "a")+"---\n"+doc("0df25bbc87a24b1f9c1d2e3f4a5b6c7d", "b"))
	_, errs, code = c.run("plan", "-f", dup)
	if code != 3 || !strings.Contains(errs, `set "payments" is already declared`) || !strings.Contains(errs, dup+":") {
		t.Errorf("same set for the default project twice: exit %d\n%s", code, errs)
	}
}

func TestJobIndexWithoutShardCount(t *testing.T) {
	c := newCLI(t)
	c.env["JOB_COMPLETION_INDEX"] = "2"
	_, errs, code := c.run("plan", "-f", examplesDir())
	if code != 3 || !strings.Contains(errs, "VPCEPCTL_SHARDS") {
		t.Errorf("JOB_COMPLETION_INDEX alone: exit %d, want 3 naming VPCEPCTL_SHARDS\n%s", code, errs)
	}
}

func TestApplyYAMLAsPlanFileHints(t *testing.T) {
	_, errs, code := newCLI(t).run("apply", filepath.Join(examplesDir(), "payments.yaml"))
	if code != 3 || !strings.Contains(errs, "to apply manifests, give them with -f") {
		t.Errorf("exit %d, want 3 with a hint to use -f\n%s", code, errs)
	}
}

func TestInvalidInputStillWritesMetrics(t *testing.T) {
	dir := t.TempDir()
	bad := writeFile(t, dir, "bad.yaml", "version: 1\nset: x\nendpoints: [{name: a}]\n")
	mf := filepath.Join(dir, "vpcepctl.prom")
	_, errs, code := newCLI(t).run("--metrics-file", mf, "plan", "-f", bad)
	if code != 3 {
		t.Fatalf("exit %d, want 3\n%s", code, errs)
	}
	data, err := os.ReadFile(mf)
	if err != nil {
		t.Fatalf("no metrics file after a run that failed on its input: %v", err)
	}
	if !strings.Contains(string(data), "vpcepctl_last_run_timestamp_seconds") {
		t.Errorf("metrics file lacks the last run:\n%s", data)
	}
	if strings.Contains(string(data), "vpcepctl_last_success_timestamp_seconds ") {
		t.Errorf("a failed run wrote a last success:\n%s", data)
	}
}

func TestJSONPlanWarnsOnStderr(t *testing.T) {
	c := newCLI(t)
	if _, errs, code := c.run("apply", "-f", examplesDir(), "--yes", "--poll-interval", "50ms"); code != 0 {
		t.Fatalf("apply: exit %d\n%s", code, errs)
	}
	dir := t.TempDir()
	one := writeFile(t, dir, "one.yaml", `version: 1
set: payments
endpoints:
  - name: checkout
    endpoint_service_id: 2da0fe8f-5cb7-4d93-bb35-dc05334da1be
    vpc_id: 84758cf5-9c62-43ae-a778-3dbd8370c0a4
    subnet_id: 68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de
    enable_dns: true
    description: checkout service to payments API
    tags: {team: payments, env: prod}
`)
	out, errs, code := c.run("plan", "-f", one, "-o", "json")
	if code != 0 {
		t.Fatalf("plan: exit %d\n%s", code, errs)
	}
	if !json.Valid([]byte(out)) {
		t.Errorf("stdout is not one JSON document:\n%s", out)
	}
	if !strings.Contains(errs, "vpcepctl: warning: 3 owned endpoint(s) no longer declared") {
		t.Errorf("stderr lacks the --prune warning:\n%s", errs)
	}
}
