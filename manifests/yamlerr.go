package manifests

// This file turns YAML syntax errors into positioned *Errors. yaml.v3 says
// only "yaml: line N: problem", and N is often not where the problem is:
// it can be the start of the enclosing block, or one line early (a 0-based
// line). locate finds the position by parsing prefixes of the file.

import (
	"bytes"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// checkText returns the position of the first character YAML does not
// allow (invalid UTF-8, control characters other than tab, CR and LF) and
// a message, or msg == "". yaml.v3 reports these without a line.
func checkText(data []byte) (line, col int, msg string) {
	line, col = 1, 1
	for i := 0; i < len(data); {
		c := data[i]
		if c < utf8.RuneSelf {
			switch {
			case c == '\n':
				line, col = line+1, 1
				i++
				continue
			case c == '\t' || c == '\r' || c >= 0x20 && c != 0x7f:
			case c == 0:
				return line, col, "binary data (a NUL byte), want a YAML manifest"
			default:
				return line, col, fmt.Sprintf("control character %U, want text (YAML allows only tab, CR and LF)", c)
			}
			i++
			col++
			continue
		}
		r, size := utf8.DecodeRune(data[i:])
		if r == utf8.RuneError && size == 1 {
			return line, col, "invalid UTF-8, want a YAML manifest in UTF-8"
		}
		if !(r == 0x85 || 0xa0 <= r && r <= 0xd7ff || 0xe000 <= r && r <= 0xfffd || 0x10000 <= r) {
			return line, col, fmt.Sprintf("control character %U, want text (YAML allows only tab, CR and LF)", r)
		}
		i += size
		col++
	}
	return 0, 0, ""
}

// syntaxError positions a yaml.v3 error about data.
func syntaxError(file string, data []byte, err error) *Error {
	msg, hint := splitYAMLError(err)
	line, col := locate(data, msg, hint)
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		// The parser fails at the end of the alias; point at its "*".
		col = aliasCol(data, line, col, "*"+strings.TrimSuffix(name, "' referenced"))
	}
	return &Error{Pos{file, line, col}, "yaml: " + explain(msg, runeAt(data, line, col))}
}

// splitYAMLError splits "yaml: line N: problem" into problem and N (0 if
// the error has no line).
func splitYAMLError(err error) (msg string, line int) {
	s := strings.TrimPrefix(err.Error(), "yaml: ")
	if rest, ok := strings.CutPrefix(s, "line "); ok {
		if num, msg, ok := strings.Cut(rest, ": "); ok {
			if n, err := strconv.Atoi(num); err == nil {
				return msg, n
			}
		}
	}
	return s, 0
}

// yamlProblem parses data as Parse does and returns the problem of the
// first error, or "".
func yamlProblem(data []byte) string {
	dec := yaml.NewDecoder(bytes.NewReader(data))
	for {
		var n yaml.Node
		err := decodeNode(dec, &n)
		if err == io.EOF {
			return ""
		}
		if err != nil {
			msg, _ := splitYAMLError(err)
			return msg
		}
	}
}

// maxLocateBytes bounds the bytes parsed to locate one error (yaml.v3
// parses some 10 MB/s). Past it, a problem deep in a file of many
// megabytes is located to its line only.
var maxLocateBytes = 32 << 20 // a variable for tests

// locate returns the line and column of the problem msg in data; hint is
// the line yaml.v3 gave.
//
// The problem is at the shortest prefix of data that fails with msg: a
// streaming parser stops at its first error. Parsing data again through a
// reader that hands out one byte at a time tells how far the parser read
// before failing, a bound just past the problem (it reads a few
// characters ahead); prefixes that end a line or a character earlier then
// find where it is.
func locate(data []byte, msg string, hint int) (line, col int) {
	starts := []int{0} // starts[l-1] is the offset of line l
	for i, c := range data {
		if c == '\n' {
			starts = append(starts, i+1)
		}
	}
	n := len(starts)
	end := func(l int) int { // end of line l, after its newline
		if l >= n {
			return len(data)
		}
		return starts[l]
	}
	lineOf := func(off int) int { // line of the byte at off
		l, _ := slices.BinarySearch(starts, off+1)
		return max(l, 1)
	}

	if msg == "" {
		return min(max(hint, 1), n), 1
	}
	// yaml.v3's line is the problem's, its block's (which starts before
	// it) or one less (a 0-based line): the line before it parses.
	read := readBeforeError(data)
	hi := lineOf(max(read-1, 0)) // the line holding the last byte read
	lo := min(max(hint-1, 0), hi-1)
	work := 0
	fails := func(off int) bool {
		work += off
		return yamlProblem(data[:off]) == msg
	}
	if 2*end(hi) > maxLocateBytes {
		return hi, firstCol(data[starts[hi-1]:end(hi)])
	}

	// The line: the prefix to hi fails, the one to lo does not. The
	// problem is most often on hi or just above: step down, doubling the
	// step, until a prefix parses, then bisect.
	galloping, step := true, 1
	for hi-lo > 1 {
		if work+end(hi) > maxLocateBytes {
			return hi, firstCol(data[starts[hi-1]:end(hi)])
		}
		mid := lo + (hi-lo)/2
		if galloping && hi-step > lo {
			mid = hi - step
		}
		if fails(end(mid)) {
			hi, step = mid, 2*step
		} else {
			lo, galloping = mid, false
		}
	}
	line = hi

	// The column: the shortest prefix of the line that fails.
	text := data[starts[line-1]:end(line)]
	var offs []int // offs[k-1] is the end of the line's k-th character
	for i := range string(text) {
		if i > 0 {
			offs = append(offs, i)
		}
	}
	offs = append(offs, len(text))
	clo, chi := 0, len(offs)
	for chi-clo > 1 {
		if work+end(line) > maxLocateBytes {
			return line, firstCol(text)
		}
		mid := clo + (chi-clo)/2
		if fails(starts[line-1] + offs[mid-1]) {
			chi = mid
		} else {
			clo = mid
		}
	}
	return line, chi
}

