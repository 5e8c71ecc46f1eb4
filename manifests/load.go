package manifests

// Load's file policy: every path given is read (a file whatever its name,
// "-" as standard input, a directory recursively for *.yaml and *.yml,
// skipping hidden entries such as the ..data links of a Kubernetes
// ConfigMap volume); a file reached twice, through two paths or a symbolic
// link, is read once.

import (
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// StdinName is the file name of standard input in positions.
const StdinName = "<stdin>"

// Load reads the manifests in paths: files, directories (recursively,
// *.yaml and *.yml, in lexical order) and "-" for stdin. It returns every
// manifest of every document, or an error that joins every problem found:
// an *Error per problem in a manifest, in file order, or for a missing
// path, an unreadable file or a directory without manifests a one-line
// error naming the path.
func Load(paths []string, stdin io.Reader) ([]*Manifest, error) {
	ms, err := LoadPartial(paths, stdin)
	if err != nil {
		return nil, err
	}
	return ms, nil
}

// LoadPartial is Load for a caller that makes do with what can be read,
// such as shell completion: it returns the manifests of every document
// that parsed, with the error Load returns. Only a manifest's Set and its
// endpoints' Names are to be relied on where there are problems: each is
// either valid or "" (when what the file says is not). The documents of
// a file after a YAML syntax error are missing, and so is every document
// of a file that is not text.
func LoadPartial(paths []string, stdin io.Reader) ([]*Manifest, error) {
	if len(paths) == 0 {
		return nil, errors.New("no manifests given, want a file, a directory or - for stdin")
	}
	var (
		all       []*Manifest
		errs      []error
		sets      = newSetIndex()
		read      = map[string]bool{}
		stdinRead bool
	)
	load := func(name string, data []byte) {
		ms, perrs := parseFile(name, data)
		perrs = append(perrs, checkSets(ms, sets, "", "")...)
		for _, e := range sortErrors(perrs) {
			errs = append(errs, e)
		}
		all = append(all, ms...)
	}
	for _, path := range paths {
		if path == "-" {
			switch {
			case stdinRead:
				errs = append(errs, errors.New("-: standard input given more than once"))
			case stdin == nil:
				errs = append(errs, errors.New("-: no standard input"))
			default:
				stdinRead = true
				data, err := io.ReadAll(stdin)
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", StdinName, err))
					continue
				}
				load(StdinName, data)
			}
			continue
		}
		files, err := manifestFiles(path)
		errs = append(errs, err...)
		for _, file := range files {
			key := realPath(file)
			if read[key] {
				continue
			}
			read[key] = true
			data, err := os.ReadFile(file)
			if err != nil {
				errs = append(errs, pathError(file, err))
				continue
			}
			load(file, data)
		}
	}
	return all, errors.Join(errs...)
}

// manifestFiles returns path if it is a file, or the manifest files under
// it if it is a directory.
func manifestFiles(path string) ([]string, []error) {
	fi, err := os.Stat(path)
	if err != nil {
		return nil, []error{pathError(path, err)}
	}
	if !fi.IsDir() {
		return []string{path}, nil
	}
	root := path
	if li, err := os.Lstat(path); err == nil && li.Mode()&fs.ModeSymlink != 0 {
		root += string(filepath.Separator) // WalkDir follows a link named "link/"
	}
	var files []string
	var errs []error
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, pathError(p, err))
			if d != nil && d.IsDir() && p != root {
				return fs.SkipDir
			}
			return nil
		}
		if p != root && strings.HasPrefix(d.Name(), ".") {
			if d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		if d.IsDir() || !isManifestName(d.Name()) {
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 { // a link to a file is read, to a directory not
			if fi, err := os.Stat(p); err != nil || fi.IsDir() {
				if err != nil {
					errs = append(errs, pathError(p, err))
				}
				return nil
			}
		} else if !d.Type().IsRegular() {
			return nil
		}
		files = append(files, p)
		return nil
	})
	if err != nil {
		errs = append(errs, pathError(path, err))
	}
	if len(files) == 0 && len(errs) == 0 {
		errs = append(errs, fmt.Errorf("%s: no manifests in directory, want *.yaml or *.yml files", path))
	}
	return files, errs
}

func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// realPath identifies a file for reading it once.
func realPath(file string) string {
	if p, err := filepath.EvalSymlinks(file); err == nil {
		file = p
	}
	if p, err := filepath.Abs(file); err == nil {
		file = p
	}
	return file
}

// pathError makes "PATH: problem" of an error from the os package, which
// would otherwise say "open PATH: problem" or "lstat PATH: problem".
func pathError(path string, err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return fmt.Errorf("%s: %w", path, err)
}
