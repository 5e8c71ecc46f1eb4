// Package outfile writes the files a run leaves behind (plans, reports,
// the metrics textfile, the simulator's state). Policy: a file is proven
// writable before the work it records starts (Check), and written whole or
// not at all (Write): through a temporary file in the same directory,
// synced, renamed over the target, and the directory synced. Descriptors
// (/dev/fd/N) and character devices (/dev/null) are written in place,
// opened without blocking; any other special file (a FIFO, a socket) is
// refused: opening a FIFO that nobody reads blocks forever.
package outfile

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"syscall"
)

// Check fails unless a file can be written at path: a descriptor, a
// character device, or a regular file (existing or not) in a directory
// where a file can be created and removed.
func Check(path string) error {
	if IsDescriptor(path) {
		return openable(path)
	}
	if fi, err := os.Stat(path); err == nil {
		if msg := refusedKind(fi.Mode()); msg != "" {
			return errors.New(msg)
		}
		if fi.Mode()&fs.ModeCharDevice != 0 {
			return openable(path)
		}
		if err := replaceable(path, fi, os.Geteuid()); err != nil {
			return err
		}
	}
	dir := filepath.Dir(path)
	fi, err := os.Stat(dir)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return fmt.Errorf("directory %s does not exist", dir)
	case err != nil:
		return fmt.Errorf("directory %s: %w", dir, CleanError(err))
	case !fi.IsDir():
		return fmt.Errorf("%s is not a directory", dir)
	}
	probe, err := os.CreateTemp(dir, ".vpcepctl-probe-*")
	if err != nil {
		return fmt.Errorf("cannot create files in %s: %w", dir, CleanError(err))
	}
	probe.Close()
	if err := os.Remove(probe.Name()); err != nil {
		return fmt.Errorf("cannot remove files in %s: %w", dir, CleanError(err))
	}
	return nil
}

// openable checks that a special file can be opened for writing now,
// without blocking.
func openable(path string) error {
	fh, err := os.OpenFile(path, os.O_WRONLY|syscall.O_NONBLOCK, 0)
	if err != nil {
		return fmt.Errorf("cannot open it for writing: %w", CleanError(err))
	}
	return fh.Close()
}

// replaceable checks that an existing file can be renamed over by user
// uid: in a sticky directory (such as /tmp), a file of another user that
// does not own the directory cannot be, although new files can be created
// there.
func replaceable(path string, fi fs.FileInfo, uid int) error {
	dfi, err := os.Stat(filepath.Dir(path))
	if err != nil || dfi.Mode()&fs.ModeSticky == 0 {
		return nil
	}
	fst, ok1 := fi.Sys().(*syscall.Stat_t)
	dst, ok2 := dfi.Sys().(*syscall.Stat_t)
	if !ok1 || !ok2 || uid == 0 || int(fst.Uid) == uid || int(dst.Uid) == uid {
		return nil
	}
	return fmt.Errorf("cannot be replaced: it belongs to another user, in a sticky directory (uid %d)", fst.Uid)
}

// Write writes data to path (see the package policy); a new file gets
// mode. Errors carry no temporary file name.
func Write(path string, mode fs.FileMode, data []byte) error {
	if IsDescriptor(path) {
		return CleanError(writeInPlace(path, data))
	}
	if fi, err := os.Stat(path); err == nil && !fi.Mode().IsRegular() {
		if msg := refusedKind(fi.Mode()); msg != "" {
			return errors.New(msg)
		}
		return CleanError(writeInPlace(path, data))
	}
	return CleanError(writeAtomic(path, mode, data))
}

// IsDescriptor reports whether path names an open descriptor of this
// process (as a shell's process substitution gives: /dev/fd/63).
func IsDescriptor(path string) bool {
	return strings.HasPrefix(path, "/dev/fd/") || strings.HasPrefix(path, "/proc/self/fd/")
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

// CleanError drops the operation and (temporary) file name of an os
// error: "permission denied" reads better than "open /dir/.f.123: ...".
func CleanError(err error) error {
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
