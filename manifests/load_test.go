package manifests

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

const (
	testVPC     = "84758cf5-9c62-43ae-a778-3dbd8370c0a4"
	testSubnet  = "68bfbcc1-dff2-47e4-a9d4-332b9bc1b8de"
	testService = "2da0fe8f-5cb7-4d93-bb35-dc05334da1be"
)

// manifest returns a valid manifest declaring set with one endpoint per name.
func manifest(set string, names ...string) string {
	var b strings.Builder
	b.WriteString("version: 1\nset: " + set + "\nendpoints:\n")
	if len(names) == 0 {
		b.WriteString("  []\n")
	}
	for _, n := range names {
		b.WriteString("  - name: " + n + "\n    vpc_id: " + testVPC + "\n    endpoint_service_id: " + testService + "\n")
	}
	return b.String()
}

// writeFiles creates files (path -> content) under dir.
func writeFiles(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

func sets(ms []*Manifest) string {
	var s []string
	for _, m := range ms {
		s = append(s, m.Set)
	}
	return strings.Join(s, ",")
}

func TestLoadDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"b.yaml":            manifest("b", "x"),
		"a.yml":             manifest("a", "x"),
		"sub/c.YAML":        manifest("c", "x") + "---\n" + manifest("d"),
		"sub/deeper/e.yaml": manifest("e", "x", "y"),
		"README.md":         "not a manifest",
		"notes.txt":         "version: 2",
		".hidden.yaml":      "not: loaded",
		".git/config.yml":   "not: loaded",
	})
	ms, err := Load([]string{dir}, nil)
	if err != nil {
		t.Fatalf("Load(%s): %v", dir, err)
	}
	if got, want := sets(ms), "a,b,c,d,e"; got != want {
		t.Errorf("Load(%s) sets = %s, want %s", dir, got, want)
	}
	if got, want := Count(ms), 5; got != want {
		t.Errorf("Count = %d, want %d", got, want)
	}
	if got, want := ms[4].Endpoints[1].Pos.String(), filepath.Join(dir, "sub/deeper/e.yaml")+":7:5"; got != want {
		t.Errorf("position = %s, want %s", got, want)
	}
}

// A ConfigMap volume holds symbolic links to the files in a hidden,
// timestamped directory: each manifest must be read once.
func TestLoadConfigMapVolume(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"..2024_01_01_00_00_00.1/payments.yaml": manifest("payments", "a"),
		"..2024_01_01_00_00_00.1/orders.yaml":   manifest("orders", "a"),
	})
	for _, link := range [][2]string{
		{"..2024_01_01_00_00_00.1", "..data"},
		{"..data/payments.yaml", "payments.yaml"},
		{"..data/orders.yaml", "orders.yaml"},
	} {
		if err := os.Symlink(link[0], filepath.Join(dir, link[1])); err != nil {
			t.Skipf("symlinks: %v", err)
		}
	}
	ms, err := Load([]string{dir, filepath.Join(dir, "orders.yaml")}, nil)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := sets(ms), "orders,payments"; got != want {
		t.Errorf("sets = %s, want %s", got, want)
	}
}

func TestLoadSymlinkedDirectory(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"real/a.yaml": manifest("a")})
	if err := os.Symlink("real", filepath.Join(dir, "link")); err != nil {
		t.Skipf("symlinks: %v", err)
	}
	t.Chdir(dir)
	ms, err := Load([]string{"link"}, nil)
	if err != nil {
		t.Fatalf("Load(link): %v", err)
	}
	if got, want := ms[0].Pos.String(), filepath.Join("link", "a.yaml")+":1:1"; got != want {
		t.Errorf("position = %s, want %s", got, want)
	}
}

func TestLoadStdin(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"a.yaml": manifest("a", "x")})
	ms, err := Load([]string{"-", filepath.Join(dir, "a.yaml")}, strings.NewReader(manifest("stdin", "x")))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got, want := sets(ms), "stdin,a"; got != want {
		t.Errorf("sets = %s, want %s", got, want)
	}
	if got, want := ms[0].Pos.File, StdinName; got != want {
		t.Errorf("stdin file name = %q, want %q", got, want)
	}

	_, err = Load([]string{"-"}, strings.NewReader("version: 1\nset: x\nendpoints: {}\n"))
	if got, want := errText(err), "<stdin>:3:12: endpoints: want a list of endpoints, got a mapping (start each endpoint with \"- name: ...\")"; got != want {
		t.Errorf("Load(-) error = %q, want %q", got, want)
	}
}

