package manifests

// This file turns YAML syntax errors into positioned *Errors. yaml.v3 says
// only "yaml: line N: problem", and N is often not where the problem is:
// it can be the start of the enclosing block, or one line early (a 0-based
// line). The position is found by parsing prefixes of the file: the
// problem is at the shortest prefix that fails with the same message.

import (
	"bytes"
	"fmt"
	"io"
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

// maxLocateBytes bounds the bytes parsed to locate one error; past it the
// line yaml.v3 gave is used.
const maxLocateBytes = 64 << 20

// locate returns the line and column of the problem msg in data; hint is
// the line yaml.v3 gave. The problem must not appear in shorter prefixes,
// which holds for the errors of a streaming parser: it stops at the first.
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
	fallback := min(max(hint, 1), n)
	if msg == "" {
		return fallback, firstCol(data[starts[fallback-1]:end(fallback)])
	}
	work := 0
	exhausted := false
	fails := func(off int) bool {
		work += off
		if work > maxLocateBytes {
			exhausted = true
			return false
		}
		return yamlProblem(data[:off]) == msg
	}

	// Invariant: the prefix to line lo parses (or fails otherwise), the
	// prefix to line hi fails with msg. yaml.v3's line is at most one
	// before the problem, so search upwards from there.
	lo, hi := 0, n
	if h := hint - 1; h > 0 && h < n {
		if fails(end(h)) {
			hi = h
		} else {
			lo = h
			for step := 1; lo+step < hi; step *= 2 {
				if fails(end(lo + step)) {
					hi = lo + step
					break
				}
				lo += step
			}
		}
	}
	for hi-lo > 1 && !exhausted {
		mid := lo + (hi-lo)/2
		if fails(end(mid)) {
			hi = mid
		} else {
			lo = mid
		}
	}
	if exhausted || hi == n && !fails(len(data)) {
		return fallback, firstCol(data[starts[fallback-1]:end(fallback)])
	}

	// The column: the shortest prefix of the line that fails.
	line = hi
	text := data[starts[line-1]:end(line)]
	var offs []int // offs[k-1] is the end of the line's k-th character
	for i := range string(text) {
		if i > 0 {
			offs = append(offs, i)
		}
	}
	offs = append(offs, len(text))
	clo, chi := 0, len(offs)
	for chi-clo > 1 && !exhausted {
		mid := clo + (chi-clo)/2
		if fails(starts[line-1] + offs[mid-1]) {
			chi = mid
		} else {
			clo = mid
		}
	}
	if exhausted {
		return line, firstCol(text)
	}
	return line, chi
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
