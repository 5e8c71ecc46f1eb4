package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/rogpeppe/go-internal/testscript"
	"github.com/spf13/pflag"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
	"github.com/vpcepctl/vpcepctl/manifests"
	"github.com/vpcepctl/vpcepctl/sim"
	"github.com/vpcepctl/vpcepctl/vpcep"
)

// TestMain makes the test binary vpcepctl itself: run as "vpcepctl" (by
// a script, or by the exec tests through $PATH) it is the command, else
// it runs the tests. testscript puts a link to it in a $PATH directory it
// removes at the end.
func TestMain(m *testing.M) {
	testscript.Main(m, map[string]func(){"vpcepctl": main})
}

// TestScripts runs the command-line scripts in testdata/script: the
// binary as a user runs it, against a simulator the script starts.
// go test -run TestScripts -update rewrites the files a script compares
// with (cmp), from what the binary printed.
func TestScripts(t *testing.T) {
	examples, err := filepath.Abs(filepath.Join("..", "..", "examples"))
	if err != nil {
		t.Fatal(err)
	}
	var sims sync.Map // *testscript.TestScript -> *sim.Sim
	testscript.Run(t, testscript.Params{
		Dir:                 filepath.Join("testdata", "script"),
		UpdateScripts:       *testkit.Update,
		RequireExplicitExec: true,
		Setup: func(e *testscript.Env) error {
			e.Setenv("EXAMPLES", examples)
			e.Setenv("XDG_STATE_HOME", filepath.Join(e.WorkDir, ".state"))
			e.Setenv("NO_COLOR", "1")
			return nil
		},
		Cmds: map[string]func(ts *testscript.TestScript, neg bool, args []string){
			"sim":        func(ts *testscript.TestScript, neg bool, args []string) { startScriptSim(ts, neg, args, &sims) },
			"endpoints":  func(ts *testscript.TestScript, neg bool, args []string) { checkEndpoints(ts, neg, args, &sims) },
			"exits":      exits,
			"validjson":  validJSON,
			"closedport": closedPort,
			"jsonlines":  jsonLines,
			"simput":     func(ts *testscript.TestScript, neg bool, args []string) { simPut(ts, neg, args, &sims) },
		},
		Condition: func(cond string) (bool, error) {
			if cond != "nxdomain" {
				return false, fmt.Errorf("unknown condition %q", cond)
			}
			return resolverSaysNoSuchHost(), nil
		},
	})
}

// closedPort is the script command "closedport VAR": VAR is set to a
// loopback address (127.0.0.1:PORT) nothing listens on.
func closedPort(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: closedport VAR")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	ts.Setenv(args[0], ln.Addr().String())
	ts.Check(ln.Close())
}

// resolverSaysNoSuchHost is the script condition "nxdomain": this
// machine's resolver answers "no such host" for a name under the reserved
// .invalid TLD, as it should (offline too). The otc tests hold the same
// classification with the answer injected.
func resolverSaysNoSuchHost() bool {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	_, err := net.DefaultResolver.LookupHost(ctx, "vpcep.no-such-host.invalid")
	var dns *net.DNSError
	return errors.As(err, &dns) && dns.IsNotFound && !dns.IsTimeout && !dns.IsTemporary
}

// startScriptSim is the script command "sim [flags]": it serves a
// simulator (the flags of vpcepctl sim) on a loopback port for the rest
// of the script and sets the OS_* variables that reach it.
func startScriptSim(ts *testscript.TestScript, neg bool, args []string, sims *sync.Map) {
	if neg {
		ts.Fatalf("unsupported: ! sim")
	}
	var o sim.Options
	fs := pflag.NewFlagSet("sim", pflag.ContinueOnError)
	o.Flags(fs, 0)
	if err := fs.Parse(args); err != nil {
		ts.Fatalf("sim: %v", err)
	}
	if err := o.Check(); err != nil {
		ts.Fatalf("sim: %v", err)
	}
	s := sim.New(o)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	ts.Check(err)
	srv := &http.Server{Handler: s.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = srv.Serve(ln) }()
	ts.Defer(func() { _ = srv.Close() })
	for _, kv := range sim.Env("http://" + ln.Addr().String()) {
		k, v, _ := strings.Cut(kv, "=")
		ts.Setenv(k, v)
	}
	sims.Store(ts, s)
}

