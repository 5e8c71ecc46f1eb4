package main

// The command lines the documentation shows run as written, against the
// simulator: every line of the Example of each command's --help, and
// every vpcepctl line of the code blocks of README.md and docs/*.md, and
// every `vpcepctl ...` span in the "example" column of their tables
// (README's command table). A
// reader copies them; a line that fails here fails for them.
//
// A block (one Example, one code block) is a sequence a reader runs in
// one shell, from the root of the repository after "make build": it runs
// in a directory of its own holding examples/ (a link to the repository's)
// and bin/vpcepctl (a link to this test binary, which is vpcepctl), with
// the OS_* variables of a simulator of its own, as if the reader's
// credentials pointed there. Lines run one by one with sh -c, and must
// exit 0 (0 or 2 with --detailed-exitcode) without printing "vpcepctl:
// error:"; "vpcepctl sim" lines are servers (see serve); ". FILE" reads
// FILE's export lines into the environment of the lines after it. In a
// crontab block the schedule is left out. Lines that run no vpcepctl
// (make, export, kubectl, a crontab's PATH=...) are the reader's and are
// not run. An apply without --yes, or a path outside the directory, fails
// before anything runs.

import (
	"bufio"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/spf13/cobra"

	"github.com/vpcepctl/vpcepctl/otc"
)

// docSubstitutions rewrite, in every line before it runs, what a reader
// fills in or what would clash in a test. Each must be used by some line.
var docSubstitutions = []struct {
	re   *regexp.Regexp
	with string
	why  string
}{
	{regexp.MustCompile(`\bDIR\b`), "examples/manifests", "a placeholder: the reader's own manifests"},
	{regexp.MustCompile(`127\.0\.0\.1:8787\b`), "127.0.0.1:0", "vpcepctl sim's port: a free one, blocks run in parallel"},
	{regexp.MustCompile(`/etc/vpcepctl/manifests\b`), "examples/manifests", "docs/operations.md: where a cron host keeps the manifests"},
	{regexp.MustCompile(`/var/log/vpcepctl/`), "log/", "docs/operations.md: the cron job's log directory"},
	{regexp.MustCompile(`/var/lib/node_exporter/textfile/`), "log/", "docs/operations.md: node_exporter's textfile directory"},
}

// docSkips are lines that only a real cloud can run, by the text of the
// line. Each must match some line. None so far: every vpcepctl line runs
// against the simulator.
var docSkips = []struct{ line, why string }{}

// docLine is one line of a block: where it is, and what it says.
type docLine struct {
	where string
	text  string
}

// docBlock is a sequence of lines a reader runs one after the other.
type docBlock struct {
	name    string
	crontab bool // a code block of crontab lines: each starts with a schedule
	lines   []docLine
}

// helpBlocks returns the Example of every command, one block each.
func helpBlocks(t *testing.T) []docBlock {
	t.Helper()
	a := &app{getenv: func(string) string { return "" }, redactor: otc.NewRedactor()}
	var blocks []docBlock
	var walk func(c *cobra.Command)
	walk = func(c *cobra.Command) {
		if c.Example != "" {
			b := docBlock{name: c.CommandPath() + " --help"}
			for i, l := range strings.Split(c.Example, "\n") {
				b.lines = append(b.lines, docLine{where: b.name + " Example line " + strconv.Itoa(i+1), text: strings.TrimSpace(l)})
			}
			blocks = append(blocks, b)
		}
		for _, sub := range c.Commands() {
			walk(sub)
		}
	}
	walk(a.rootCommand())
	return blocks
}

// fence opens or closes a code block: ``` or ~~~, then the info string.
var fence = regexp.MustCompile("^\\s*(```|~~~)")

// tableCommand is a code span in a table cell that runs vpcepctl.
var tableCommand = regexp.MustCompile("`(vpcepctl [^`]+)`")

