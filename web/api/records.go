package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/switchboard-sim/switchboard/engine/debrief"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/engine/xapi"
	"github.com/switchboard-sim/switchboard/web/access"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// record loads a call's debrief for a request that carries the call's token, or writes
// the error and returns nil.
func (s *Server) record(w http.ResponseWriter, r *http.Request) *debrief.Record {
	ctx, cancel := context.WithTimeout(r.Context(), storageTimeout)
	defer cancel()
	info, entries, res, err := s.journal.Load(ctx, r.PathValue("id"))
	switch {
	case errors.Is(err, journal.ErrNotFound):
		WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such call")
		return nil
	case err != nil:
		s.log.Error("loading a call record", "err", err)
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the call record could not be read; try again in a moment")
		return nil
	case !access.CallTokenOK(callToken(r), info.TokenHash):
		WriteError(w, http.StatusUnauthorized, protocol.CodeUnauthorized, "missing or wrong call token")
		return nil
	}
	rec, err := debrief.Build(info, entries, res)
	if err != nil {
		s.log.Error("rebuilding a call record", "call", info.ID, "err", err)
		WriteError(w, http.StatusInternalServerError, protocol.CodeRecordFailed, "the call record could not be rebuilt: "+err.Error())
		return nil
	}
	notes, err := journal.NotesOf(ctx, s.journal, info.ID)
	if err != nil {
		s.log.Error("loading a call's notes", "err", err)
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeStorage, "the call record could not be read; try again in a moment")
		return nil
	}
	rec.Notes = append(rec.Notes, notes...)
	return rec
}

// callToken is the call token a request carries: in an Authorization: Bearer header
// (kept out of URLs and logs), else in ?token=.
func callToken(r *http.Request) string {
	if h := r.Header.Get("Authorization"); len(h) > len("Bearer ") && strings.EqualFold(h[:len("Bearer ")], "Bearer ") {
		return strings.TrimSpace(h[len("Bearer "):])
	}
	return r.URL.Query().Get("token")
}

// handleDebrief serves GET /api/calls/{id}/debrief?token=T: the call's debrief.Record.
func (s *Server) handleDebrief(w http.ResponseWriter, r *http.Request) {
	if rec := s.record(w, r); rec != nil {
		w.Header().Set("Cache-Control", "no-store")
		WriteJSON(w, http.StatusOK, rec)
	}
}

// handleXAPI serves GET /api/calls/{id}/xapi?token=T: the finished call's xAPI statements.
func (s *Server) handleXAPI(w http.ResponseWriter, r *http.Request) {
	rec := s.record(w, r)
	if rec == nil {
		return
	}
	sts, err := xapi.Statements(rec, s.homePage)
	if errors.Is(err, xapi.ErrOpen) {
		WriteError(w, http.StatusConflict, protocol.CodeCallOpen, "the call has not ended yet")
		return
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Experience-API-Version", xapi.Version)
	WriteJSON(w, http.StatusOK, sts)
}
