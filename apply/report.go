package apply

import (
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"time"
)

// ReportFormatVersion is the version of the report JSON document.
const ReportFormatVersion = "1"

// Report is what a run did (DESIGN.md "Apply"): --report FILE and
// apply -o json.
type Report struct {
	FormatVersion string        `json:"format_version"`
	StartedAt     time.Time     `json:"started_at"`
	FinishedAt    time.Time     `json:"finished_at"`
	Summary       ReportSummary `json:"summary"`
	Results       []Result      `json:"results"`

	// Interrupted is true when the run was stopped by its context.
	Interrupted bool `json:"-"`
	// Title starts the summary line: "Apply" when empty ("Destroy" for
	// vpcepctl destroy).
	Title string `json:"-"`
}

// ReportSummary counts results.
type ReportSummary struct {
	Succeeded int `json:"succeeded"`
	Failed    int `json:"failed"`
	Skipped   int `json:"skipped"`
	// AwaitingApproval counts the changes whose endpoint ended in
	// pendingAcceptance: in place, not yet approved by the service owner
	// (not counted as succeeded).
	AwaitingApproval int `json:"awaiting_approval"`
	// Conflicts counts the skipped changes that were conflicts: declared
	// state not reached, for a person or a flag to settle (exit 4).
	Conflicts int `json:"-"`
	// OwnApproval counts, of AwaitingApproval, the created endpoints of
	// services the same project owns: --approve would have accepted them
	// (exit 4, as the next plan's conflict).
	OwnApproval int `json:"-"`
}

// Result is the outcome of one change.
type Result struct {
	Action    string `json:"action"`
	Set       string `json:"set"`
	Name      string `json:"name"`
	ProjectID string `json:"project_id"`
	ID        string `json:"id"`
	Status    string `json:"status"`
	Attempts  int    `json:"attempts"`
	Error     string `json:"error"`

	// Reason is the plan's reason for the change (for people; not in the
	// report document).
	Reason   string `json:"-"`
	skipped  bool
	conflict bool // skipped: a conflict (planned, or met in the run)
	// ownApproval: created, awaiting the approval of a service the same
	// project owns, and no --approve.
	ownApproval bool
}

// count sets the summary from the results.
func (r *Report) count() {
	r.Summary = ReportSummary{}
	for _, res := range r.Results {
		switch res.result() {
		case Succeeded:
			r.Summary.Succeeded++
		case AwaitingApproval:
			r.Summary.AwaitingApproval++
			if res.ownApproval {
				r.Summary.OwnApproval++
			}
		case Failed:
			r.Summary.Failed++
		default:
			r.Summary.Skipped++
			if res.conflict {
				r.Summary.Conflicts++
			}
		}
	}
}

func (r Result) result() string {
	switch {
	case r.skipped:
		return Skipped
	case r.Error != "":
		return Failed
	}
	return resultOf(r.Status)
}

// OK reports whether every change that was tried succeeded and none was
// skipped for a reason other than being a conflict.
func (r *Report) OK() bool { return r.Summary.Failed == 0 && !r.Interrupted }

// WriteJSON writes the report document.
func (r *Report) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(r)
}

// WriteText writes the report for people: the summary line, then one
// line per change that failed (not those skipped: conflicts, and changes
// a stopped run did not start).
func (r *Report) WriteText(w io.Writer) error {
	var b strings.Builder
	b.WriteString(r.SummaryLine() + "\n")
	for _, res := range r.Results {
		if res.result() != Failed {
			continue
		}
		id := ""
		if res.ID != "" {
			id = " " + res.ID
		}
		fmt.Fprintf(&b, "  failed: %s/%s%s: %s\n", res.Set, res.Name, id, res.Error)
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// SummaryLine is the one-line human summary.
func (r *Report) SummaryLine() string {
	s := r.Summary
	var b strings.Builder
	title := r.Title
	if title == "" {
		title = "Apply"
	}
	fmt.Fprintf(&b, "%s: %d succeeded, ", title, s.Succeeded)
	switch {
	case s.OwnApproval > 0:
		fmt.Fprintf(&b, "%d awaiting approval (%d of a service this project owns: --approve accepts them), ", s.AwaitingApproval, s.OwnApproval)
	case s.AwaitingApproval > 0:
		fmt.Fprintf(&b, "%d awaiting approval, ", s.AwaitingApproval)
	}
	fmt.Fprintf(&b, "%d failed, %d skipped", s.Failed, s.Skipped)
	switch s.Conflicts {
	case 0:
	case 1:
		b.WriteString(" (1 conflict)")
	default:
		fmt.Fprintf(&b, " (%d conflicts)", s.Conflicts)
	}
	fmt.Fprintf(&b, " in %s.", r.FinishedAt.Sub(r.StartedAt).Round(time.Millisecond))
	return b.String()
}