// markdownBlocks returns the code blocks of a Markdown file, their lines
// continued by a backslash joined into one, and its tables with an
// "example" column: the `vpcepctl ...` spans of that column are a block,
// in order.
func markdownBlocks(t *testing.T, path string) []docBlock {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var blocks []docBlock
	var cur *docBlock
	var cont string // a line continued by a backslash
	var table *docBlock
	exampleCol := -1 // the table's "example" column
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := sc.Text()
		where := filepath.Base(path) + ":" + strconv.Itoa(n)
		if cur == nil && strings.HasPrefix(line, "|") {
			cells := strings.Split(line, "|")
			if table == nil {
				table = &docBlock{name: where}
				exampleCol = slices.IndexFunc(cells, func(c string) bool { return strings.TrimSpace(c) == "example" })
			} else if exampleCol > 0 && exampleCol < len(cells) {
				for _, m := range tableCommand.FindAllStringSubmatch(cells[exampleCol], -1) {
					table.lines = append(table.lines, docLine{where: where, text: m[1]})
				}
			}
			continue
		}
		if table != nil {
			if len(table.lines) > 0 {
				blocks = append(blocks, *table)
			}
			table = nil
		}
		switch {
		case fence.MatchString(line) && cur == nil:
			info := strings.TrimLeft(strings.TrimSpace(line), "`~")
			cur = &docBlock{name: where, crontab: strings.HasPrefix(info, "crontab")}
		case fence.MatchString(line):
			blocks = append(blocks, *cur)
			cur = nil
		case cur != nil && strings.HasSuffix(line, "\\"):
			cont += strings.TrimSuffix(line, "\\") + " "
		case cur != nil:
			cur.lines = append(cur.lines, docLine{where: where, text: strings.TrimSpace(cont + line)})
			cont = ""
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if table != nil && len(table.lines) > 0 {
		blocks = append(blocks, *table)
	}
	if cur != nil {
		t.Errorf("%s: code block opened at %s is not closed", path, cur.name)
	}
	return blocks
}

// cronSchedule is the five time fields of a crontab line (not a
// variable: NAME=value).
var cronSchedule = regexp.MustCompile(`^([^\s=]+\s+){5}`)

// shellOperators are the shell's control operators: the first word after
// each is a command.
var shellOperators = regexp.MustCompile(`\|\||&&|[|;&]`)

// command returns the shell command of a line ("" for a comment or an
// empty line): the prompt "$ ", and in a crontab the schedule, removed.
func command(text string, crontab bool) string {
	text = strings.TrimPrefix(text, "$ ")
	if strings.HasPrefix(text, "#") {
		return ""
	}
	if crontab {
		m := cronSchedule.FindString(text)
		if m == "" {
			return "" // a variable: PATH=..., MAILTO=...
		}
		text = text[len(m):]
	}
	return strings.TrimSpace(text)
}

// vpcepctlParts returns the words of each part of a command that runs
// vpcepctl (as vpcepctl or bin/vpcepctl), after the program name.
func vpcepctlParts(cmd string) [][]string {
	if i := strings.Index(cmd, " #"); i >= 0 {
		cmd = cmd[:i]
	}
	var parts [][]string
	for _, part := range shellOperators.Split(cmd, -1) {
		words := strings.Fields(part)
		for len(words) > 0 && strings.Contains(words[0], "=") { // VAR=value vpcepctl ...
			words = words[1:]
		}
		if len(words) > 0 && (words[0] == "vpcepctl" || words[0] == "bin/vpcepctl") {
			parts = append(parts, words[1:])
		}
	}
	return parts
}

// subcommand returns the first word of args that is not a flag or the
// value of a global flag.
func subcommand(args []string) string {
	boolFlags := []string{"--sim", "--insecure"}
	for i := 0; i < len(args); i++ {
		switch a := args[i]; {
		case !strings.HasPrefix(a, "-"):
			return a
		case !strings.Contains(a, "=") && !slices.Contains(boolFlags, a):
			i++ // --sim-state FILE
		}
	}
	return ""
}

// absPath matches an absolute path in a command: a line runs only inside
// its block's directory (a test leaves nothing behind).
var absPath = regexp.MustCompile(`(?:^|[\s=<>|;&])(/[^\s;&|]*)`)

// outsidePath returns the first absolute path of a command but /dev/null.
func outsidePath(cmd string) string {
	for _, m := range absPath.FindAllStringSubmatch(cmd, -1) {
		if m[1] != "/dev/null" {
			return m[1]
		}
	}
	return ""
}

// stepKind is how a line runs.
type stepKind int

const (
	stepRun    stepKind = iota // sh -c LINE
	stepServe                  // vpcepctl sim: a server (see serve)
	stepSource                 // . FILE: FILE's export lines into the environment
)

// docStep is a line ready to run.
type docStep struct {
	docLine
	run   string // the command, after docSubstitutions
	kind  stepKind
	codes []int // the exit statuses it may end with
}

// TestDocCommands runs every command line of the --help examples and of
// the code blocks of README.md and docs/*.md.
func TestDocCommands(t *testing.T) {
	blocks := helpBlocks(t)
	docs, err := filepath.Glob(filepath.Join("..", "..", "docs", "*.md"))
	if err != nil {
		t.Fatal(err)
	}
	for _, path := range append([]string{filepath.Join("..", "..", "README.md")}, docs...) {
		blocks = append(blocks, markdownBlocks(t, path)...)
	}
	subsUsed := make([]bool, len(docSubstitutions))
	skipsUsed := make([]bool, len(docSkips))
	type plan struct {
		name  string
		steps []docStep
	}
	var plans []plan
	ran := 0
	for _, b := range blocks {
		if steps := prepareBlock(t, b, subsUsed, skipsUsed); len(steps) > 0 {
			plans = append(plans, plan{b.name, steps})
			ran += len(steps)
		}
	}
	for i, used := range subsUsed {
		if !used {
			t.Errorf("docSubstitutions: %s (%s) rewrites no line: remove it", docSubstitutions[i].re, docSubstitutions[i].why)
		}
	}
	for i, used := range skipsUsed {
		if !used {
			t.Errorf("docSkips: %q matches no line: remove it", docSkips[i].line)
		}
	}
	t.Logf("%d lines in %d blocks", ran, len(plans))
	for _, p := range plans {
		t.Run(p.name, func(t *testing.T) {
			t.Parallel()
			runBlock(t, p.steps)
		})
	}
}

// prepareBlock returns the steps of a block, marking the substitutions
// and skips it uses. Every line of a help Example must run vpcepctl.
func prepareBlock(t *testing.T, b docBlock, subsUsed, skipsUsed []bool) []docStep {
	t.Helper()
	help := strings.HasSuffix(b.name, " --help")
	var steps []docStep
	for _, l := range b.lines {
		cmd := command(l.text, b.crontab)
		if cmd == "" {
			continue
		}
		if file, ok := strings.CutPrefix(cmd, ". "); ok {
			steps = append(steps, docStep{docLine: l, run: strings.Fields(file)[0], kind: stepSource})
			continue
		}
		parts := vpcepctlParts(cmd)
		if len(parts) == 0 {
			if help {
				t.Errorf("%s: %q runs no vpcepctl", l.where, l.text)
			}
			continue
		}
		if i := slices.IndexFunc(docSkips, func(s struct{ line, why string }) bool { return s.line == l.text }); i >= 0 {
			skipsUsed[i] = true
			continue
		}
		s := docStep{docLine: l, run: cmd, codes: []int{exitOK}}
		for i, sub := range docSubstitutions {
			if sub.re.MatchString(s.run) {
				s.run = sub.re.ReplaceAllString(s.run, sub.with)
				subsUsed[i] = true
			}
		}
		if p := outsidePath(s.run); p != "" {
			t.Errorf("%s: %q: %s is outside the block's directory; rewrite it with a docSubstitutions entry", l.where, l.text, p)
			continue
		}
		for _, args := range parts {
			switch subcommand(args) {
			case "apply", "destroy":
				if !slices.ContainsFunc(args, func(a string) bool { return a == "--yes" || a == "-y" || a == "--yes=true" }) {
					t.Errorf("%s: %q: without a terminal, apply and destroy refuse to run without --yes (docs/operations.md)", l.where, l.text)
				}
			case "sim":
				s.kind, s.codes = stepServe, []int{130}
			}
			if slices.Contains(args, "--detailed-exitcode") {
				s.codes = []int{exitOK, exitChanges}
			}
		}
		steps = append(steps, s)
	}
	return steps
}

// TestDocLineParsing: which lines run, which vpcepctl commands they hold,
// and what stops a line from running.
func TestDocLineParsing(t *testing.T) {
	for _, tt := range []struct {
		text    string
		crontab bool
		cmd     string
		subs    []string // the subcommand of each vpcepctl part
		outside string
	}{
		{"# a comment", false, "", nil, ""},
		{"make build", false, "make build", nil, ""},
		{"$ vpcepctl plan -f DIR  # comment", false, "vpcepctl plan -f DIR  # comment", []string{"plan"}, ""},
		{"bin/vpcepctl --sim --sim-state s.json apply -f x --yes", false, "bin/vpcepctl --sim --sim-state s.json apply -f x --yes", []string{"apply"}, ""},
		{"cat a.yaml | vpcepctl validate -f -", false, "cat a.yaml | vpcepctl validate -f -", []string{"validate"}, ""},
		{"vpcepctl plan --out p.json && vpcepctl apply p.json --yes", false, "vpcepctl plan --out p.json && vpcepctl apply p.json --yes", []string{"plan", "apply"}, ""},
		{"VPCEPCTL_RATE=5 vpcepctl apply --yes > /dev/null", false, "VPCEPCTL_RATE=5 vpcepctl apply --yes > /dev/null", []string{"apply"}, ""},
		{"vpcepctl sim > /tmp/sim.env &", false, "vpcepctl sim > /tmp/sim.env &", []string{"sim"}, "/tmp/sim.env"},
		{"vpcepctl plan --pushgateway http://pgw:9091/x", false, "vpcepctl plan --pushgateway http://pgw:9091/x", []string{"plan"}, ""},
		{"30 3 * * * vpcepctl apply --yes >> /var/log/a.log 2>&1", true, "vpcepctl apply --yes >> /var/log/a.log 2>&1", []string{"apply"}, "/var/log/a.log"},
		{"MAILTO=ops@example.com", true, "", nil, ""},
		{"30 3 * * * vpcepctl apply", false, "30 3 * * * vpcepctl apply", nil, ""},
	} {
		cmd := command(tt.text, tt.crontab)
		var subs []string
		for _, args := range vpcepctlParts(cmd) {
			subs = append(subs, subcommand(args))
		}
		if cmd != tt.cmd || !slices.Equal(subs, tt.subs) || outsidePath(cmd) != tt.outside {
			t.Errorf("%q: command %q, subcommands %q, outside %q; want %q, %q, %q", tt.text, cmd, subs, outsidePath(cmd), tt.cmd, tt.subs, tt.outside)
		}
	}
}
