package main

// Running the documentation's command lines (docexamples_test.go): a
// directory, an environment and a simulator per block.

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/vpcepctl/vpcepctl/sim"
)

// docShell is where the lines of one block run.
type docShell struct {
	t       *testing.T
	dir     string
	env     []string
	servers []*docServer
}

// docServer is a "vpcepctl sim" a line started in the background.
type docServer struct {
	step docStep
	cmd  *exec.Cmd
	done chan struct{} // closed when its stderr is drained
	logs *bytes.Buffer
}

// newDocShell makes a block's directory (examples/, bin/vpcepctl, and
// log/ for the cron examples), serves its simulator and sets the
// environment: only what a login shell would hold, and the OS_* that
// reach the simulator.
func newDocShell(t *testing.T) *docShell {
	t.Helper()
	dir := t.TempDir()
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	bin := vpcepctlPath(t)
	for _, d := range []string{"bin", "home", "state", "tmp", "log"} {
		if err := os.Mkdir(filepath.Join(dir, d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := errors.Join(
		os.Symlink(examples, filepath.Join(dir, "examples")),
		os.Symlink(bin, filepath.Join(dir, "bin", "vpcepctl")),
	); err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: sim.New(sim.Options{}).Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	env := []string{
		"PATH=" + filepath.Dir(bin) + ":/usr/local/bin:/usr/bin:/bin",
		"HOME=" + filepath.Join(dir, "home"),
		"XDG_STATE_HOME=" + filepath.Join(dir, "state"),
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"NO_COLOR=1",
	}
	return &docShell{t: t, dir: dir, env: append(env, sim.Env("http://"+ln.Addr().String())...)}
}

// runBlock runs the steps of a block in order, then stops its servers.
func runBlock(t *testing.T, steps []docStep) {
	d := newDocShell(t)
	defer d.stopServers()
	for _, s := range steps {
		switch s.kind {
		case stepSource:
			d.source(s)
		case stepServe:
			d.serve(s)
		default:
			d.run(s)
		}
	}
}

func (d *docShell) run(s docStep) {
	ctx, cancel := context.WithTimeout(d.t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "sh", "-c", s.run)
	cmd.Dir, cmd.Env = d.dir, d.env
	out, err := cmd.CombinedOutput()
	d.check(s, err, out)
}

// check reports a line that ended with a status it may not end with.
func (d *docShell) check(s docStep, err error, out []byte) {
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		d.t.Errorf("%s: %s: %v", s.where, s.text, err)
		return
	}
	if !slices.Contains(s.codes, code) || s.kind == stepRun && bytes.Contains(out, []byte("vpcepctl: error:")) {
		d.t.Errorf("%s: %s\n  ran as: %s\n  exited %d, want %v; output:\n%s", s.where, s.text, s.run, code, s.codes, out)
	}
}

// source sets the variables of FILE's "export K=V" lines, as ". FILE"
// does.
func (d *docShell) source(s docStep) {
	b, err := os.ReadFile(filepath.Join(d.dir, s.run))
	if err != nil {
		d.t.Errorf("%s: %s: %v", s.where, s.text, err)
		return
	}
	n := 0
	for _, line := range strings.Split(string(b), "\n") {
		kv, ok := strings.CutPrefix(line, "export ")
		if !ok {
			continue
		}
		k, _, _ := strings.Cut(kv, "=")
		d.env = append(slices.DeleteFunc(d.env, func(e string) bool { return strings.HasPrefix(e, k+"=") }), kv)
		n++
	}
	if n == 0 {
		d.t.Errorf("%s: %s: %s holds no export lines", s.where, s.text, s.run)
	}
}

// serve starts "vpcepctl sim" as the line says, on a free port when it
// gives no --addr (its default, 8787, may be taken), without the OS_*
// variables, and waits until it serves. A line that ends with & leaves it serving for the lines after
// it (until the end of the block); any other is stopped at once. Either
// must exit 130 on SIGINT.
func (d *docShell) serve(s docStep) {
	line := s.run
	if i := strings.Index(line, " #"); i >= 0 {
		line = line[:i]
	}
	line, background := strings.CutSuffix(strings.TrimSpace(line), "&")
	if !strings.Contains(line, "--addr") {
		line = strings.Replace(line, " sim", " sim --addr 127.0.0.1:0", 1)
	}
	srv := &docServer{step: s, done: make(chan struct{}), logs: new(bytes.Buffer)}
	srv.cmd = exec.Command("sh", "-c", "exec "+line)
	// A server needs no credentials; with the simulator's password in its
	// environment it would redact it from the export lines it prints.
	srv.cmd.Dir = d.dir
	srv.cmd.Env = slices.DeleteFunc(slices.Clone(d.env), func(e string) bool { return strings.HasPrefix(e, "OS_") })
	srv.cmd.Stdout = io.Discard
	stderr, err := srv.cmd.StderrPipe()
	if err == nil {
		err = srv.cmd.Start()
	}
	if err != nil {
		d.t.Errorf("%s: %s: %v", s.where, s.text, err)
		return
	}
	ready := make(chan struct{})
	go func() {
		defer close(srv.done)
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			srv.logs.WriteString(sc.Text() + "\n")
			if strings.Contains(sc.Text(), "simulator serving") {
				close(ready)
			}
		}
	}()
	select {
	case <-ready:
	case <-srv.done:
	case <-time.After(30 * time.Second):
	}
	d.servers = append(d.servers, srv)
	if !background {
		d.stopServers()
	}
}

// stopServers interrupts the servers the block started and checks that
// they exit 130.
func (d *docShell) stopServers() {
	for _, srv := range d.servers {
		_ = srv.cmd.Process.Signal(os.Interrupt)
		timer := time.AfterFunc(30*time.Second, func() { _ = srv.cmd.Process.Kill() })
		<-srv.done
		err := srv.cmd.Wait()
		timer.Stop()
		d.check(srv.step, err, srv.logs.Bytes())
	}
	d.servers = nil
}
