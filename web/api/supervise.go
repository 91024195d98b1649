package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/gorilla/websocket"

	"github.com/switchboard-sim/switchboard/web/live"
	"github.com/switchboard-sim/switchboard/web/peers"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// ServeSupervisor serves a supervisor's websocket to live call id (the {id} of the
// request's pattern, or the last path element): the supervisors' projection, after the
// seq given by ?after=. The caller has checked that the request may supervise, with role
// (supervisor or designer): a call another live instance owns is forwarded there as this
// instance's peer, carrying role (see peers.Forward).
func (s *Server) ServeSupervisor(w http.ResponseWriter, r *http.Request, id, role string) {
	switch {
	case s.floor.Stopping():
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeShutdown, "the server is stopping; reconnect in a moment")
		return
	case !s.originOK(r):
		WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not connect")
		return
	case !s.floor.Listenable(id):
		s.peers.Forward(w, r, id, role, func(w http.ResponseWriter, r *http.Request) {
			WriteError(w, http.StatusNotFound, protocol.CodeUnknownCall, "no such live call (it may have ended)")
		})
		return
	case !websocket.IsWebSocketUpgrade(r):
		WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "this endpoint needs a websocket upgrade")
		return
	}
	after, ok := afterParam(w, r)
	if !ok {
		return
	}
	ws, err := s.upgrader.Upgrade(coarseWrites{w}, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	s.floor.Listen(ws, id, after)
}

// Board is the floor board across the instances sharing the journal.
type Board struct {
	// Instance names this instance ("" with one instance).
	Instance string
	// Calls are every instance's calls, oldest first (live.FloorCall.Instance says whose).
	Calls []live.FloorCall
	// Instances are the instances asked, this one first, each with its calls or why it
	// did not answer (nil with one instance).
	Instances []InstanceStatus
}

// InstanceStatus is one instance's part of the floor board.
type InstanceStatus struct {
	Name  string `json:"name"`
	URL   string `json:"url,omitempty"`
	Calls int    `json:"calls"`
	// Error says why the instance's calls are missing from the board (it did not answer
	// within peers.GetTimeout, or answered something else); empty when they are there.
	Error string `json:"error,omitempty"`
}

// Board lists the floor's calls as of now with their alerts (live.Floor.Board; watch
// names the rules whose firing raises an alert): this instance's and, with peers, every
// other live instance's, asked in parallel (each answers within peers.GetTimeout or is
// reported in Instances with its error, never failing the board).
func (s *Server) Board(ctx context.Context, now time.Time, watch []string) Board {
	b := Board{Calls: s.floor.Board(now, watch)}
	if s.peers == nil {
		return b
	}
	b.Instance = s.peers.Name()
	for i := range b.Calls {
		b.Calls[i].Instance = b.Instance
	}
	b.Instances = []InstanceStatus{{Name: b.Instance, URL: s.peers.URL(), Calls: len(b.Calls)}}
	replies, err := s.peers.GetAll(ctx, "/api/peer/board?watch="+url.QueryEscape(strings.Join(watch, ",")))
	if err != nil {
		// This instance's calls are there; the others' are unknown this time.
		s.log.Warn("floor board: listing the other instances", "err", err)
	}
	for _, rep := range replies {
		st := InstanceStatus{Name: rep.Instance.Name, URL: rep.Instance.URL}
		var calls []live.FloorCall
		switch {
		case rep.Err != nil:
			st.Error = "no answer: " + errText(rep.Err)
		case rep.Status != http.StatusOK:
			st.Error = fmt.Sprintf("answered %d", rep.Status)
		default:
			if err := json.Unmarshal(rep.Body, &calls); err != nil {
				st.Error = "an answer that is not a board"
			}
		}
		for i := range calls {
			calls[i].Instance = rep.Instance.Name
			if calls[i].Alerts == nil {
				calls[i].Alerts = []string{}
			}
		}
		st.Calls = len(calls)
		b.Calls = append(b.Calls, calls...)
		b.Instances = append(b.Instances, st)
	}
	slices.SortFunc(b.Calls, func(a, b live.FloorCall) int {
		if c := a.Started.Compare(b.Started); c != 0 {
			return c
		}
		return strings.Compare(a.ID, b.ID)
	})
	return b
}

// errText is a peer's error for the board, without URLs' noise.
func errText(err error) string {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Sprintf("not within %v", peers.GetTimeout)
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err.Error()
	}
	return err.Error()
}

// handlePeerBoard serves GET /api/peer/board?watch=: this instance's own floor board, for
// a peer merging every instance's (Board). Only for authenticated peers (peers.Guard).
func (s *Server) handlePeerBoard(w http.ResponseWriter, r *http.Request) {
	if !peers.Forwarded(r) {
		WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "only for this server's peers")
		return
	}
	WriteJSON(w, http.StatusOK, s.floor.Board(time.Now(), live.ParseWatch(r.URL.Query().Get("watch"))))
}
