package manifests

import (
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

var fuzzLine = regexp.MustCompile(`^f\.yaml:([0-9]+):([0-9]+): .`)

// FuzzLoad checks that Parse never panics, that every error line has the
// file and a line and column > 0, that the errors are *Error, and that
// what it accepts holds together. The seeds are the testdata corpus.
func FuzzLoad(f *testing.F) {
	for _, dir := range []string{"testdata/invalid", "testdata/valid"} {
		files, err := filepath.Glob(filepath.Join(dir, "*.yaml"))
		if err != nil {
			f.Fatal(err)
		}
		for _, file := range files {
			data, err := os.ReadFile(file)
			if err != nil {
				f.Fatal(err)
			}
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms, err := parse("f.yaml", data)
		if err != nil {
			if ms != nil {
				t.Errorf("Parse returned manifests with an error")
			}
			for _, line := range strings.Split(err.Error(), "\n") {
				m := fuzzLine.FindStringSubmatch(line)
				if m == nil {
					t.Fatalf("error line %q is not f.yaml:LINE:COL: message", line)
				}
				if l, _ := strconv.Atoi(m[1]); l < 1 {
					t.Fatalf("error line %q: line < 1", line)
				}
				if c, _ := strconv.Atoi(m[2]); c < 1 {
					t.Fatalf("error line %q: column < 1", line)
				}
			}
			u, ok := err.(interface{ Unwrap() []error })
			if !ok {
				t.Fatalf("error %T does not join errors", err)
			}
			for _, e := range u.Unwrap() {
				if _, ok := e.(*Error); !ok {
					t.Fatalf("error %q is a %T, want *Error", e, e)
				}
			}
			return
		}
		if len(ms) == 0 {
			t.Fatal("Parse returned no manifests and no error")
		}
		for _, m := range ms {
			if m.Version != 1 || !validSet(m.Set) || m.Pos.Line < 1 {
				t.Errorf("accepted manifest %+v", m)
			}
			for _, e := range m.Endpoints {
				if !validName(e.Name) || e.VPCID == "" || (e.EndpointServiceID == "") == (e.EndpointServiceName == "") ||
					e.Tags == nil || len(e.Tags) > MaxUserTags || e.Pos.Line < 1 {
					t.Errorf("accepted endpoint %+v", e)
				}
				for key, p := range e.FieldPos {
					if p.Line < 1 || p.Col < 1 {
						t.Errorf("endpoint %s: FieldPos[%s] = %v", e.Name, key, p)
					}
				}
			}
		}
	})
}
