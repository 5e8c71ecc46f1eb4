package sim

import (
	"container/heap"
	"crypto/rand"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// This file holds the endpoint store. Policy: status is never advanced by a
// timer. Every endpoint carries the times at which it settles (readyAt) or
// disappears (goneAt); a queue ordered by those times is drained at the start
// of every operation, so the state is the same whether it was read a second
// or a day later, and survives Save/Load.
//
// Slices inside a stored endpoint (tags, whitelist, ...) are never changed in
// place, only replaced, so responses can be encoded after the lock is
// released.

// markerBase is above 2^32: real marker_ids do not fit an int32.
const markerBase int64 = 1<<32 + 16777216

type record struct {
	ep       vpcep.Endpoint // as of the last settle; IP kept even when hidden
	seq      int64
	born     time.Time // when the create was committed (GetLag)
	readyAt  time.Time // creating settles into final at readyAt
	final    string
	finalErr []vpcep.EndpointError
	goneAt   time.Time // deleting disappears at goneAt
	removed  bool
}

type project struct {
	id         string
	byID       map[string]*record
	order      []*record // by (created_at, seq); may hold removed records
	tombstones int
	ips        map[string]string // subnet_id "/" ip -> endpoint id
	nextIP     map[string]uint32 // subnet_id -> allocation counter
}

func newProject(id string) *project {
	return &project{
		id:     id,
		byID:   make(map[string]*record),
		ips:    make(map[string]string),
		nextIP: make(map[string]uint32),
	}
}

func before(a, b *record) bool {
	if !a.ep.CreatedAt.Equal(b.ep.CreatedAt.Time) {
		return a.ep.CreatedAt.Before(b.ep.CreatedAt.Time)
	}
	return a.seq < b.seq
}

func (p *project) insert(r *record) {
	p.byID[r.ep.ID] = r
	if r.ep.IP != "" && r.ep.SubnetID != "" {
		p.ips[r.ep.SubnetID+"/"+r.ep.IP] = r.ep.ID
	}
	n := len(p.order)
	if n == 0 || before(p.order[n-1], r) {
		p.order = append(p.order, r)
		return
	}
	i := sort.Search(n, func(i int) bool { return before(r, p.order[i]) })
	p.order = slices.Insert(p.order, i, r)
}

func (p *project) remove(r *record) {
	if r.removed {
		return
	}
	r.removed = true
	delete(p.byID, r.ep.ID)
	key := r.ep.SubnetID + "/" + r.ep.IP
	if p.ips[key] == r.ep.ID {
		delete(p.ips, key)
	}
	p.tombstones++
}

// live returns the endpoints in (created_at, seq) order.
func (p *project) live() []*record {
	if p.tombstones > 0 {
		p.order = slices.DeleteFunc(p.order, func(r *record) bool { return r.removed })
		p.tombstones = 0
	}
	return p.order
}

// allocIP hands out the next free address of a subnet.
func (p *project) allocIP(subnet string) string {
	for {
		k := p.nextIP[subnet]
		p.nextIP[subnet] = k + 1
		v := uint32(10)<<24 + 10 + k
		if b := v & 0xff; b == 0 || b == 255 {
			continue
		}
		ip := fmt.Sprintf("%d.%d.%d.%d", v>>24, v>>16&0xff, v>>8&0xff, v&0xff)
		if _, used := p.ips[subnet+"/"+ip]; !used {
			return ip
		}
	}
}

type eventKind int

const (
	evReady eventKind = iota
	evGone
	evCommit // a late create commits (Options.CommitDelay)
)

type event struct {
	at     time.Time
	kind   eventKind
	pid    string
	rec    *record        // evReady, evGone
	create *pendingCreate // evCommit
}

type eventQueue []*event

func (q eventQueue) Len() int           { return len(q) }
func (q eventQueue) Less(i, j int) bool { return q[i].at.Before(q[j].at) }
func (q eventQueue) Swap(i, j int)      { q[i], q[j] = q[j], q[i] }
func (q *eventQueue) Push(x any)        { *q = append(*q, x.(*event)) }
func (q *eventQueue) Pop() any {
	old := *q
	n := len(old)
	e := old[n-1]
	old[n-1] = nil
	*q = old[:n-1]
	return e
}

// schedule queues the events a record is waiting for. Callers hold mu.
func (s *Sim) schedule(pid string, r *record) { s.events.schedule(pid, r) }

func (q *eventQueue) schedule(pid string, r *record) {
	switch r.ep.Status {
	case vpcep.StatusCreating:
		if !r.readyAt.IsZero() {
			heap.Push(q, &event{at: r.readyAt, kind: evReady, pid: pid, rec: r})
		}
	case vpcep.StatusDeleting:
		if !r.goneAt.IsZero() {
			heap.Push(q, &event{at: r.goneAt, kind: evGone, pid: pid, rec: r})
		}
	}
}

// settle applies every status change due at now. Callers hold mu.
func (s *Sim) settle(now time.Time) {
	for len(s.events) > 0 && !s.events[0].at.After(now) {
		ev := heap.Pop(&s.events).(*event)
		if ev.kind == evCommit {
			// Committed or refused (quota, port IP) as the back end decides
			// now; nobody is there to read the answer.
			_, _ = s.commitCreate(ev.pid, &ev.create.req, ev.create.svc, ev.at)
			continue
		}
		r := ev.rec
		if r.removed {
			continue
		}
		switch ev.kind {
		case evReady:
			if r.ep.Status == vpcep.StatusCreating && r.readyAt.Equal(ev.at) {
				r.ep.Status = r.final
				r.ep.Error = r.finalErr
				r.ep.UpdatedAt = vpcep.Time{Time: ev.at}
			}
		case evGone:
			if r.ep.Status == vpcep.StatusDeleting && r.goneAt.Equal(ev.at) {
				if p := s.projects[ev.pid]; p != nil {
					p.remove(r)
				}
			}
		}
	}
}

// project returns the project with id, creating it. Callers hold mu.
func (s *Sim) project(id string) *project {
	p := s.projects[id]
	if p == nil {
		p = newProject(id)
		s.projects[id] = p
	}
	return p
}

// visible returns the endpoint as the API shows it: the address of an
// interface endpoint only once the connection is up.
func visible(r *record) vpcep.Endpoint {
	e := r.ep
	switch e.Status {
	case vpcep.StatusAccepted, vpcep.StatusRejected, vpcep.StatusDeleting:
	default:
		e.IP = ""
	}
	return e
}

// normalize stores empty lists as nil, as they read back after Save/Load.
func normalize(e vpcep.Endpoint) vpcep.Endpoint {
	if len(e.ActiveStatus) == 0 {
		e.ActiveStatus = nil
	}
	if len(e.DNSNames) == 0 {
		e.DNSNames = nil
	}
	if len(e.Whitelist) == 0 {
		e.Whitelist = nil
	}
	if len(e.RouteTables) == 0 {
		e.RouteTables = nil
	}
	if len(e.PolicyStatement) == 0 {
		e.PolicyStatement = nil
	}
	if len(e.Tags) == 0 {
		e.Tags = nil
	}
	if len(e.Error) == 0 {
		e.Error = nil
	}
	return e
}

func cloneEndpoint(e vpcep.Endpoint) vpcep.Endpoint {
	e.ActiveStatus = slices.Clone(e.ActiveStatus)
	e.DNSNames = slices.Clone(e.DNSNames)
	e.Whitelist = slices.Clone(e.Whitelist)
	e.RouteTables = slices.Clone(e.RouteTables)
	e.Tags = slices.Clone(e.Tags)
	e.Error = slices.Clone(e.Error)
	if e.PolicyStatement != nil {
		ps := make([]vpcep.PolicyStatement, len(e.PolicyStatement))
		for i, p := range e.PolicyStatement {
			ps[i] = vpcep.PolicyStatement{Effect: p.Effect, Action: slices.Clone(p.Action), Resource: slices.Clone(p.Resource)}
		}
		e.PolicyStatement = ps
	}
	return e
}

// Endpoints returns a copy of a project's endpoints as GET would show them
// now, in created_at order.
func (s *Sim) Endpoints(projectID string) []vpcep.Endpoint {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.settle(s.now())
	p := s.projects[projectID]
	if p == nil {
		return nil
	}
	live := p.live()
	out := make([]vpcep.Endpoint, 0, len(live))
	for _, r := range live {
		out = append(out, cloneEndpoint(visible(r)))
	}
	return out
}

// Put inserts an endpoint as it is, bypassing validation, quota and faults
// (tests: unmanaged, foreign, failed or rejected endpoints). Missing fields
// are filled in: id, project_id, created_at/updated_at (now), marker_id,
// status (accepted), service type and name for the seeded services. An
// endpoint put as creating settles after AcceptAfter; one put as deleting
// disappears after AcceptAfter. An existing endpoint with the same id is
// replaced.
func (s *Sim) Put(projectID string, e vpcep.Endpoint) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	p := s.project(projectID)
	e = cloneEndpoint(e)
	if e.ID == "" {
		e.ID = newUUID()
	}
	if e.ProjectID == "" {
		e.ProjectID = projectID
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = vpcep.Time{Time: now.Truncate(time.Second)}
	}
	if e.UpdatedAt.IsZero() {
		e.UpdatedAt = e.CreatedAt
	}
	if e.MarkerID == 0 {
		s.marker++
		e.MarkerID = s.marker
	}
	if e.Status == "" {
		e.Status = vpcep.StatusAccepted
	}
	svc, known := serviceByID(e.EndpointServiceID)
	if e.ServiceType == "" {
		e.ServiceType = vpcep.ServiceInterface
		if known {
			e.ServiceType = svc.Type
		}
	}
	if e.EndpointServiceName == "" && known {
		e.EndpointServiceName = svc.Name
	}
	if len(e.ActiveStatus) == 0 {
		e.ActiveStatus = vpcep.StringList{"active"}
	}
	e = normalize(e)
	if old := p.byID[e.ID]; old != nil {
		p.remove(old)
	}
	s.seq++
	r := &record{ep: e, seq: s.seq}
	after := s.opts.Load().AcceptAfter
	switch e.Status {
	case vpcep.StatusCreating:
		r.readyAt = e.CreatedAt.Add(after)
		r.final = vpcep.StatusAccepted
		if known && svc.Approval {
			r.final = vpcep.StatusPendingAcceptance
		}
	case vpcep.StatusDeleting:
		r.goneAt = e.UpdatedAt.Add(after)
	}
	p.insert(r)
	s.schedule(projectID, r)
	s.settle(now)
}

