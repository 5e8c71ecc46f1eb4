package sim

// This file saves and loads the simulator's state (for --sim and
// "vpcepctl sim --state"): endpoints with the times they settle at, and the
// creates that commit late.

import (
	"bytes"
	"container/heap"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"time"

	"github.com/vpcepctl/vpcepctl/vpcep"
)

// stateFile is the JSON document Save writes and Load reads.
type stateFile struct {
	FormatVersion int                        `json:"format_version"`
	Seq           int64                      `json:"seq"`
	MarkerID      int64                      `json:"marker_id"`
	Projects      map[string][]savedEndpoint `json:"projects"`
	// Pending are creates that commit late (Options.CommitDelay): a
	// process that saves its state before they commit leaves them to the
	// next one, as a real back end does not care that the client is gone.
	Pending []savedPending `json:"pending,omitempty"`
}

type savedPending struct {
	ProjectID string                      `json:"project_id"`
	Request   vpcep.CreateEndpointRequest `json:"request"`
	CommitAt  time.Time                   `json:"commit_at"`
}

type savedEndpoint struct {
	Endpoint    vpcep.Endpoint        `json:"endpoint"`
	Seq         int64                 `json:"seq"`
	ReadyAt     time.Time             `json:"ready_at,omitzero"`
	FinalStatus string                `json:"final_status,omitempty"`
	FinalError  []vpcep.EndpointError `json:"final_error,omitempty"`
	GoneAt      time.Time             `json:"gone_at,omitzero"`
}

const stateFormat = 1

// Save writes the endpoints of every project (and the creates that commit
// late) to w, for Load. Tokens are not saved.
func (s *Sim) Save(w io.Writer) error {
	s.mu.Lock()
	s.settle(s.now())
	st := stateFile{FormatVersion: stateFormat, Seq: s.seq, MarkerID: s.marker, Projects: make(map[string][]savedEndpoint)}
	for pid, p := range s.projects {
		live := p.live()
		list := make([]savedEndpoint, 0, len(live))
		for _, r := range live {
			list = append(list, savedEndpoint{
				Endpoint: r.ep, Seq: r.seq, ReadyAt: r.readyAt,
				FinalStatus: r.final, FinalError: r.finalErr, GoneAt: r.goneAt,
			})
		}
		st.Projects[pid] = list
	}
	for _, ev := range s.events {
		if ev.kind == evCommit {
			st.Pending = append(st.Pending, savedPending{ProjectID: ev.pid, Request: ev.create.req, CommitAt: ev.at})
		}
	}
	slices.SortFunc(st.Pending, func(a, b savedPending) int { return a.CommitAt.Compare(b.CommitAt) })
	b, err := json.Marshal(st) // slices are never changed in place: safe after unlock
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	if _, err := w.Write(append(b, '\n')); err != nil {
		return fmt.Errorf("save simulator state: %w", err)
	}
	return nil
}

// Load replaces the endpoints with those Save wrote to r. An empty r (or
// nil) is an empty state, not an error.
func (s *Sim) Load(r io.Reader) error {
	var b []byte
	if r != nil {
		var err error
		if b, err = io.ReadAll(r); err != nil {
			return fmt.Errorf("load simulator state: %w", err)
		}
	}
	var st stateFile
	if len(bytes.TrimSpace(b)) > 0 {
		if err := json.Unmarshal(b, &st); err != nil {
			return fmt.Errorf("load simulator state: %w", err)
		}
		if st.FormatVersion != stateFormat {
			return fmt.Errorf("load simulator state: unsupported format_version %d", st.FormatVersion)
		}
	}
	projects := map[string]*project{}
	for pid := range s.names {
		projects[pid] = newProject(pid)
	}
	var events eventQueue
	seq, marker := max(st.Seq, 0), max(st.MarkerID, markerBase)
	after := s.opts.Load().AcceptAfter
	for pid, list := range st.Projects {
		p := projects[pid]
		if p == nil {
			p = newProject(pid)
			projects[pid] = p
		}
		for _, se := range list {
			if se.Endpoint.ID == "" || p.byID[se.Endpoint.ID] != nil {
				return fmt.Errorf("load simulator state: endpoint with empty or duplicate id in project %s", pid)
			}
			if se.Seq == 0 {
				seq++
				se.Seq = seq
			}
			seq = max(seq, se.Seq)
			marker = max(marker, se.Endpoint.MarkerID)
			r := &record{ep: se.Endpoint, seq: se.Seq, readyAt: se.ReadyAt.UTC(), final: se.FinalStatus,
				finalErr: se.FinalError, goneAt: se.GoneAt.UTC()}
			if r.final == "" {
				r.final = vpcep.StatusAccepted
				if svc, ok := serviceByID(r.ep.EndpointServiceID); ok && svc.Approval {
					r.final = vpcep.StatusPendingAcceptance
				}
			}
			// A hand-written state may lack the settle times.
			if r.ep.Status == vpcep.StatusCreating && r.readyAt.IsZero() {
				r.readyAt = r.ep.CreatedAt.Add(after)
			}
			if r.ep.Status == vpcep.StatusDeleting && r.goneAt.IsZero() {
				r.goneAt = r.ep.UpdatedAt.Add(after)
			}
			p.insert(r)
			events.schedule(pid, r)
		}
	}
	for _, sp := range st.Pending {
		svc, ok := serviceByID(strings.ToLower(sp.Request.EndpointServiceID))
		if !ok || !isProjectID(sp.ProjectID) {
			return fmt.Errorf("load simulator state: pending create with unknown service or project")
		}
		heap.Push(&events, &event{at: sp.CommitAt.UTC(), kind: evCommit, pid: sp.ProjectID,
			create: &pendingCreate{req: sp.Request, svc: svc}})
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.projects, s.events, s.seq, s.marker = projects, events, seq, marker
	s.settle(s.now())
	return nil
}
