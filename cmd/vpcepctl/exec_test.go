package main

// Helpers of the tests that run vpcepctl as processes of its own (a
// signal to a real process, two processes at once): the test binary
// itself, linked into $PATH by TestMain.

import (
	"bufio"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/otc"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// startSimProcess runs "vpcepctl sim" on a free loopback port and returns
// the OS_* variables it printed.
func startSimProcess(t *testing.T, args ...string) []string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, vpcepctlPath(t), append([]string{"sim", "--addr", "127.0.0.1:0", "--log-level", "warn"}, args...)...)
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
	cmd := exec.Command(vpcepctlPath(t), args...)
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

func writeFile(t *testing.T, dir, name, body string) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

// TestSimServerAKSK: "vpcepctl sim --aksk" prints the variables of AK/SK
// signing, and a plan through them signs its requests.
func TestSimServerAKSK(t *testing.T) {
	env := startSimProcess(t, "--aksk")
	if got := envMap(env); got("OS_ACCESS_KEY") == "" || got("OS_PASSWORD") != "" || got("VPCEPCTL_ENDPOINT") == "" {
		t.Fatalf("sim --aksk printed %q", env)
	}
	out, stderr, code := runBinary(t, env, "plan", "-f", filepath.Join("..", "..", "examples", "manifests"))
	if code != 0 || !strings.Contains(out, "Plan: 7 to create") {
		t.Errorf("plan through AK/SK: exit %d\n%s\n%s", code, out, stderr)
	}
}

// TestSimServerExportsWithCredentialsSet: "vpcepctl sim" prints its own
// password even when the shell holds it already (a second simulator in a
// shell that sourced the first one's exports).
func TestSimServerExportsWithCredentialsSet(t *testing.T) {
	cmd := exec.Command(vpcepctlPath(t), "sim", "--addr", "127.0.0.1:0", "--log-level", "warn")
	cmd.Env = append(cleanEnv(), "OS_PASSWORD="+sim.Password)
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	sc := bufio.NewScanner(stdout)
	for sc.Scan() {
		if line := sc.Text(); strings.HasPrefix(line, "export OS_PASSWORD=") {
			if line != "export OS_PASSWORD="+sim.Password {
				t.Errorf("printed %q, want the simulator's password", line)
			}
			return
		}
	}
	t.Fatal("no OS_PASSWORD export")
}
