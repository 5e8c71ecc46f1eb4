package otc

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"golang.org/x/sync/errgroup"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file lists endpoints page by page. Policy: a listing never loses an
// endpoint that exists throughout it, never holds one twice, and believes
// nothing blindly.
//
// The API pages with limit and offset over a list sorted by created_at,
// which has one-second resolution; endpoints of one second come back in any
// order, a different one on each request (no tie-breaker). So page
// boundaries are checked by created_at, never by position or by id: a page
// read at offset o holds, at the time it was read, every endpoint whose
// created_at lies strictly between its first and its last. Consecutive
// pages overlap (by a twentieth of a page, at most 50 endpoints), and a
// page links to the one before it when it starts strictly before the
// second in which the one before ends, and ends later (or is the last).
// Then every second is inside some page, whatever order its endpoints
// came in and whatever was created or deleted between the reads (a delete
// shifts later pages left, which the overlap absorbs). Where a page does
// not link, the second at the boundary is read again from just before it
// began; where that fails too, the listing starts over (a few times, then
// an error). A second with more endpoints than a page (a bulk import; the
// API's rate limits allow some 20 creates a second) has no page around
// it: there a page links where it continues the one before endpoint by
// endpoint, which an order that holds still passes and a shuffled one
// fails but for chance.
//
// What is not believed: a body that is not a list document (an error,
// never an empty page, see decode.go); pages not sorted by created_at;
// offsets the API ignores; a full page taken as the last on total_count's
// word (only a short page ends a listing); a listing whose unique ids do
// not add up to total_count while total_count held still; pages without
// end (a bound on pages and endpoints, from the quota where the caller
// knows it).

// pageSize is the largest page the list call allows.
const pageSize = 1000

// listTries bounds how often a listing starts over.
const listTries = 3

// DefaultMaxEndpoints bounds a listing whose caller gave no bound.
const DefaultMaxEndpoints = 200_000

// ListBound is the MaxEndpoints for a project whose endpoint quota is
// quota: the quota, as many again on their way out (deleting), and a
// margin.
func ListBound(quota int) int { return 2*max(quota, 0) + 1000 }

// errListChanged says the pages could not be stitched.
var errListChanged = errors.New("the endpoint set kept changing while it was read")

// errGiantSecond says the pages could not be stitched because a second
// holds more endpoints than a page, in an order that changes.
var errGiantSecond = fmt.Errorf("%w, or cannot be read by offset", errListChanged)

// ListOptions filter and bound ListEndpoints.
type ListOptions struct {
	VPCID string
	// Concurrency bounds the pages fetched at once after the first; 0 = 4.
	Concurrency int
	// MaxEndpoints bounds the listing (pages read and memory held): one
	// that would hold more is an error. 0 = DefaultMaxEndpoints. Callers
	// that know the quota pass ListBound(quota).
	MaxEndpoints int
}

// ListEndpoints returns every endpoint of the project (or of the VPC), all
// pages, oldest first. The first page is read alone; the rest, as many as
// its total_count announces, concurrently. See the comment at the top of
// list.go for what it guarantees.
func (c *Client) ListEndpoints(ctx context.Context, opts ListOptions) ([]vpcep.Endpoint, error) {
	var err, giant error
	for try := 1; try <= listTries; try++ {
		var eps []vpcep.Endpoint
		eps, err = c.listOnce(ctx, opts)
		if !errors.Is(err, errListChanged) && !errors.Is(err, errCountMismatch) {
			return eps, err
		}
		if errors.Is(err, errGiantSecond) {
			giant = err // the most telling reason, whatever the last try says
		}
		if try < listTries {
			c.opts.Logger.Info("endpoint listing inconsistent, listing again", "attempt", try, "reason", err)
		}
	}
	if errors.Is(err, errCountMismatch) {
		// total_count held still and still disagreed: the server's fault.
		return nil, &ResponseError{Op: OpList, Status: http.StatusOK, URL: c.server, Err: err}
	}
	return nil, fmt.Errorf("%s: %s: %w (%d tries)", OpList, c.server, cmp.Or(giant, err), listTries)
}

// errCountMismatch says the unique endpoints listed do not add up to the
// total_count every page reported.
var errCountMismatch = errors.New("the pages do not add up to total_count")

// page is one list answer.
type page struct {
	offset      int
	eps         []vpcep.Endpoint
	total       int
	first, last time.Time // created_at of the first and the last endpoint
}

// final reports whether the page ended the list when it was read: it is
// short. total_count alone never ends a listing.
func (p *page) final(size int) bool { return len(p.eps) < size }

// links reports whether q may follow p: q starts strictly before the
// second p ends in (so that second, and every later one up to q's last,
// lies strictly inside q), and q ends later than p or ends the list.
func links(p, q *page, size int) bool {
	if len(q.eps) == 0 {
		return false
	}
	return q.first.Before(p.last) && (q.final(size) || q.last.After(p.last))
}