func errText(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

func TestLoadErrors(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"empty/README.md": "no manifests here",
		"ok.yaml":         manifest("ok", "a"),
		"bad.yaml":        "version: 1\nset: bad\nendpoints:\n  - name: a\n    vpcid: x\n",
		"twice/1.yaml":    manifest("dup"),
		"twice/2.yaml":    manifest("other") + "---\n" + manifest("dup"),
		"blank.yaml":      "\n  \n",
		"case/a.yaml":     manifest("payments"),
		"case/b.yaml":     "region: eu-nl\n" + manifest("Payments"),
	})
	for _, tt := range []struct {
		name  string
		paths []string
		stdin string
		want  string
	}{
		{"no paths", nil, "", "no manifests given, want a file, a directory or - for stdin"},
		{"missing", []string{"nope.yaml"}, "", "nope.yaml: no such file or directory"},
		{"empty dir", []string{"empty"}, "", "empty: no manifests in directory, want *.yaml or *.yml files"},
		{"empty file", []string{"blank.yaml"}, "", "blank.yaml:1:1: empty file, want a manifest with version, set and endpoints"},
		{"stdin twice", []string{"-", "-"}, manifest("s"), "-: standard input given more than once"},
		{"stdin empty", []string{"-"}, "", "<stdin>:1:1: empty file, want a manifest with version, set and endpoints"},
		{
			"every problem, in order", []string{"nope.yaml", "bad.yaml", "ok.yaml", "empty"}, "",
			"nope.yaml: no such file or directory\n" +
				"bad.yaml:4:5: missing endpoint_service_id or endpoint_service_name, want exactly one, here or in defaults\n" +
				"bad.yaml:5:5: unknown key \"vpcid\" in endpoint, did you mean \"vpc_id\"?\n" +
				"empty: no manifests in directory, want *.yaml or *.yml files",
		},
		{
			"set twice across files", []string{"twice"}, "",
			"twice/2.yaml:7:1: set \"dup\" is already declared for the default region and the default project at twice/1.yaml:2:1, want each set declared once per region and project",
		},
		{
			"set names that differ only in case, in another target", []string{"case"}, "",
			"case/b.yaml:3:1: set \"Payments\" differs only in case from set \"payments\" at case/a.yaml:2:1, want one spelling for one set, or names that differ in more than case",
		},
		{
			"same file twice is read once", []string{"ok.yaml", "./ok.yaml"}, "", "<nil>",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			t.Chdir(dir)
			_, err := Load(tt.paths, strings.NewReader(tt.stdin))
			if got := errText(err); got != tt.want {
				t.Errorf("Load(%q) error:\n%s\nwant:\n%s", tt.paths, got, tt.want)
			}
		})
	}
}

// LoadPartial returns what it could read beside the error; Load returns
// nothing but the error.
func TestLoadPartial(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{
		"a_ok.yaml":          manifest("ok", "a", "b"),
		"b_unknown_key.yaml": "version: 1\nset: keyed\nendpoints:\n  - name: x\n    vpcid: " + testVPC + "\n",
		"c_bad_names.yaml":   manifest("not/a/set", "y") + "---\n" + manifest("named", "good", "no/good"),
		"d_syntax.yaml":      manifest("before", "z") + "---\n" + "version: [1\n" + "---\n" + manifest("after", "z"),
		"e_binary.yaml":      manifest("binary", "z") + "\x00",
	})
	names := func(ms []*Manifest) string {
		var s []string
		for _, m := range ms {
			for _, e := range m.Endpoints {
				s = append(s, e.Set+"/"+e.Name)
			}
		}
		return strings.Join(s, ",")
	}
	ms, err := LoadPartial([]string{dir, filepath.Join(dir, "missing.yaml")}, nil)
	if err == nil {
		t.Fatalf("LoadPartial: no error, want the problems of the bad files")
	}
	if got, want := sets(ms), "ok,keyed,,named,before"; got != want {
		t.Errorf("LoadPartial sets = %q, want %q", got, want)
	}
	if got, want := names(ms), "ok/a,ok/b,keyed/x,/y,named/good,named/,before/z"; got != want {
		t.Errorf("LoadPartial names = %q, want %q", got, want)
	}
	if ms, err := Load([]string{dir}, nil); ms != nil || err == nil {
		t.Errorf("Load = %d manifests, %v; want none and an error", len(ms), err)
	}
}

func TestLoadNotExist(t *testing.T) {
	_, err := Load([]string{filepath.Join(t.TempDir(), "nope")}, nil)
	if !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Load(missing) = %v, want an error matching fs.ErrNotExist", err)
	}
}

func TestLoadUnreadable(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root reads any file")
	}
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"secret.yaml": manifest("s")})
	file := filepath.Join(dir, "secret.yaml")
	if err := os.Chmod(file, 0); err != nil {
		t.Fatal(err)
	}
	_, err := Load([]string{file}, nil)
	if got, want := errText(err), file+": permission denied"; got != want {
		t.Errorf("Load(unreadable) = %q, want %q", got, want)
	}
}

func TestCheckSetsCase(t *testing.T) {
	ms, err := parse("m.yaml", []byte(manifest("orders")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	other, err := parse("n.yaml", []byte("project_id: 0df25bbc87d94f1c9a62f88c00c2959d\n"+manifest("Orders")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	err = CheckSets(append(ms, other...), "eu-de", "ffffffffffffffffffffffffffffffff")
	want := `n.yaml:3:1: set "Orders" differs only in case from set "orders" at m.yaml:2:1, want one spelling for one set, or names that differ in more than case`
	if got := errText(err); got != want {
		t.Errorf("CheckSets(orders, Orders) =\n%s\nwant:\n%s", got, want)
	}
}

func TestCheckSets(t *testing.T) {
	ms, err := parse("m.yaml", []byte(manifest("a")+"---\nregion: eu-de\n"+manifest("a")+"---\nproject_id: 0df25bbc87d94f1c9a62f88c00c2959d\n"+manifest("a")))
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	if err := CheckSets(ms, "eu-nl", "ffffffffffffffffffffffffffffffff"); err != nil {
		t.Errorf("CheckSets(eu-nl, other project) = %v, want nil", err)
	}
	err = CheckSets(ms, "eu-de", "0df25bbc87d94f1c9a62f88c00c2959d")
	want := `m.yaml:8:1: set "a" is already declared for region eu-de and project 0df25bbc87d94f1c9a62f88c00c2959d at m.yaml:2:1, want each set declared once per region and project` + "\n" +
		`m.yaml:14:1: set "a" is already declared for region eu-de and project 0df25bbc87d94f1c9a62f88c00c2959d at m.yaml:2:1, want each set declared once per region and project`
	if got := errText(err); got != want {
		t.Errorf("CheckSets(eu-de, project) =\n%s\nwant:\n%s", got, want)
	}
}
