package main

import (
	"bytes"
	"io"
	"os/exec"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/creack/pty"
)

// TestTerminalProgress runs apply on a terminal (a pty) against a
// simulator that accepts endpoints after 11s: within 2s of the start the
// screen shows the plan and the live status line; while nothing
// finishes, a heartbeat line comes after 10s; each change ends with a
// human line.
func TestTerminalProgress(t *testing.T) {
	if testing.Short() {
		t.Skip("runs for 12s")
	}
	env := startSimProcess(t, "--accept-after", "11s")
	cmd := exec.Command(vpcepctlPath(t), "apply", "-f", "../../examples/manifests", "--yes", "--poll-interval", "200ms")
	cmd.Env = append(cleanEnv(), env...)
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var mu sync.Mutex
	var screen bytes.Buffer
	go func() {
		buf := make([]byte, 4096)
		for {
			n, err := f.Read(buf)
			mu.Lock()
			screen.Write(buf[:n])
			mu.Unlock()
			if err != nil {
				return
			}
		}
	}()
	read := func() string { mu.Lock(); defer mu.Unlock(); return screen.String() }

	time.Sleep(2 * time.Second)
	early := read()
	for _, want := range []string{"Plan: 7 to create", "0/7 done", "in flight", "awaiting status"} {
		if !strings.Contains(early, want) {
			t.Errorf("screen after 2s lacks %q:\n%q", want, early)
		}
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("apply: %v\n%s", err, read())
		}
	case <-time.After(time.Minute):
		t.Fatalf("apply did not end within a minute:\n%s", read())
	}
	_, _ = io.Copy(io.Discard, f)
	out := read()
	if !regexp.MustCompile(`\.\.\. 0/7 done, \d+ in flight, \d+ awaiting status, 0 failed`).MatchString(out) {
		t.Errorf("no heartbeat line while nothing finished for 10s:\n%q", out)
	}
	if !regexp.MustCompile(`\+ payments/checkout created \(id [0-9a-f-]{36}\) after 1\ds`).MatchString(out) {
		t.Errorf("no human line for payments/checkout:\n%q", out)
	}
	if !strings.Contains(out, "awaiting the service owner's approval (pendingAcceptance)") {
		t.Errorf("the approval service's endpoint not told apart:\n%q", out)
	}
	if !strings.Contains(out, "Apply: 6 succeeded, 1 awaiting approval, 0 failed, 0 skipped") {
		t.Errorf("no summary line:\n%q", out)
	}
}

// TestTerminalDestroyConfirms runs destroy on a terminal without --yes:
// it shows the plan and asks; anything but "yes" cancels (exit 1,
// nothing deleted), "yes" deletes the set's endpoints.
func TestTerminalDestroyConfirms(t *testing.T) {
	env := startSimProcess(t, "--accept-after", "0s")
	run := func(args ...string) *exec.Cmd {
		cmd := exec.Command(vpcepctlPath(t), args...)
		cmd.Env = append(cleanEnv(), env...)
		return cmd
	}
	if out, err := run("apply", "-f", "../../examples/manifests", "--yes", "--poll-interval", "50ms").CombinedOutput(); err != nil {
		t.Fatalf("apply: %v\n%s", err, out)
	}
	for _, tt := range []struct {
		answer   string
		exit     int
		declared string // what status says of storage/obs-billing then
	}{
		{"no\n", 1, "in sync"},
		{"yes\n", 0, "+ create"},
	} {
		cmd := run("destroy", "-f", "../../examples/manifests", "--set", "storage", "--poll-interval", "50ms")
		f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 200})
		if err != nil {
			t.Fatal(err)
		}
		var screen bytes.Buffer
		readUntil := func(want string) {
			buf := make([]byte, 4096)
			deadline := time.Now().Add(30 * time.Second)
			for !strings.Contains(screen.String(), want) && time.Now().Before(deadline) {
				n, err := f.Read(buf)
				screen.Write(buf[:n])
				if err != nil {
					break
				}
			}
		}
		readUntil("Destroy 2 endpoints? Only 'yes' is accepted: ")
		if !strings.Contains(screen.String(), "2 to delete") {
			t.Errorf("no plan before the question:\n%q", screen.String())
		}
		if _, err := f.WriteString(tt.answer); err != nil {
			t.Fatal(err)
		}
		readUntil("\x00") // to the end
		_ = cmd.Wait()
		f.Close()
		if got := cmd.ProcessState.ExitCode(); got != tt.exit {
			t.Errorf("answer %q: exit %d, want %d\n%q", tt.answer, got, tt.exit, screen.String())
		}
		out, _ := run("status", "-f", "../../examples/manifests", "--set", "storage").Output()
		if !regexp.MustCompile(`storage/obs-billing .*` + regexp.QuoteMeta(tt.declared)).Match(out) {
			t.Errorf("answer %q: status\n%s", tt.answer, out)
		}
	}
}
