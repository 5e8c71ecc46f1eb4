package main

// Output files policy: every file a flag names (--out, --report,
// --metrics-file) is proven writable before the first API call, by
// creating and removing a file in its directory, so a run never does its
// work and then loses its record. A file is written whole or not at all:
// through a temporary file in the same directory, synced, renamed over the
// target, and the directory synced. Plans and reports are written 0600
// (they name projects and may quote API messages), the metrics file 0644
// (node_exporter often runs as another user). "-" and /dev/stdout mean
// stdout, /dev/stderr stderr; descriptors (/dev/fd/N) and character
// devices (/dev/null) are written in place, opened without blocking; any
// other special file (a FIFO, a socket) is refused: opening a FIFO that
// nobody reads blocks forever.

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// File modes of the outputs.
const (
	privateMode = 0o600 // plans, reports
	publicMode  = 0o644 // the metrics file
)

// stream returns the run's own stream a path names, or nil.
func (a *app) stream(path string) io.Writer {
	switch path {
	case "-", "/dev/stdout":
		return a.stdout
	case "/dev/stderr":
		return a.stderr
	}
	return nil
}

// isDescriptor reports whether path names an open descriptor of this
// process (as a shell's process substitution gives: /dev/fd/63).
func isDescriptor(path string) bool {
	return strings.HasPrefix(path, "/dev/fd/") || strings.HasPrefix(path, "/proc/self/fd/")
}

// checkOutput fails (exit 3) unless the file a flag names can be written:
// the run's own stream, a descriptor, a character device, or a regular
// file (existing or not) in a directory where a file can be created.
func (a *app) checkOutput(flag, path string) error {
	if path == "" || a.stream(path) != nil || isDescriptor(path) {
		return nil
	}
	fail := func(format string, args ...any) error {
		return invalid(fmt.Errorf("%s %s: %s", flag, path, fmt.Sprintf(format, args...)))
	}
	if fi, err := os.Stat(path); err == nil {
		if msg := refusedKind(fi.Mode()); msg != "" {
			return fail("%s", msg)
		}
		if fi.Mode()&fs.ModeCharDevice != 0 {
			return nil
		}
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fail("directory %s does not exist", dir)
	case err != nil:
		return fail("directory %s: %v", dir, cleanPathError(err))
	case !fi.IsDir():
		return fail("%s is not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".vpcepctl-probe-*")
	if err != nil {
		return fail("cannot create files in %s: %v", dir, cleanPathError(err))
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return fail("cannot remove files in %s: %v", dir, cleanPathError(err))
	}
	return nil
}

// refusedKind says why a file of mode m is not written, or "" when it may
// be: a regular file or a character device.
func refusedKind(m fs.FileMode) string {
	switch {
	case m.IsRegular(), m&fs.ModeCharDevice != 0:
		return ""
	case m.IsDir():
		return "is a directory"
	case m&fs.ModeNamedPipe != 0:
		return "is a named pipe (FIFO): give a regular file, or - for stdout"
	case m&fs.ModeSocket != 0:
		return "is a socket: give a regular file, or - for stdout"
	}
	return "is not a regular file: give a regular file, or - for stdout"
}

// writeOutput writes what write produces, redacted, to the file a flag
// names (see the policy above). Errors name the flag and the path.
func (a *app) writeOutput(flag, path string, mode fs.FileMode, write func(io.Writer) error) error {
	var buf bytes.Buffer
	if err := write(&buf); err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	data := []byte(a.redactor.Redact(buf.String()))
	if w := a.stream(path); w != nil {
		_, err := w.Write(data)
		return wrapPathError(flag, path, err)
	}
	if isDescriptor(path) {
		return wrapPathError(flag, path, writeInPlace(path, data))
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if msg := refusedKind(fi.Mode()); msg != "" {
			return fmt.Errorf("%s %s: %s", flag, path, msg)
		}
		return wrapPathError(flag, path, writeInPlace(path, data))
	}
	return wrapPathError(flag, path, writeAtomic(path, mode, data))
}

func wrapPathError(flag, path string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("%s %s: %w", flag, path, cleanPathError(err))
}

// writeInPlace writes data to an existing special file without blocking
// in open (a FIFO with no reader fails at once with ENXIO).
func writeInPlace(path string, data []byte) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		if errors.Is(err, syscall.ENXIO) {
			return errors.New("nobody reads it")
		}
		return err
	}
	if _, err := fh.Write(data); err != nil {
		fh.Close()
		return err
	}
	return fh.Close()
}

// writeAtomic replaces path with data: temporary file, sync, rename, sync
// of the directory.
func writeAtomic(path string, mode fs.FileMode, data []byte) (err error) {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			tmp.Close()
			os.Remove(tmp.Name())
		}
	}()
	if err := tmp.Chmod(mode); err != nil {
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		return err
	}
	if err := tmp.Sync(); err != nil {
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil && !errors.Is(err, syscall.EINVAL) { // some file systems cannot sync a directory
		return err
	}
	return nil
}

// cleanPathError drops the operation and (temporary) file name of an os
// error: "permission denied" reads better than "open /dir/.f.123: ...".
func cleanPathError(err error) error {
	var pe *os.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		return pe.Err
	case errors.As(err, &le):
		return le.Err
	}
	return err
}
