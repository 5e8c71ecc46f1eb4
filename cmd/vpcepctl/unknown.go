package main

// A mistyped command is one error line, as every other error is: cobra's
// "Did you mean this?" block spans four lines and would print as four
// "vpcepctl: error:" lines.

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
)

// suggestOneLine makes root leave suggestions to unknownCommand.
func suggestOneLine(root *cobra.Command) {
	root.DisableSuggestions = true
	root.SuggestionsMinimumDistance = 2
}

var unknownCommandRE = regexp.MustCompile(`^unknown command ("(?:[^"\\]|\\.)*") for "[^"]*"$`)

// unknownCommand rewrites cobra's error for an unknown command into one
// line that suggests the commands it may have meant, as a usage error
// (exit 3). Other errors are returned as they are.
func unknownCommand(root *cobra.Command, err error) error {
	if err == nil {
		return nil
	}
	m := unknownCommandRE.FindStringSubmatch(err.Error())
	if m == nil {
		return err
	}
	name, uerr := strconv.Unquote(m[1])
	if uerr != nil {
		return err
	}
	msg := fmt.Sprintf("unknown command %q", name)
	if s := root.SuggestionsFor(name); len(s) > 0 {
		for i := range s {
			s[i] = strconv.Quote(s[i])
		}
		msg += ", did you mean " + orList(s) + "?"
	}
	return usageError{fmt.Errorf("%s (%s --help lists the commands)", msg, root.Name())}
}

// orList joins words as "a, b or c".
func orList(words []string) string {
	if len(words) < 2 {
		return strings.Join(words, "")
	}
	return strings.Join(words[:len(words)-1], ", ") + " or " + words[len(words)-1]
}
