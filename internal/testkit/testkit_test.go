package testkit

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// recordTB records what RequireTool and Golden do with a testing.TB.
type recordTB struct {
	testing.TB
	fatal, skip, errorf string
}

func (r *recordTB) Helper() {}
func (r *recordTB) Fatal(args ...any) {
	r.fatal = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recordTB) Fatalf(format string, args ...any) {
	r.fatal = fmt.Sprintf(format, args...)
	runtime.Goexit()
}
func (r *recordTB) Skip(args ...any) {
	r.skip = fmt.Sprint(args...)
	runtime.Goexit()
}
func (r *recordTB) Errorf(format string, args ...any) { r.errorf = fmt.Sprintf(format, args...) }

// record runs f with a recordTB in a goroutine of its own (Goexit ends it).
func record(t *testing.T, f func(testing.TB)) *recordTB {
	r := &recordTB{TB: t}
	done := make(chan struct{})
	go func() {
		defer close(done)
		f(r)
	}()
	<-done
	return r
}

func TestRequireTool(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	tests := []struct {
		name      string
		ci        string
		wantFatal string
		wantSkip  bool
	}{
		{name: "local", ci: "", wantSkip: true},
		{name: "ci false", ci: "false", wantSkip: true},
		{name: "ci", ci: "true", wantFatal: "promtool not installed: .ci/install-deps installs it"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Setenv("CI", tt.ci)
			r := record(t, func(tb testing.TB) { RequireTool(tb, "promtool") })
			if r.fatal != tt.wantFatal {
				t.Errorf("RequireTool(promtool) with CI=%q: Fatal(%q), want Fatal(%q)", tt.ci, r.fatal, tt.wantFatal)
			}
			if (r.skip != "") != tt.wantSkip {
				t.Errorf("RequireTool(promtool) with CI=%q: Skip(%q), want skip %v", tt.ci, r.skip, tt.wantSkip)
			}
		})
	}
}

func TestGolden(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "sub", "x.golden")
	if r := record(t, func(tb testing.TB) { Golden(tb, path, []byte("a")) }); r.fatal == "" {
		t.Error("Golden without the file: no failure")
	}
	*Update = true
	r := record(t, func(tb testing.TB) { Golden(tb, path, []byte("a")) })
	*Update = false
	if r.fatal != "" || r.errorf != "" {
		t.Fatalf("Golden -update: %s%s", r.fatal, r.errorf)
	}
	if b, err := os.ReadFile(path); err != nil || string(b) != "a" {
		t.Fatalf("Golden -update wrote %q, %v", b, err)
	}
	if r := record(t, func(tb testing.TB) { Golden(tb, path, []byte("a")) }); r.errorf != "" || r.fatal != "" {
		t.Errorf("Golden, same content: %s%s", r.errorf, r.fatal)
	}
	if r := record(t, func(tb testing.TB) { Golden(tb, path, []byte("b")) }); r.errorf == "" {
		t.Error("Golden, different content: no error")
	}
}

func TestClock(t *testing.T) {
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	c := NewClock(start)
	c.Advance(time.Second)
	if got := c.Now(); !got.Equal(start.Add(time.Second)) {
		t.Errorf("Now after Advance(1s) = %v", got)
	}
}

// TestClosedAddr: nothing listens on the address.
func TestClosedAddr(t *testing.T) {
	addr := ClosedAddr(t)
	if c, err := net.Dial("tcp", addr); err == nil {
		c.Close()
		t.Errorf("%s accepted a connection", addr)
	}
}
