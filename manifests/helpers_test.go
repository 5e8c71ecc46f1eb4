package manifests

// parse parses one file's bytes; name is the file name used in positions.
// It returns every manifest of every document, or an error that joins every
// problem found, each an *Error, in file order.
func parse(name string, data []byte) ([]*Manifest, error) {
	ms, errs := parseFile(name, data)
	errs = append(errs, checkSets(ms, newSetIndex(), "", "")...)
	if len(errs) > 0 {
		return nil, joinErrors(errs)
	}
	return ms, nil
}
