package otc

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"golang.org/x/sync/errgroup"
)

// This file lists endpoints page by page. Policy: a listing never loses or
// doubles an endpoint, even while the set changes under it.
//
// The API pages with limit and offset over a list sorted by created_at, so
// a delete shifts every later endpoint one place to the left: a page read
// after the delete starts one endpoint later than planned, and the endpoint
// that slid over the boundary is in neither page. total_count cannot tell
// (a delete and a create leave it unchanged). So consecutive pages overlap
// by one endpoint (offsets 0, L-1, 2(L-1), ...) and must share at least one
// endpoint: each page is a contiguous run of the sorted list at the time it
// was read, so two runs that share an endpoint leave no gap between them.
// Where two pages share none, the earlier page is read again and stitched
// in; if that fails too, the whole listing starts over (a few times, then
// an error). Endpoints created or deleted during the listing may or may not
// appear, as in any snapshot; no endpoint that existed throughout is missed,
// and none appears twice.

// pageSize is the largest page the list call allows.
const pageSize = 1000

// maxPlanned bounds the pages read concurrently on the word of the first
// page's total_count (a million endpoints); more are read one by one.
const maxPlanned = 1000

// listTries bounds how often a listing starts over when the set changes too
// fast to stitch the pages.
const listTries = 3

// errListChanged says the pages could not be stitched.
var errListChanged = errors.New("the endpoint set kept changing while it was read")

// ListOptions filter ListEndpoints.
type ListOptions struct {
	VPCID string
	// Concurrency bounds the pages fetched at once after the first; 0 = 4.
	Concurrency int
}

// ListEndpoints returns every endpoint of the project (or of the VPC), all
// pages, oldest first. The first page is read alone; the rest, as many as
// its total_count announces, concurrently. See the comment at the top of
// list.go for how concurrent changes are handled.
func (c *Client) ListEndpoints(ctx context.Context, opts ListOptions) ([]Endpoint, error) {
	for try := 1; ; try++ {
		eps, err := c.listOnce(ctx, opts)
		if !errors.Is(err, errListChanged) {
			return eps, err
		}
		if try == listTries {
			return nil, fmt.Errorf("%s: %w (%d tries)", OpList, err, listTries)
		}
		c.opts.Logger.Info("endpoint set changed during listing, listing again", "attempt", try)
	}
}

type page struct {
	offset    int
	endpoints []Endpoint
	total     int
}

func (c *Client) listPage(ctx context.Context, opts ListOptions, offset int) (*page, error) {
	q := map[string]string{
		"limit": strconv.Itoa(pageSize), "offset": strconv.Itoa(offset),
		"sort_key": "created_at", "sort_dir": "asc",
	}
	if opts.VPCID != "" {
		q["vpc_id"] = opts.VPCID
	}
	var body ListEndpointsResponse
	if err := c.do(ctx, OpList, http.MethodGet, "/vpc-endpoints", q, nil, &body); err != nil {
		return nil, err
	}
	return &page{offset: offset, endpoints: body.Endpoints, total: body.TotalCount}, nil
}

// listOnce reads every page once (stitching where it can) and returns
// errListChanged when it cannot.
func (c *Client) listOnce(ctx context.Context, opts ListOptions) ([]Endpoint, error) {
	first, err := c.listPage(ctx, opts, 0)
	if err != nil {
		return nil, err
	}
	size := len(first.endpoints) // the API may cap a page below what we asked
	if size == 0 || size < pageSize && first.total <= size {
		return first.endpoints, nil
	}
	if size == 1 {
		return nil, fmt.Errorf("%s: the API answers pages of one endpoint, which cannot be stitched", OpList)
	}
	stride := size - 1

	// The pages total_count announces, read concurrently.
	planned := map[int]*page{}
	if n := min((first.total-size+stride-1)/stride, maxPlanned); n > 0 {
		pages := make([]*page, n)
		conc := opts.Concurrency
		if conc <= 0 {
			conc = 4
		}
		g, gctx := errgroup.WithContext(ctx)
		g.SetLimit(conc)
		for i := range pages {
			g.Go(func() error {
				p, err := c.listPage(gctx, opts, (i+1)*stride)
				pages[i] = p
				return err
			})
		}
		if err := g.Wait(); err != nil {
			return nil, err
		}
		for _, p := range pages {
			planned[p.offset] = p
		}
	}

	out := make([]Endpoint, 0, min(max(first.total, size), maxPlanned*pageSize))
	seen := make(map[string]bool, cap(out))
	accept := func(p *page) {
		for _, e := range p.endpoints {
			if !seen[e.ID] {
				seen[e.ID] = true
				out = append(out, e)
			}
		}
	}
	accept(first)
	prev := first
	for !isLast(prev, size) {
		off := prev.offset + stride
		next := planned[off]
		delete(planned, off)
		if next == nil {
			if next, err = c.listPage(ctx, opts, off); err != nil {
				return nil, err
			}
		}
		if !shares(prev, next) {
			// The set changed between the two reads. Read prev's offset
			// again: it must overlap the old prev, and then next (or a
			// fresh read of next's offset).
			again, err := c.listPage(ctx, opts, prev.offset)
			if err != nil {
				return nil, err
			}
			if !shares(prev, again) {
				return nil, errListChanged
			}
			accept(again)
			prev = again
			if isLast(prev, size) {
				break
			}
			if !shares(prev, next) {
				if next, err = c.listPage(ctx, opts, off); err != nil {
					return nil, err
				}
				if !shares(prev, next) {
					return nil, errListChanged
				}
			}
		}
		accept(next)
		prev = next
	}
	return out, nil
}

// isLast reports whether p reached the end of the list when it was read:
// it is short, or its total_count says nothing follows.
func isLast(p *page, size int) bool {
	return len(p.endpoints) < size || p.total > 0 && p.total <= p.offset+len(p.endpoints)
}

// shares reports whether two pages have an endpoint in common.
func shares(a, b *page) bool {
	ids := make(map[string]bool, len(a.endpoints))
	for _, e := range a.endpoints {
		ids[e.ID] = true
	}
	for _, e := range b.endpoints {
		if ids[e.ID] {
			return true
		}
	}
	return false
}
