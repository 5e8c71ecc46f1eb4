package manifests

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/internal/testkit"
)

// errorLine is the shape of every line of a manifest error.
var errorLine = regexp.MustCompile(`^[^:]+:[1-9][0-9]*:[1-9][0-9]*: [a-z0-9"<>*.\[_-]`)

// TestInvalid parses each testdata/invalid/NAME.yaml and compares the
// error text with NAME.golden.
func TestInvalid(t *testing.T) {
	files, err := filepath.Glob("testdata/invalid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) < 30 {
		t.Errorf("%d invalid manifests in testdata/invalid, want at least 30", len(files))
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := parse(filepath.Base(file), data)
			if err == nil {
				t.Fatalf("parse(%s) = %d manifests, nil error; want errors", file, len(ms))
			}
			if ms != nil {
				t.Errorf("parse(%s) returned manifests with an error", file)
			}
			checkErrorShape(t, err)
			testkit.Golden(t, strings.TrimSuffix(file, ".yaml")+".golden", []byte(err.Error()+"\n"))
		})
	}
}

// checkErrorShape checks that err joins *Errors, one per line, each
// "FILE:LINE:COL: message" with a lower-case message, and that no Go type
// name or raw yaml.v3 text shows.
func checkErrorShape(t *testing.T, err error) {
	t.Helper()
	u, ok := err.(interface{ Unwrap() []error })
	if !ok {
		t.Fatalf("error %T does not join errors", err)
	}
	for _, e := range u.Unwrap() {
		var me *Error
		if !errors.As(e, &me) {
			t.Errorf("error %q is a %T, want *Error", e, e)
			continue
		}
		if me.Line < 1 || me.Col < 1 || me.File == "" {
			t.Errorf("error %q has no position", e)
		}
	}
	for _, line := range strings.Split(err.Error(), "\n") {
		if !errorLine.MatchString(line) {
			t.Errorf("error line %q is not FILE:LINE:COL: message", line)
		}
		for _, bad := range []string{"yaml: line", "!!str", "!!map", "!!seq", "[]string", "*yaml", "cannot unmarshal", "failed to"} {
			if strings.Contains(line, bad) {
				t.Errorf("error line %q shows %q", line, bad)
			}
		}
	}
}

// TestValid parses each testdata/valid/NAME.yaml and compares the decoded
// manifests, as JSON, with NAME.golden.
func TestValid(t *testing.T) {
	files, err := filepath.Glob("testdata/valid/*.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(files) == 0 {
		t.Fatal("no valid manifests in testdata/valid")
	}
	for _, file := range files {
		name := strings.TrimSuffix(filepath.Base(file), ".yaml")
		t.Run(name, func(t *testing.T) {
			data, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			ms, err := parse(filepath.Base(file), data)
			if err != nil {
				t.Fatalf("parse(%s): %v", file, err)
			}
			for _, m := range ms {
				for _, e := range m.Endpoints {
					if e.Tags == nil {
						t.Errorf("endpoint %s: Tags is nil", e.Name)
					}
				}
			}
			out, err := json.MarshalIndent(ms, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			testkit.Golden(t, strings.TrimSuffix(file, ".yaml")+".golden", append(out, '\n'))
		})
	}
}
