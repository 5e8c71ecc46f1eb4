package main

// The Kubernetes examples run as their pods would (examples/kubernetes
// checks them as Kubernetes objects, in a module of its own).

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// kubePod is what a pod of an example runs: the vpcepctl container's
// args and env, and how many indexes the Job has (0: not Indexed).
type kubePod struct {
	where   string
	args    []string
	env     map[string]string
	indexes int
}

// kubeStandIns replace what the cluster provides. /manifests is the
// ConfigMap's mount; OS_CLOUD names a cloud of the Secret's clouds.yaml,
// whose place the simulator's OS_* take; the Pushgateway (VPCEPCTL_PUSHGATEWAY
// or --pushgateway) is one on loopback that records what is pushed.
var kubeStandIns = struct {
	args    map[string]string
	dropEnv []string
}{
	args:    map[string]string{"/manifests": "examples/manifests"},
	dropEnv: []string{"OS_CLOUD"},
}

// TestKubernetesExamples runs the vpcepctl container of every Job and
// CronJob in examples/kubernetes against the simulator, each file on a
// fresh one (so the drift monitor finds drift): every pod exits 0 and
// pushes its metrics; the shards of an Indexed Job together leave nothing
// to do.
func TestKubernetesExamples(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", "..", "examples", "kubernetes", "*.yaml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no Kubernetes examples (%v)", err)
	}
	for _, path := range files {
		t.Run(filepath.Base(path), func(t *testing.T) {
			t.Parallel()
			pods := kubePods(t, path)
			if len(pods) == 0 {
				t.Fatalf("%s: no container runs vpcepctl", path)
			}
			for _, p := range pods {
				runKubePod(t, p)
			}
		})
	}
}

// runKubePod runs a pod (each index of an Indexed Job), then checks
// that the Pushgateway got its metrics, and after an apply that a plan
// finds nothing left to do.
func runKubePod(t *testing.T, p kubePod) {
	d := newDocShell(t)
	var mu sync.Mutex
	var pushes []string
	pgw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		pushes = append(pushes, r.Method+" "+r.URL.Path)
		mu.Unlock()
		w.WriteHeader(http.StatusOK)
	}))
	t.Cleanup(pgw.Close)

	args := slices.Clone(p.args)
	for i, a := range args {
		if v, ok := kubeStandIns.args[a]; ok {
			args[i] = v
		}
		if a == "--pushgateway" && i+1 < len(args) {
			args[i+1] = pgw.URL
		}
	}
	env := slices.Clone(d.env)
	for k, v := range p.env {
		if slices.Contains(kubeStandIns.dropEnv, k) {
			continue
		}
		if k == "VPCEPCTL_PUSHGATEWAY" {
			v = pgw.URL
		}
		env = append(env, k+"="+v)
	}
	for i := range max(p.indexes, 1) {
		podEnv := env
		if p.indexes > 0 {
			podEnv = append(slices.Clone(env), "JOB_COMPLETION_INDEX="+strconv.Itoa(i))
		}
		if out, code := d.exec(podEnv, args...); code != 0 {
			t.Errorf("%s (index %d): vpcepctl %s exited %d, want 0:\n%s", p.where, i, strings.Join(p.args, " "), code, out)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if pushed := p.env["VPCEPCTL_PUSHGATEWAY"] != "" || slices.Contains(p.args, "--pushgateway"); pushed && len(pushes) < max(p.indexes, 1) {
		t.Errorf("%s: pushes %q, want one per pod", p.where, pushes)
	}
	if args[0] == "apply" {
		if out, code := d.exec(d.env, "plan", "-f", "examples/manifests", "--detailed-exitcode"); code != 0 {
			t.Errorf("%s: after the pods, plan exited %d, want 0 (nothing left to do):\n%s", p.where, code, out)
		}
	}
}

// exec runs vpcepctl in the block's directory and returns its output and
// exit status.
func (d *docShell) exec(env []string, args ...string) (string, int) {
	ctx, cancel := context.WithTimeout(d.t.Context(), 3*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, vpcepctlPath(d.t), args...)
	cmd.Dir, cmd.Env = d.dir, env
	out, err := cmd.CombinedOutput()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return string(out), ee.ExitCode()
	} else if err != nil {
		d.t.Fatal(err)
	}
	return string(out), 0
}

// kubePods reads the pods of a file's Jobs and CronJobs (generically: the
// main module does not depend on k8s.io/api).
func kubePods(t *testing.T, path string) []kubePod {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	type container struct {
		Name  string   `yaml:"name"`
		Image string   `yaml:"image"`
		Args  []string `yaml:"args"`
		Env   []struct {
			Name  string `yaml:"name"`
			Value string `yaml:"value"`
		} `yaml:"env"`
	}
	type jobSpec struct {
		CompletionMode string `yaml:"completionMode"`
		Completions    int    `yaml:"completions"`
		Template       struct {
			Spec struct {
				Containers []container `yaml:"containers"`
			} `yaml:"spec"`
		} `yaml:"template"`
	}
	var pods []kubePod
	dec := yaml.NewDecoder(f)
	for n := 1; ; n++ {
		var doc struct {
			Kind string `yaml:"kind"`
			Spec struct {
				jobSpec     `yaml:",inline"`
				JobTemplate struct {
					Spec jobSpec `yaml:"spec"`
				} `yaml:"jobTemplate"`
			} `yaml:"spec"`
		}
		if err := dec.Decode(&doc); err != nil {
			if !errors.Is(err, io.EOF) {
				t.Fatalf("%s: document %d: %v", path, n, err)
			}
			return pods
		}
		spec := doc.Spec.jobSpec
		if doc.Kind == "CronJob" {
			spec = doc.Spec.JobTemplate.Spec
		}
		for _, c := range spec.Template.Spec.Containers {
			if !strings.HasPrefix(c.Image, "ghcr.io/vpcepctl/vpcepctl") {
				continue
			}
			p := kubePod{where: filepath.Base(path) + ": " + doc.Kind, args: c.Args, env: map[string]string{}}
			for _, e := range c.Env {
				p.env[e.Name] = e.Value
			}
			if spec.CompletionMode == "Indexed" {
				p.indexes = spec.Completions
			}
			pods = append(pods, p)
		}
	}
}