// ErrNotFound is returned by SetStatus for an unknown endpoint.
var ErrNotFound = errors.New("endpoint not found")

// SetStatus sets an endpoint's status at once, as the owner of an endpoint
// service does by accepting or rejecting a connection (tests: approval,
// rejection). Setting deleting starts the deletion.
func (s *Sim) SetStatus(projectID, id, status string) error {
	switch status {
	case vpcep.StatusCreating, vpcep.StatusAccepted, vpcep.StatusPendingAcceptance,
		vpcep.StatusRejected, vpcep.StatusFailed, vpcep.StatusDeleting:
	default:
		return fmt.Errorf("set status of %s: unknown status %q", id, status)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	s.settle(now)
	p := s.projects[projectID]
	if p == nil || p.byID[id] == nil {
		return fmt.Errorf("set status of %s: %w", id, ErrNotFound)
	}
	r := p.byID[id]
	r.ep.Status = status
	r.ep.UpdatedAt = vpcep.Time{Time: now}
	r.readyAt, r.goneAt = time.Time{}, time.Time{}
	if status == vpcep.StatusDeleting {
		r.goneAt = now.Add(s.opts.Load().AcceptAfter)
		s.schedule(projectID, r)
		s.settle(now)
	}
	return nil
}

func newUUID() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err) // crypto/rand does not fail on supported platforms
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

// derivedUUID returns a stable UUID for a name (route tables of a VPC,
// endpoint pools of a project).
func derivedUUID(parts ...string) string {
	h := fnv64(parts...)
	var b [16]byte
	binary.BigEndian.PutUint64(b[0:8], h)
	binary.BigEndian.PutUint64(b[8:16], h*0x9e3779b97f4a7c15+1)
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

func fnv64(parts ...string) uint64 {
	h := uint64(14695981039346656037)
	for _, p := range parts {
		for i := 0; i < len(p); i++ {
			h ^= uint64(p[i])
			h *= 1099511628211
		}
		h ^= 0xff
		h *= 1099511628211
	}
	return h
}
