package outfile

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCheck: what can be written passes, what cannot is refused before any
// work: a missing directory, a directory, a FIFO, a descriptor that is not
// open, and a file of another user in a sticky directory (which cannot be
// renamed over, although files can be created there).
func TestCheck(t *testing.T) {
	dir := t.TempDir()
	fifo := filepath.Join(dir, "fifo")
	if err := mkfifo(fifo); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ path, want string }{
		{filepath.Join(dir, "new.json"), ""},
		{"/dev/null", ""},
		{filepath.Join(dir, "no", "such.json"), "does not exist"},
		{dir, "is a directory"},
		{fifo, "named pipe"},
		{"/dev/fd/987", "cannot open it"},
	} {
		err := Check(tc.path)
		if tc.want == "" && err != nil || tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)) {
			t.Errorf("Check(%s) = %v, want %q", tc.path, err, tc.want)
		}
	}

	sticky := filepath.Join(dir, "sticky")
	if err := os.Mkdir(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(sticky, 0o777|os.ModeSticky); err != nil {
		t.Fatal(err)
	}
	other := filepath.Join(sticky, "report.json")
	if err := os.WriteFile(other, []byte("{}"), 0o644); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(other)
	if err != nil {
		t.Fatal(err)
	}
	me := os.Geteuid()
	if err := replaceable(other, fi, me); err != nil {
		t.Errorf("own file in a sticky directory: %v", err)
	}
	if err := replaceable(other, fi, me+4242); err == nil || !strings.Contains(err.Error(), "another user") {
		t.Errorf("another user's file in a sticky directory: %v, want a refusal", err)
	}
}

// TestWrite: a file is replaced whole, with the mode asked for, and no
// temporary file is left.
func TestWrite(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "plan.json")
	for _, data := range []string{"first", "second"} {
		if err := Write(path, 0o600, []byte(data)); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(path)
	if err != nil || string(got) != "second" {
		t.Fatalf("read back %q, %v", got, err)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v, want 0600", fi.Mode().Perm())
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Errorf("%d files in the directory, want the one written", len(entries))
	}
}