// readBeforeError returns how many bytes of data the parser reads before it
// fails, when it is given one byte per read.
func readBeforeError(data []byte) int {
	r := &byteReader{data: data}
	dec := yaml.NewDecoder(r)
	for {
		var n yaml.Node
		if err := decodeNode(dec, &n); err != nil {
			if err == io.EOF {
				return len(data)
			}
			return r.off
		}
	}
}

// byteReader reads one byte at a time.
type byteReader struct {
	data []byte
	off  int
}

func (r *byteReader) Read(p []byte) (int, error) {
	if r.off >= len(r.data) {
		return 0, io.EOF
	}
	if len(p) == 0 {
		return 0, nil
	}
	p[0] = r.data[r.off]
	r.off++
	return 1, nil
}

// firstCol returns the column of the first non-blank character of a line.
func firstCol(line []byte) int {
	col := 1
	for _, r := range string(line) {
		if r != ' ' && r != '\t' {
			break
		}
		col++
	}
	return col
}

// aliasCol returns the column of the last alias text that starts at or
// before line:col, or col.
func aliasCol(data []byte, line, col int, alias string) int {
	l := 1
	for len(data) > 0 && l < line {
		i := bytes.IndexByte(data, '\n')
		if i < 0 {
			return col
		}
		data, l = data[i+1:], l+1
	}
	if i := bytes.IndexByte(data, '\n'); i >= 0 {
		data = data[:i]
	}
	best := col
	for c, r := 1, []rune(string(data)); c <= len(r) && c <= col; c++ {
		if strings.HasPrefix(string(r[c-1:]), alias) {
			best = c
		}
	}
	return best
}

// runeAt returns the character at line:col of data, or 0.
func runeAt(data []byte, line, col int) rune {
	l, c := 1, 1
	for _, r := range string(data) {
		if l == line && c == col {
			return r
		}
		if r == '\n' {
			if l == line {
				break
			}
			l, c = l+1, 1
			continue
		}
		c++
	}
	return 0
}

// explain rewrites the yaml.v3 problems users meet most into messages that
// say what to do; ch is the character at the problem.
func explain(msg string, ch rune) string {
	switch msg {
	case "found character that cannot start any token":
		switch ch {
		case '\t':
			return "tab character: indent with spaces, YAML does not allow tabs here"
		case '@', '`', '%':
			return fmt.Sprintf("a plain value cannot start with %q, quote the value", ch)
		}
		if ch != 0 {
			return fmt.Sprintf("found %q, which cannot start a value here, quote the value", ch)
		}
	case "found a tab character that violates indentation",
		"found a tab character where an indentation space is expected":
		return "tab character in the indentation, indent with spaces"
	case "mapping values are not allowed in this context":
		return `unexpected ":" here: quote a value that contains ": ", or fix the indentation`
	case "did not find expected key":
		return "did not find the expected key: check the indentation"
	case "did not find expected '-' indicator":
		return `did not find the expected "-" of a list item: check the indentation`
	case "could not find expected ':'":
		return `could not find the ":" after a key`
	case "found unexpected end of stream":
		return "unexpected end of file: a quote or bracket is not closed"
	}
	if name, ok := strings.CutPrefix(msg, "unknown anchor '"); ok {
		name = strings.TrimSuffix(name, "' referenced")
		return fmt.Sprintf("alias *%s refers to no anchor &%s before it", name, name)
	}
	return msg
}
