package kubernetes

import (
	"bufio"
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	batchv1 "k8s.io/api/batch/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	kjson "sigs.k8s.io/json"
	"sigs.k8s.io/yaml"
)

// workload is a Job, or the Job a CronJob makes, and where it is.
type workload struct {
	where string               // "cronjob.yaml: CronJob vpcepctl-apply"
	name  string               // metadata.name
	job   *batchv1.JobSpec     // the Job's spec (a CronJob's jobTemplate)
	cron  *batchv1.CronJobSpec // nil for a Job
}

// decode decodes one document strictly into its k8s.io/api type, as the
// API server reads what kubectl sends (YAML as JSON, case-sensitive): an
// unknown field, a duplicate key or a value of the wrong type is an
// error, with its path. It knows the kinds the examples use.
func decode(where string, doc []byte) (*workload, error) {
	js, err := yaml.YAMLToJSONStrict(doc)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	var tm metav1.TypeMeta
	if err := json.Unmarshal(js, &tm); err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	strict := func(v any) error {
		strictErrs, err := kjson.UnmarshalStrict(js, v, kjson.DisallowDuplicateFields, kjson.DisallowUnknownFields)
		if err = errors.Join(append(strictErrs, err)...); err != nil {
			return fmt.Errorf("%s: %s: %w", where, tm.Kind, err)
		}
		return nil
	}
	switch tm.APIVersion + " " + tm.Kind {
	case "batch/v1 CronJob":
		var cj batchv1.CronJob
		if err := strict(&cj); err != nil {
			return nil, err
		}
		return &workload{where: where + ": CronJob " + cj.Name, name: cj.Name, job: &cj.Spec.JobTemplate.Spec, cron: &cj.Spec}, nil
	case "batch/v1 Job":
		var j batchv1.Job
		if err := strict(&j); err != nil {
			return nil, err
		}
		return &workload{where: where + ": Job " + j.Name, name: j.Name, job: &j.Spec}, nil
	}
	return nil, fmt.Errorf("%s: apiVersion %q kind %q: no k8s.io/api type for it in decode", where, tm.APIVersion, tm.Kind)
}

// documents splits a YAML stream at its "---" lines, leaving out
// documents that hold only comments.
func documents(r io.Reader) ([][]byte, error) {
	yr := utilyaml.NewYAMLReader(bufio.NewReader(r))
	var docs [][]byte
	for {
		doc, err := yr.Read()
		if errors.Is(err, io.EOF) {
			return docs, nil
		}
		if err != nil {
			return nil, err
		}
		for _, line := range bytes.Split(doc, []byte("\n")) {
			if l := bytes.TrimSpace(line); len(l) > 0 && l[0] != '#' && string(l) != "---" {
				docs = append(docs, doc)
				break
			}
		}
	}
}

// loadFile decodes every document of a file.
func loadFile(path string) ([]*workload, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	docs, err := documents(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	var ws []*workload
	var errs []error
	for i, doc := range docs {
		w, err := decode(fmt.Sprintf("%s (document %d)", filepath.Base(path), i+1), doc)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		ws = append(ws, w)
	}
	return ws, errors.Join(errs...)
}

// load decodes every document of every *.yaml here.
func load(t *testing.T) []*workload {
	t.Helper()
	files, err := filepath.Glob("*.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no *.yaml here (%v)", err)
	}
	var ws []*workload
	for _, path := range files {
		got, err := loadFile(path)
		if err != nil {
			t.Error(err)
		}
		ws = append(ws, got...)
	}
	return ws
}

// TestExamples decodes every example strictly, then checks it against the
// rules of the API server and of vpcepctl.
func TestExamples(t *testing.T) {
	ws := load(t)
	if len(ws) < 3 {
		t.Errorf("%d workloads, want the CronJob, the drift monitor and the Indexed Job", len(ws))
	}
	for _, w := range ws {
		for _, p := range append(apiServerProblems(w), vpcepctlProblems(w)...) {
			t.Errorf("%s: %s", w.where, p)
		}
	}
}

// TestStrictDecoding: what decode refuses.
func TestStrictDecoding(t *testing.T) {
	base := `apiVersion: batch/v1
kind: Job
metadata: {name: x}
spec:
  template:
    spec:
      restartPolicy: Never
      containers: [{name: vpcepctl, image: ghcr.io/vpcepctl/vpcepctl:latest}]
`
	for _, tt := range []struct {
		name, doc, want string
	}{
		{"good", base, ""},
		{"misspelt field", base + "  activeDeadlineSecond: 60\n", `unknown field "spec.activeDeadlineSecond"`},
		{"field at the wrong level", strings.Replace(base, "      restartPolicy", "      backoffLimit: 1\n      restartPolicy", 1), `unknown field "spec.template.spec.backoffLimit"`},
		{"duplicate key", base + "  completions: 1\n  completions: 2\n", `"completions" already set`},
		{"number for a string", strings.Replace(base, "{name: x}", "{name: 7}", 1), "cannot unmarshal number"},
		{"case", strings.Replace(base, "restartPolicy", "restartpolicy", 1), `unknown field "spec.template.spec.restartpolicy"`},
		{"unknown kind", strings.Replace(base, "kind: Job", "kind: Jobb", 1), `no k8s.io/api type`},
	} {
		_, err := decode(tt.name, []byte(tt.doc))
		switch {
		case tt.want == "" && err != nil:
			t.Errorf("%s: decode: %v", tt.name, err)
		case tt.want != "" && (err == nil || !strings.Contains(err.Error(), tt.want)):
			t.Errorf("%s: decode: %v, want an error with %q", tt.name, err, tt.want)
		}
	}
}