// continues reports whether q carries on where p left off in an order
// that held still: q starts with an endpoint of p, the endpoints of p from
// there on that q holds (the others were deleted meanwhile) are q's first
// ones, in p's order, and q brings something new or ends the list. Pages
// of a second whose order changes between requests do not pass this, but
// for chance.
func continues(p, q *page, size int) bool {
	k := slices.IndexFunc(p.eps, func(e vpcep.Endpoint) bool { return e.ID == q.eps[0].ID })
	if k < 0 {
		return false
	}
	inQ := make(map[string]bool, len(q.eps))
	for _, e := range q.eps {
		inQ[e.ID] = true
	}
	j := 0
	for _, e := range p.eps[k:] {
		if !inQ[e.ID] {
			continue
		}
		if j >= len(q.eps) || q.eps[j].ID != e.ID {
			return false
		}
		j++
	}
	return j < len(q.eps) || q.final(size)
}

// boundaryOffset is the offset just before the second p ends in: a page
// read there links to p unless the set changed in between. It is -1 when
// p holds nothing but that second.
func boundaryOffset(p *page) int {
	k := slices.IndexFunc(p.eps, func(e vpcep.Endpoint) bool { return e.CreatedAt.Equal(p.last) })
	if k <= 0 {
		return -1
	}
	return p.offset + k - 1
}

func (c *Client) listPage(ctx context.Context, opts ListOptions, offset int) (*page, error) {
	q := map[string]string{
		"limit": strconv.Itoa(pageSize), "offset": strconv.Itoa(offset),
		"sort_key": "created_at", "sort_dir": "asc",
	}
	if opts.VPCID != "" {
		q["vpc_id"] = opts.VPCID
	}
	var body *vpcep.ListEndpointsResponse
	if err := c.do(ctx, OpList, http.MethodGet, "/vpc-endpoints", q, nil, into(&body, vpcep.DecodeList)); err != nil {
		return nil, err
	}
	p := &page{offset: offset, eps: body.Endpoints, total: body.TotalCount}
	for i := range p.eps {
		if i > 0 && p.eps[i].CreatedAt.Before(p.eps[i-1].CreatedAt.Time) {
			return nil, c.listError(vpcep.NotDocument("a list page not sorted by created_at (sort_key ignored?)"))
		}
	}
	if n := len(p.eps); n > 0 {
		p.first, p.last = p.eps[0].CreatedAt.Time, p.eps[n-1].CreatedAt.Time
	}
	return p, nil
}

// listError is the error of an answer the listing cannot use.
func (c *Client) listError(err error) error {
	return &ResponseError{Op: OpList, Status: http.StatusOK, URL: c.server, Err: err}
}

// listOnce reads every page once (stitching where it can) and returns
// errListChanged when it cannot, errCountMismatch when the result does not
// add up.
func (c *Client) listOnce(ctx context.Context, opts ListOptions) ([]vpcep.Endpoint, error) {
	bound := opts.MaxEndpoints
	if bound <= 0 {
		bound = DefaultMaxEndpoints
	}
	first, err := c.listPage(ctx, opts, 0)
	if err != nil {
		return nil, err
	}
	if first.total > bound {
		return nil, c.listError(fmt.Errorf("total_count %d is more than this listing may hold (%d)", first.total, bound))
	}
	n := len(first.eps)
	size := pageSize
	switch {
	case n == 0 && first.total == 0:
		return first.eps, nil
	case n == 0:
		return nil, fmt.Errorf("%w: an empty first page with total_count %d", errListChanged, first.total)
	case n < pageSize && first.total <= n:
		return first.eps, checkCount(first.eps, []*page{first})
	case n < pageSize:
		size = n // the API caps pages below what we asked
	}
	if size < 2 {
		return nil, c.listError(errors.New("pages of one endpoint cannot be stitched"))
	}
	l := &listing{c: c, opts: opts, first: first, size: size, bound: bound}
	l.overlap = min(max(size/20, 1), 50)
	l.stride = size - l.overlap
	if err := l.plan(ctx); err != nil {
		return nil, err
	}
	return l.stitch(ctx)
}

// listing is the state of one listOnce beyond its first page.
type listing struct {
	c                     *Client
	opts                  ListOptions
	first                 *page
	size, stride, overlap int
	bound                 int
	planned               []*page // read concurrently, in offset order
	out                   []vpcep.Endpoint
	seen                  map[string]bool
}

