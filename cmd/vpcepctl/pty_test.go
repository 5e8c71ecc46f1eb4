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
