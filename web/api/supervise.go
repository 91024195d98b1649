package api

import (
	"net/http"

	"github.com/gorilla/websocket"

	"github.com/switchboard-sim/switchboard/web/protocol"
)

// ServeSupervisor serves a supervisor's websocket to live call id (the {id} of the
// request's pattern, or the last path element): the supervisors' projection, after the
// seq given by ?after=. The caller has checked that the request may supervise.
func (s *Server) ServeSupervisor(w http.ResponseWriter, r *http.Request, id string) {
	switch {
	case s.floor.Stopping():
		WriteError(w, http.StatusServiceUnavailable, protocol.CodeShutdown, "the server is stopping; reconnect in a moment")
		return
	case !s.originOK(r):
		WriteError(w, http.StatusForbidden, protocol.CodeBadOrigin, "this origin may not connect")
		return
	case !s.floor.Listenable(id):
		WriteError(w, http.StatusNotFound, protocol.CodeUnknownCall, "no such live call (it may have ended)")
		return
	case !websocket.IsWebSocketUpgrade(r):
		WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, "this endpoint needs a websocket upgrade")
		return
	}
	after, ok := afterParam(w, r)
	if !ok {
		return
	}
	ws, err := s.upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered the client
	}
	s.floor.Listen(ws, id, after)
}
