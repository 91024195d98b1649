package studio

import (
	"fmt"
	"net/http"
	"path"
	"slices"
	"strings"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/track"
	"github.com/switchboard-sim/switchboard/web/api"
	"github.com/switchboard-sim/switchboard/web/library"
)

// Tracks in the studio: the files tracks/*.yaml at the top of the library folder (the
// ones `switchboard serve` loads, docs/tracks.md) are listed, opened, checked as they are
// typed and saved like scenarios. They are checked with engine/track against the
// scenarios trainees get now (the library's published versions), which is what the
// server checks them against when it reloads them after a save.

// trackPath reports whether p names a file under tracks/. It is an error when p is
// under a folder named tracks but is not a track the server loads: tracks/NAME.yaml at
// the top of the folder, nothing deeper.
func trackPath(p string) (bool, error) {
	dirs := strings.Split(path.Dir(p), "/")
	if !slices.Contains(dirs, track.Folder) {
		return false, nil
	}
	if path.Dir(p) != track.Folder || !track.IsTrackFile(p) {
		return true, fmt.Errorf("%w: %q: tracks are files %s/NAME.yaml at the top of the folder", library.ErrBadPath, p, track.Folder)
	}
	return true, nil
}

// trackCatalog is the scenarios a track may name: those trainees get now.
func (s *Studio) trackCatalog() track.Catalog {
	return track.CatalogOf(s.lib.Published())
}

// checkTrack lints a track's text as if saved at p, and reports an id that another
// track file of the library already uses (the server would drop one of them).
func (s *Studio) checkTrack(p string, src []byte) engine.Diagnostics {
	diags := engine.Diagnostics{}
	t := track.LoadBytes(p, src, s.trackCatalog(), &diags)
	if t.ID != "" {
		others, _ := track.Find(s.lib.FS(), ".")
		for _, o := range others {
			if o == p {
				continue
			}
			b, ok := s.lib.File(o)
			if !ok {
				continue
			}
			var od engine.Diagnostics
			if ot := track.LoadBytes(o, b, track.Catalog{}, &od); ot.ID == t.ID {
				diags = append(diags, engine.Diagnostic{Path: p, Line: idLine(src), Col: 1, Severity: engine.SeverityError,
					Message: fmt.Sprintf("track id %q is already used by %s; each track needs its own id", t.ID, o)})
				break
			}
		}
	}
	diags.Sort()
	return diags
}

// idLine is the line of the top-level id key (1 when there is none).
func idLine(src []byte) int {
	for i, l := range strings.Split(string(src), "\n") {
		if strings.HasPrefix(l, "id:") {
			return i + 1
		}
	}
	return 1
}

// trackItem is a track as the library page lists it.
type trackItem struct {
	Path        string             `json:"path"`
	ID          string             `json:"id"`
	Title       string             `json:"title"`
	Steps       int                `json:"steps"`
	Hash        string             `json:"hash"`
	Diagnostics engine.Diagnostics `json:"diagnostics"`
	Errors      int                `json:"errors"`
	Warnings    int                `json:"warnings"`
}

func (s *Studio) trackItemOf(p string, src []byte) trackItem {
	diags := s.checkTrack(p, src)
	var scratch engine.Diagnostics
	t := track.LoadBytes(p, src, s.trackCatalog(), &scratch)
	return trackItem{Path: p, ID: t.ID, Title: t.Title, Steps: len(t.Steps), Hash: library.HashOf(src),
		Diagnostics: diags, Errors: len(diags.Errors()), Warnings: len(diags.Warnings())}
}

// handleTracks lists the library's tracks with their lint.
func (s *Studio) handleTracks(w http.ResponseWriter, r *http.Request) {
	items := []trackItem{}
	paths, err := track.Find(s.lib.FS(), ".")
	if err != nil {
		s.libError(w, err)
		return
	}
	for _, p := range paths {
		if b, ok := s.lib.File(p); ok {
			items = append(items, s.trackItemOf(p, b))
		}
	}
	api.WriteJSON(w, http.StatusOK, map[string]any{"generation": s.lib.Generation(), "tracks": items})
}