// checkEndpoints is the script command "endpoints N": the simulator the
// script started holds N endpoints in its default project, none of them
// deleting, and no two with one set and name.
func checkEndpoints(ts *testscript.TestScript, neg bool, args []string, sims *sync.Map) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: endpoints N")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	v, ok := sims.Load(ts)
	if !ok {
		ts.Fatalf("endpoints: no simulator started (use sim first)")
	}
	names := map[string]int{}
	live := 0
	for _, e := range v.(*sim.Sim).Endpoints(sim.ProjectID) {
		if e.Status == "deleting" {
			continue
		}
		live++
		set, _ := e.TagValue(manifests.TagSet)
		name, _ := e.TagValue(manifests.TagName)
		names[set+"/"+name]++
	}
	var dups []string
	for k, n := range names {
		if n > 1 && k != "/" {
			dups = append(dups, fmt.Sprintf("%s (%d)", k, n))
		}
	}
	if live != want || len(dups) > 0 {
		ts.Fatalf("simulator holds %d endpoints, want %d; duplicated: %v", live, want, dups)
	}
}

// exits is the script command "exits CODE PROGRAM [ARGS...]": exec that
// must end with exit status CODE (exec and ! exec cannot tell 2 from 3).
func exits(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) < 2 {
		ts.Fatalf("usage: exits CODE PROGRAM [ARGS...]")
	}
	want, err := strconv.Atoi(args[0])
	ts.Check(err)
	err = ts.Exec(args[1], args[2:]...)
	got := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		got = ee.ExitCode()
	} else if err != nil {
		ts.Fatalf("%s: %v", args[1], err)
	}
	if got != want {
		ts.Fatalf("%s exited %d, want %d", args[1], got, want)
	}
}

// validJSON is the script command "validjson FILE": FILE (or stdout,
// stderr) holds exactly one JSON document.
func validJSON(ts *testscript.TestScript, neg bool, args []string) {
	if len(args) != 1 {
		ts.Fatalf("usage: validjson FILE")
	}
	data := ts.ReadFile(args[0])
	dec := json.NewDecoder(strings.NewReader(data))
	var v any
	err := dec.Decode(&v)
	if err == nil && dec.More() {
		err = errors.New("more than one document")
	}
	if err == nil {
		_, err = dec.Token()
		if err == io.EOF {
			err = nil
		} else if err == nil {
			err = errors.New("text after the document")
		}
	}
	switch {
	case err != nil && !neg:
		ts.Fatalf("%s is not one JSON document: %v", args[0], err)
	case err == nil && neg:
		ts.Fatalf("%s is one JSON document", args[0])
	}
}

// jsonLines is the script command "jsonlines FILE": every line of FILE
// (or stdout, stderr) is one JSON object, and there is at least one.
func jsonLines(ts *testscript.TestScript, neg bool, args []string) {
	if neg || len(args) != 1 {
		ts.Fatalf("usage: jsonlines FILE")
	}
	lines := strings.Split(strings.TrimRight(ts.ReadFile(args[0]), "\n"), "\n")
	for i, line := range lines {
		var v map[string]any
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			ts.Fatalf("%s line %d is not a JSON object: %v: %q", args[0], i+1, err, line)
		}
	}
}

// simPut is the script command "simput KEY=VALUE...": it puts an endpoint
// into the started simulator's default project (set and name become its
// ownership tags; service, vpc, subnet, status its fields).
func simPut(ts *testscript.TestScript, neg bool, args []string, sims *sync.Map) {
	v, ok := sims.Load(ts)
	if neg || !ok {
		ts.Fatalf("usage: simput set=S name=N service=ID vpc=ID subnet=ID status=S (after sim)")
	}
	kv := map[string]string{"status": "accepted"}
	for _, a := range args {
		k, val, _ := strings.Cut(a, "=")
		kv[k] = val
	}
	e := vpcep.Endpoint{EndpointServiceID: kv["service"], VPCID: kv["vpc"], SubnetID: kv["subnet"], Status: kv["status"]}
	if kv["set"] != "" {
		e.Tags = []vpcep.Tag{{Key: manifests.TagSet, Value: kv["set"]}, {Key: manifests.TagName, Value: kv["name"]}}
	}
	v.(*sim.Sim).Put(sim.ProjectID, e)
}

// vpcepctlPath is the test binary's link in $PATH (see TestMain), for the
// tests that start vpcepctl as a process of its own.
func vpcepctlPath(t testing.TB) string {
	t.Helper()
	dirs := filepath.SplitList(os.Getenv("PATH"))
	for _, d := range dirs {
		p := filepath.Join(d, "vpcepctl")
		if fi, err := os.Stat(p); err == nil && !fi.IsDir() && strings.Contains(d, "testscript-main") {
			return p
		}
	}
	t.Fatal("vpcepctl is not in $PATH: TestMain did not run testscript.Main")
	return ""
}
