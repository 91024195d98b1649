package studio

import (
	"errors"
	"net/http"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// revisionItem is a revision as the Revisions panel lists it: the library's record (with
// its lint verdict while it was current) and whether trainees get this version now.
type revisionItem struct {
	library.Revision
	Live bool `json:"live"` // the published version: trainees get exactly these bytes
}

// currentItem is the file as it is now, listed above its revisions.
type currentItem struct {
	Hash   string `json:"hash"`
	Lint   string `json:"lint,omitempty"` // library.LintPassed or LintErrors; "" for a test file
	Errors int    `json:"errors,omitempty"`
	Live   bool   `json:"live"`
}

type revisionsResponse struct {
	Path      string         `json:"path"`
	Current   *currentItem   `json:"current,omitempty"` // nil when the file does not exist
	Revisions []revisionItem `json:"revisions"`
}

// liveHash is the hash of the bytes of p that trainees get now ("" when none: a test file,
// or a scenario with no version that passed lint).
func (s *Studio) liveHash(p string) string {
	e, ok := s.lib.Entry(p)
	if !ok || e.Published == nil {
		return ""
	}
	for _, src := range e.Published.Sources {
		if src.Path == p {
			return library.HashOf(src.Data)
		}
	}
	return ""
}

// revisionList lists p's revisions with their marks, and the current file's.
func (s *Studio) revisionList(p string) (revisionsResponse, error) {
	revs, err := s.lib.Revisions(p)
	if err != nil {
		return revisionsResponse{}, err
	}
	live := s.liveHash(p)
	res := revisionsResponse{Path: p, Revisions: make([]revisionItem, 0, len(revs))}
	for _, r := range revs {
		res.Revisions = append(res.Revisions, revisionItem{Revision: r, Live: live != "" && r.Hash == live})
	}
	if b, ok := s.lib.File(p); ok {
		cur := &currentItem{Hash: library.HashOf(b)}
		cur.Live = live != "" && cur.Hash == live
		if e, ok := s.lib.Entry(p); ok && e.Hash == cur.Hash {
			cur.Lint, cur.Errors = library.LintPassed, e.Errors
			if e.Errors > 0 {
				cur.Lint = library.LintErrors
			}
		}
		res.Current = cur
	}
	return res, nil
}

type diffRequest struct {
	Path string `json:"path"`
	ID   string `json:"id"` // the revision
	// Against: "editor" (Source, the editor's text: what changed since the revision),
	// "file" (the file as saved now) or "previous" (the revision before ID: what ID changed).
	Against string  `json:"against"`
	Source  *string `json:"source,omitempty"`
}

type diffResponse struct {
	Path    string     `json:"path"`
	Old     string     `json:"old"` // what the old side is, in words
	New     string     `json:"new"`
	Exact   bool       `json:"exact"` // false: over MaxDiffEdits lines differ, the middle is shown replaced
	Added   int        `json:"added"`
	Removed int        `json:"removed"`
	Hunks   []diffHunk `json:"hunks"`
}

// handleDiff compares a revision with the editor's text, the saved file or the revision
// before it, line by line (lineDiff), in hunks with diffContext lines of context.
func (s *Studio) handleDiff(w http.ResponseWriter, r *http.Request) {
	var req diffRequest
	if !readJSON(w, r, &req) || !s.validPath(w, req.Path) {
		return
	}
	rev, err := s.lib.Revision(req.Path, req.ID)
	if err != nil {
		s.libError(w, err)
		return
	}
	res := diffResponse{Path: req.Path, Hunks: []diffHunk{}}
	var oldText, newText string
	switch req.Against {
	case "editor":
		if req.Source == nil {
			api.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, `"against": "editor" needs the editor's text as "source"`)
			return
		}
		if len(*req.Source) > engine.MaxFileBytes {
			api.WriteError(w, http.StatusRequestEntityTooLarge, protocol.CodeTooLarge, "the text is over the file size limit")
			return
		}
		oldText, newText = string(rev), *req.Source
		res.Old, res.New = "revision "+req.ID, "the text in the editor"
	case "file":
		b, _ := s.lib.File(req.Path)
		oldText, newText = string(rev), string(b)
		res.Old, res.New = "revision "+req.ID, "the saved file"
	case "previous":
		revs, err := s.lib.Revisions(req.Path)
		if err != nil {
			s.libError(w, err)
			return
		}
		res.Old = "nothing (the oldest revision kept)"
		for i, rv := range revs {
			if rv.ID == req.ID && i+1 < len(revs) {
				b, err := s.lib.Revision(req.Path, revs[i+1].ID)
				if err != nil && !errors.Is(err, library.ErrNotFound) {
					s.libError(w, err)
					return
				}
				oldText, res.Old = string(b), "revision "+revs[i+1].ID
			}
		}
		newText, res.New = string(rev), "revision "+req.ID
	default:
		api.WriteError(w, http.StatusBadRequest, protocol.CodeBadRequest, `"against" is "editor", "file" or "previous"`)
		return
	}
	lines, exact := lineDiff(oldText, newText)
	res.Exact = exact
	for _, l := range lines {
		switch l.Op {
		case diffAdd:
			res.Added++
		case diffDel:
			res.Removed++
		}
	}
	if h := hunks(lines, diffContext); h != nil {
		res.Hunks = h
	}
	api.WriteJSON(w, http.StatusOK, res)
}
