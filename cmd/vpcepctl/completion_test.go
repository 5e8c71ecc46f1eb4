package main

// Completion is local (testdata/script/completion.txt holds the values):
// no request wherever the credentials point, and no file that would hang
// the shell.

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
)

func TestCompletionIsLocal(t *testing.T) {
	var requests atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		requests.Add(1)
		http.Error(w, "completion must not call the API", http.StatusTeapot)
	}))
	defer srv.Close()
	env := []string{
		"OS_AUTH_URL=" + srv.URL + "/v3", "OS_USERNAME=user", "OS_PASSWORD=secret-password",
		"OS_USER_DOMAIN_NAME=domain", "OS_PROJECT_NAME=eu-de_project", "VPCEPCTL_ENDPOINT=" + srv.URL,
	}
	dir := t.TempDir()
	mf := writeManifest(t, dir, "local", "ep-a", "ep-b")
	fifo := filepath.Join(dir, "fifo.yaml")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		name string
		args []string
		want string
	}{
		{"sets", []string{"__complete", "plan", "-f", mf, "--set", ""}, "local\t2 endpoints\n:4\n"},
		{"names, with --sim", []string{"__complete", "--sim", "apply", "-f", mf, "--name", "local/ep-b"}, "local/ep-b\n:4\n"},
		{"a FIFO is not read", []string{"__complete", "status", "-f", fifo, "-f", mf, "--name", ""}, "local/ep-a\nlocal/ep-b\n:4\n"},
		{"$VPCEPCTL_FILENAME", []string{"__complete", "plan", "--set", "l"}, "local\t2 endpoints\n:4\n"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			stdout, stderr, code := runCLI(t, append(env, "VPCEPCTL_FILENAME="+fifo+","+mf), tt.args...)
			if stdout != tt.want || code != 0 {
				t.Errorf("vpcepctl %q = %q, exit %d; want %q, exit 0\nstderr:\n%s", tt.args, stdout, code, tt.want, stderr)
			}
		})
	}
	if n := requests.Load(); n != 0 {
		t.Errorf("completion sent %d requests, want none", n)
	}
}
