package main

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
)

// binary builds vpcepctl once per test run.
func binary(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "vpcepctl-e2e-")
		if err != nil {
			buildErr = err
			return
		}
		binPath = filepath.Join(dir, "vpcepctl")
		if runtime.GOOS == "windows" {
			binPath += ".exe"
		}
		out, err := exec.Command("go", "build", "-race", "-o", binPath, ".").CombinedOutput()
		if err != nil {
			buildErr = errors.New(string(out))
		}
	})
	if buildErr != nil {
		t.Fatalf("go build: %v", buildErr)
	}
	return binPath
}

// startSimProcess runs "vpcepctl sim" on a free loopback port and returns
// the OS_* variables it printed.
func startSimProcess(t *testing.T, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, binary(t), append([]string{"sim", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
	cmd.Cancel = func() error { return cmd.Process.Signal(os.Interrupt) }
	cmd.WaitDelay = 10 * time.Second
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cancel(); _ = cmd.Wait() })
	var env []string
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		line := sc.Text()
		if strings.HasPrefix(line, "export ") {
			env = append(env, strings.TrimPrefix(line, "export "))
		}
		if strings.HasPrefix(line, "#") {
			break
		}
	}
	go func() { _, _ = io.Copy(io.Discard, stdout) }()
	if len(env) == 0 {
		t.Fatal("vpcepctl sim printed no OS_* exports")
	}
	return env
}

// runBinary runs the built binary with env and returns stdout, stderr and
// the exit code.
func runBinary(t *testing.T, env []string, args ...string) (string, string, int) {
	t.Helper()
	cmd := exec.Command(binary(t), args...)
	cmd.Env = append(cleanEnv(), env...)
	var stdout, stderr strings.Builder
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return stdout.String(), stderr.String(), code
}

// cleanEnv is the environment without OS_* and VPCEPCTL_* variables.
func cleanEnv() []string {
	var out []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "OS_") || strings.HasPrefix(kv, "VPCEPCTL_") {
			continue
		}
		out = append(out, kv)
	}
	return out
}

func envMap(env []string) func(string) string {
	m := map[string]string{}
	for _, kv := range env {
		k, v, _ := strings.Cut(kv, "=")
		m[k] = v
	}
	return func(k string) string { return m[k] }
}

// listAll lists the simulator's endpoints through the real client (with
// retries: the server may be failing on purpose).
func listAll(t *testing.T, env []string) []vpcep.Endpoint {
	t.Helper()
	creds, err := otc.CredentialsFromEnv(envMap(env), "")
	if err != nil {
		t.Fatal(err)
	}
	p, err := otc.NewProvider(otc.Options{Credentials: creds, MaxRetries: 20, RetryWaitMax: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	c, err := p.Client(t.Context(), "", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	eps, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return eps
}

// listOwned counts the simulator's endpoints by set/name.
func listOwned(t *testing.T, env []string) map[string]int {
	t.Helper()
	names := map[string]int{}
	for _, e := range listAll(t, env) {
		set, _ := e.TagValue(manifests.TagSet)
		name, _ := e.TagValue(manifests.TagName)
		names[set+"/"+name]++
	}
	return names
}

// TestEndToEnd is the walking skeleton's acceptance test: the binary
// against "vpcepctl sim", through the OS_* variables it prints.
func TestEndToEnd(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	env := startSimProcess(t, "--accept-after", "200ms")
	examples := filepath.Join("..", "..", "examples", "manifests")
	ms, err := manifests.Load([]string{examples}, nil)
	if err != nil {
		t.Fatal(err)
	}

	out, stderr, code := runBinary(t, env, "plan", "-f", examples, "--detailed-exitcode")
	if code != 2 {
		t.Fatalf("first plan: exit %d, want 2 (changes)\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if want := "Plan: 7 to create, 0 to tag, 0 to replace, 0 to adopt, 0 to delete, 0 conflicts, 0 unchanged."; !strings.Contains(out, want) {
		t.Errorf("first plan: no %q in\n%s", want, out)
	}

	out, stderr, code = runBinary(t, env, "apply", "-f", examples, "--yes", "--poll-interval", "100ms")
	if code != 0 {
		t.Fatalf("apply: exit %d\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if !strings.Contains(stderr, "Apply: 7 succeeded, 0 failed, 0 skipped") {
		t.Errorf("apply summary missing:\n%s", stderr)
	}

	out, stderr, code = runBinary(t, env, "plan", "-f", examples, "--detailed-exitcode")
	if code != 0 {
		t.Fatalf("second plan: exit %d, want 0 (no changes)\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}

	names := listOwned(t, env)
	total := 0
	for _, n := range names {
		total += n
	}
	if total != manifests.Count(ms) {
		t.Errorf("simulator holds %d endpoints, want %d (one per manifest entry): %v", total, manifests.Count(ms), names)
	}
	for _, m := range ms {
		for _, e := range m.Endpoints {
			if n := names[e.Set+"/"+e.Name]; n != 1 {
				t.Errorf("%s/%s: %d endpoints, want exactly 1", e.Set, e.Name, n)
			}
		}
	}
}