// plan reads the pages total_count announces, concurrently.
func (l *listing) plan(ctx context.Context) error {
	maxPages := l.bound/l.stride + 3
	l.planned = make([]*page, min(max((l.first.total-l.size+l.stride-1)/l.stride, 0), maxPages))
	conc := l.opts.Concurrency
	if conc <= 0 {
		conc = 4
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(conc)
	for i := range l.planned {
		g.Go(func() error {
			p, err := l.c.listPage(gctx, l.opts, (i+1)*l.stride)
			l.planned[i] = p
			return err
		})
	}
	if err := g.Wait(); err != nil {
		return err
	}
	for _, p := range l.planned {
		if err := l.c.checkOffset(l.first, p); err != nil {
			return err
		}
	}
	return nil
}

// accept adds a page's endpoints not seen before.
func (l *listing) accept(p *page) error {
	for _, e := range p.eps {
		if !l.seen[e.ID] {
			l.seen[e.ID] = true
			l.out = append(l.out, e)
		}
	}
	if len(l.out) > l.bound {
		return l.c.listError(fmt.Errorf("more than %d endpoints listed: the pages do not end", l.bound))
	}
	return nil
}

// stitch links the pages from the first to a short one: a planned page
// where it links, otherwise one read for it (listLink).
func (l *listing) stitch(ctx context.Context) ([]vpcep.Endpoint, error) {
	l.out = make([]vpcep.Endpoint, 0, min(max(l.first.total, l.size), l.bound))
	l.seen = make(map[string]bool, cap(l.out))
	if err := l.accept(l.first); err != nil {
		return nil, err
	}
	maxPages := l.bound/l.stride + 3 + len(l.planned)
	read := []*page{l.first}
	prev, next := l.first, 0 // next: the first planned page not yet used
	for !prev.final(l.size) {
		if len(read) > maxPages {
			return nil, l.c.listError(fmt.Errorf("more than %d pages: the pages do not end", len(read)))
		}
		for next < len(l.planned) && l.planned[next].offset <= prev.offset {
			next++
		}
		var p *page
		if next < len(l.planned) && links(prev, l.planned[next], l.size) {
			p = l.planned[next]
			next++
		} else {
			var atStride *page
			if next < len(l.planned) && l.planned[next].offset == prev.offset+l.stride {
				atStride = l.planned[next]
			}
			var err error
			if p, err = l.c.listLink(ctx, l.opts, l.first, prev, l.size, l.stride, l.overlap, atStride); err != nil {
				return nil, err
			}
		}
		read = append(read, p)
		if err := l.accept(p); err != nil {
			return nil, err
		}
		prev = p
	}
	return l.out, checkCount(l.out, append(read, l.planned...))
}

// listLink reads the page that follows prev: at the stride (or takes the
// planned page there), then from just before the second prev ends in,
// then from a little earlier (a delete meanwhile shifted the list), and
// returns the first that links by created_at. Where none does (the second
// at the boundary holds more endpoints than a page), it returns the first
// that continues prev endpoint by endpoint; else errListChanged.
func (c *Client) listLink(ctx context.Context, opts ListOptions, first, prev *page, size, stride, overlap int, atStride *page) (*page, error) {
	offsets := []int{prev.offset + stride}
	if b := boundaryOffset(prev); b >= 0 {
		offsets = append(offsets, b, max(b-overlap, prev.offset))
	}
	var read []*page
	for i, off := range offsets {
		p := atStride
		if i > 0 || p == nil {
			var err error
			if p, err = c.listPage(ctx, opts, off); err != nil {
				return nil, err
			}
			if err := c.checkOffset(first, p); err != nil {
				return nil, err
			}
		}
		if links(prev, p, size) {
			return p, nil
		}
		read = append(read, p)
	}
	for _, p := range read {
		if continues(prev, p, size) {
			return p, nil
		}
	}
	if boundaryOffset(prev) < 0 || read[1].first.Before(prev.last) && read[1].last.Equal(prev.last) && !read[1].final(size) {
		// prev is one second whole, or a page that starts before the
		// boundary second still ends in it: the second holds more
		// endpoints than a page.
		return nil, fmt.Errorf("%w: more endpoints share the created_at second %s than a page holds (%d), "+
			"and the API returns them in another order on each request", errGiantSecond, prev.last.UTC().Format(time.RFC3339), size)
	}
	return nil, errListChanged
}

// checkOffset refuses a page read at an offset that answers with the first
// page again: the API ignores offset.
func (c *Client) checkOffset(first, p *page) error {
	if p.offset > 0 && sameIDs(p, first) {
		return c.listError(fmt.Errorf("offset %d answered with the first page again (offset ignored?)", p.offset))
	}
	return nil
}

// checkCount compares the endpoints listed with total_count. Where every
// page reported the same total_count, nothing changed that it could see,
// and the listing must not fall short of it (it may exceed it: an
// endpoint deleted and another created meanwhile leave total_count as it
// was, and a total_count that undercounts does no harm, since only a
// short page ends a listing). Where total_count moved, the stitching
// vouches for the listing (see above).
func checkCount(out []vpcep.Endpoint, pages []*page) error {
	for _, p := range pages[1:] {
		if p.total != pages[0].total {
			return nil
		}
	}
	if total := pages[0].total; len(out) < total {
		return fmt.Errorf("%w: total_count %d, %d unique endpoints", errCountMismatch, total, len(out))
	}
	return nil
}

// sameIDs reports whether two pages hold the same endpoints in the same
// order.
func sameIDs(a, b *page) bool {
	if len(a.eps) != len(b.eps) || len(a.eps) < 2 {
		return false
	}
	for i := range a.eps {
		if a.eps[i].ID != b.eps[i].ID {
			return false
		}
	}
	return true
}
