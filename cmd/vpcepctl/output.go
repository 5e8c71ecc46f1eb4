package main

// Output files policy: every file a flag names (--out, --report,
// --metrics-file) is proven writable before the first API call, and
// written whole or not at all (package outfile), after the run's Redactor
// scrubbed it. Plans and reports are written 0600 (they name projects and
// may quote API messages), the metrics file 0644 (node_exporter often runs
// as another user). "-" and /dev/stdout mean stdout, /dev/stderr stderr.

import (
	"bytes"
	"fmt"
	"io"
	"io/fs"

	"github.com/vpcepctl/vpcepctl/internal/outfile"
	"github.com/vpcepctl/vpcepctl/internal/term"
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

// checkOutput fails (exit 3) unless the file a flag names can be written.
func (a *app) checkOutput(flag, path string) error {
	if path == "" || a.stream(path) != nil {
		return nil
	}
	if err := outfile.Check(path); err != nil {
		return invalid(fmt.Errorf("%s %s: %w", flag, path, err))
	}
	return nil
}

// writeOutput writes data, redacted, to the file a flag names. Errors name
// the flag and the path.
func (a *app) writeOutput(flag, path string, mode fs.FileMode, data []byte) error {
	data = []byte(a.redactor.Redact(string(data)))
	var err error
	if w := a.stream(path); w != nil {
		_, err = w.Write(data)
	} else {
		err = outfile.Write(path, mode, data)
	}
	if err != nil {
		return fmt.Errorf("%s %s: %w", flag, path, err)
	}
	return nil
}

// render returns what write writes.
func render(write func(io.Writer) error) ([]byte, error) {
	var b bytes.Buffer
	err := write(&b)
	return b.Bytes(), err
}

// color reports whether to colour output on w: a terminal, and NO_COLOR
// unset.
func (a *app) color(w io.Writer) bool {
	return term.IsTerminal(w) && a.getenv("NO_COLOR") == "" && a.getenv("TERM") != "dumb"
}
