package otc_test

// Found by the adversarial review of issue 10: a listing that misses endpoints that
// existed throughout it and says nothing; a listing that cannot complete.

//
// Each test's comment describes what the review found; the test checks
// that it no longer happens.

import (
	"fmt"
	"strings"
	"testing"

	"github.com/vpcepctl/vpcepctl/otc"
)

// TestListShuffledTiesWhileCreating: as TestListShuffledTies, but
// the churn is what a busy project has: another run creating endpoints
// while the listing reads its pages (total_count moves, so checkCount
// vouches for nothing; TestListShuffledTies deletes one and creates one per
// request, which keeps total_count still and so always has the count
// check), and a created_at second that holds more endpoints than the page
// overlap (50) and straddles a page boundary. There the created_at rule
// cannot link the two pages, "continues" links them when the shuffled tie
// order happens to agree, and the endpoints of that second that neither
// page holds are lost without an error. Pages are read one at a time
// (Concurrency 1) so that each size below gives the same answers on every
// run: these are the sizes (of 400 tried, 2500..2899) whose listing missed
// an endpoint (about 1 in 130).
func TestListShuffledTiesWhileCreating(t *testing.T) {
	for _, size := range []int{2656, 2733, 2791} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			s := newListServerPer(t, size, 100)
			s.shuffle = true
			s.mutate = func(s *listServer, n int) {
				if n > 1 {
					s.create() // another run creates meanwhile
				}
			}
			start := s.snapshot()
			c, _ := tokenClient(t, s)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{Concurrency: 1})
			if err != nil {
				t.Skipf("listing failed (%v): an error is acceptable, a short list is not", err)
			}
			s.check(t, start, got)
		})
	}
}

// TestListCappedPagesBulkSecond: a server that answers at most
// 10 endpoints a page (the API's default limit; list.go supports capped
// pages: "the API caps pages below what we asked") and a bulk create of 16
// a second, the rate issue 10 names. Nothing changes during the listing.
// With shuffled ties (the API's behaviour, sim --tie-order random) every
// listing fails after three tries, with a message that blames change
// ("the endpoint set kept changing while it was read"), so plan and apply
// can never run against such a project; stable ties pass. The stitching
// needs a page to start before the second the previous one ends in, which
// a page of 10 inside a second of 16 never does, and the "continues"
// fallback fails for shuffled ties.
func TestListCappedPagesBulkSecond(t *testing.T) {
	for _, shuffle := range []bool{false, true} {
		t.Run(fmt.Sprintf("shuffle %v", shuffle), func(t *testing.T) {
			s := newListServerPer(t, 200, 16)
			s.shuffle = shuffle
			s.limitCap = 10
			start := s.snapshot()
			c, _ := tokenClient(t, s)
			got, err := c.ListEndpoints(t.Context(), otc.ListOptions{})
			if shuffle {
				// No listing by offset can be trusted: an error that says
				// why, never a short list.
				if err == nil || !strings.Contains(err.Error(), "more endpoints share the created_at second") {
					t.Fatalf("shuffled seconds of 16, pages of 10: %d endpoints, error %v; want an error saying why", len(got), err)
				}
				return
			}
			if err != nil {
				t.Fatalf("listing of %d endpoints that do not change, pages of 10: %v", len(start), err)
			}
			s.check(t, start, got)
		})
	}
}
