package accounts

import (
	"cmp"
	"encoding/csv"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/web/httpjson"
	"github.com/switchboard-sim/switchboard/web/protocol"
)

// Limits of the progress views (docs/tracks.md, "Progress").
const (
	// MaxWeakest is how many weakest skills (axes) are shown, to a trainee or for a team.
	MaxWeakest = 3
	// MaxRulesPerTrainee is how many of a trainee's most-fired rules the team view lists.
	MaxRulesPerTrainee = 5
)

// axisPoint is one finished call's assessed axis scores, for the chart over time.
type axisPoint struct {
	Call     string             `json:"call"`
	Scenario string             `json:"scenario"`
	Title    string             `json:"title"`
	Created  time.Time          `json:"created"`
	Overall  float64            `json:"overall"`
	Scores   map[string]float64 `json:"scores"` // axis → normalized score 0..1, assessed axes only
}

// practice is the scenario suggested to practise an axis.
type practice struct {
	Scenario string `json:"scenario"`
	Title    string `json:"title"`
}

// weakSkill is an axis with its average normalized score over the assessed calls.
type weakSkill struct {
	Axis     string    `json:"axis"`
	Average  float64   `json:"average"`
	Calls    int       `json:"calls"`
	Practice *practice `json:"practice,omitempty"`
}

// counts reports whether a call enters the progress views: finished, and not void (a
// call never answered or where nothing was said has meaningless scores).
func counts(c callResult) bool { return !c.Open && c.Note == "" }

// axisSeries lists the counted calls' assessed axis scores, oldest first, and the axes
// seen, sorted.
func axisSeries(calls []callResult) ([]axisPoint, []string) {
	pts := []axisPoint{}
	seen := map[string]bool{}
	for _, c := range calls {
		if !counts(c) {
			continue
		}
		p := axisPoint{Call: c.ID, Scenario: c.Scenario, Title: c.Title, Created: c.Created, Overall: c.Overall, Scores: map[string]float64{}}
		for _, s := range c.Scores {
			if s.Assessed {
				p.Scores[s.Axis] = s.Normalized
				seen[s.Axis] = true
			}
		}
		pts = append(pts, p)
	}
	axes := make([]string, 0, len(seen))
	for a := range seen {
		axes = append(axes, a)
	}
	slices.Sort(axes)
	return pts, axes
}

// weakest returns up to MaxWeakest axes with the lowest average normalized score over the
// counted calls where they were assessed (ties by name), each with the scenario that
// practises it most (practiceFor).
func weakest(calls []callResult, scs []*engine.Scenario) []weakSkill {
	sum, n := map[string]float64{}, map[string]int{}
	for _, c := range calls {
		if !counts(c) {
			continue
		}
		for _, s := range c.Scores {
			if s.Assessed {
				sum[s.Axis] += s.Normalized
				n[s.Axis]++
			}
		}
	}
	out := []weakSkill{}
	for a, k := range n {
		out = append(out, weakSkill{Axis: a, Average: sum[a] / float64(k), Calls: k})
	}
	slices.SortFunc(out, func(x, y weakSkill) int {
		return cmp.Or(cmp.Compare(x.Average, y.Average), cmp.Compare(x.Axis, y.Axis))
	})
	if len(out) > MaxWeakest {
		out = out[:MaxWeakest]
	}
	for i := range out {
		out[i].Practice = practiceFor(out[i].Axis, scs)
	}
	return out
}

// practiceFor returns the scenario whose scores weight axis most: the highest share of
// the scenario's total axis weight (ties: the scenario id first in order); nil when no
// scenario scores the axis.
func practiceFor(axis string, scs []*engine.Scenario) *practice {
	var best *engine.Scenario
	bestShare := 0.0
	for _, sc := range scs {
		if sc == nil {
			continue
		}
		total, w := 0.0, 0.0
		for _, a := range sc.Axes {
			total += a.Weight
			if a.Name == axis {
				w = a.Weight
			}
		}
		if w <= 0 || total <= 0 {
			continue
		}
		share := w / total
		if best == nil || share > bestShare || share == bestShare && sc.ID < best.ID {
			best, bestShare = sc, share
		}
	}
	if best == nil {
		return nil
	}
	return &practice{Scenario: best.ID, Title: best.Title}
}

// handleMyProgress serves the trainee's own scores per axis over time and their weakest
// skills: GET /api/me/progress. Only the signed-in account's calls are read.
func (h *Handler) handleMyProgress(w http.ResponseWriter, r *http.Request, a who) {
	hist, err := h.history(r.Context(), a.acc.ID)
	if err != nil {
		h.storeFailed(w, "reading your progress", err)
		return
	}
	calls := hist[a.acc.ID]
	pts, axes := axisSeries(calls)
	httpjson.WriteJSON(w, http.StatusOK, map[string]any{"axes": axes, "points": pts, "weakest": weakest(calls, h.o.Scenarios())})
}

// ruleCount is how many times a global rule fired in a trainee's counted calls.
type ruleCount struct {
	Rule  string `json:"rule"`
	Count int    `json:"count"`
}

// traineeRules is one trainee's most-fired rules.
type traineeRules struct {
	Account string      `json:"account"`
	Name    string      `json:"name"`
	Login   string      `json:"login"`
	Rules   []ruleCount `json:"rules"`
}

// weekTrend is the average overall score of the counted calls of one ISO week.
type weekTrend struct {
	Week    string  `json:"week"` // ISO 8601 week, "2026-W49"
	Average float64 `json:"average"`
	Calls   int     `json:"calls"`
}

// topRules counts the fired rules of calls, most frequent first (ties by name), at most
// MaxRulesPerTrainee.
func topRules(calls []callResult) []ruleCount {
	n := map[string]int{}
	for _, c := range calls {
		if !counts(c) {
			continue
		}
		for _, f := range c.Fired {
			n[f]++
		}
	}
	out := []ruleCount{}
	for r, k := range n {
		out = append(out, ruleCount{Rule: r, Count: k})
	}
	slices.SortFunc(out, func(x, y ruleCount) int { return cmp.Or(cmp.Compare(y.Count, x.Count), cmp.Compare(x.Rule, y.Rule)) })
	if len(out) > MaxRulesPerTrainee {
		out = out[:MaxRulesPerTrainee]
	}
	return out
}

// isoWeek names t's ISO 8601 week in UTC.
func isoWeek(t time.Time) string {
	y, w := t.UTC().ISOWeek()
	return fmt.Sprintf("%04d-W%02d", y, w)
}

// weekly averages the counted calls' overall score per ISO week, oldest week first.
func weekly(calls []callResult) []weekTrend {
	sum, n := map[string]float64{}, map[string]int{}
	for _, c := range calls {
		if !counts(c) {
			continue
		}
		wk := isoWeek(c.Created)
		sum[wk] += c.Overall
		n[wk]++
	}
	out := []weekTrend{}
	for wk, k := range n {
		out = append(out, weekTrend{Week: wk, Average: sum[wk] / float64(k), Calls: k})
	}
	slices.SortFunc(out, func(x, y weekTrend) int { return cmp.Compare(x.Week, y.Week) })
	return out
}

// handleTeamProgress serves a team's weakest axes, each trainee's most-fired rules and the
// weekly trend of the average score: GET /api/teams/{id}/progress[?format=csv].
func (h *Handler) handleTeamProgress(w http.ResponseWriter, r *http.Request, _ who) {
	ctx := r.Context()
	team, err := h.svc.store.Team(ctx, r.PathValue("id"))
	if errors.Is(err, ErrNotFound) {
		httpjson.WriteError(w, http.StatusNotFound, protocol.CodeNotFound, "no such team")
		return
	}
	if err != nil {
		h.storeFailed(w, "reading the team", err)
		return
	}
	members, err := h.svc.store.Accounts(ctx, team.ID)
	if err != nil {
		h.storeFailed(w, "reading the team", err)
		return
	}
	var trainees []Account
	var ids []string
	for _, m := range members {
		if m.Role == RoleTrainee {
			trainees = append(trainees, m)
			ids = append(ids, m.ID)
		}
	}
	hist, err := h.history(ctx, ids...)
	if err != nil {
		h.storeFailed(w, "reading the team's calls", err)
		return
	}
	var all []callResult
	rules := []traineeRules{}
	for _, m := range trainees {
		all = append(all, hist[m.ID]...)
		rules = append(rules, traineeRules{Account: m.ID, Name: m.Name, Login: m.Login, Rules: topRules(hist[m.ID])})
	}
	weak, weeks := weakest(all, h.o.Scenarios()), weekly(all)
	if r.URL.Query().Get("format") == "csv" {
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-progress.csv"`, safeName(team.Name)))
		w.Header().Set("Cache-Control", "no-store")
		cw := csv.NewWriter(w)
		f := func(x float64) string { return strconv.FormatFloat(x, 'f', 2, 64) }
		_ = cw.Write([]string{"section", "trainee", "login", "item", "average", "count"})
		for _, s := range weak {
			_ = cw.Write([]string{"weak_axis", "", "", cell(s.Axis), f(s.Average), strconv.Itoa(s.Calls)})
		}
		for _, tr := range rules {
			for _, rc := range tr.Rules {
				_ = cw.Write([]string{"rule", cell(tr.Name), cell(tr.Login), cell(rc.Rule), "", strconv.Itoa(rc.Count)})
			}
		}
		for _, wk := range weeks {
			_ = cw.Write([]string{"week", "", "", wk.Week, f(wk.Average), strconv.Itoa(wk.Calls)})
		}
		cw.Flush()
		return
	}
	httpjson.WriteJSON(w, http.StatusOK, map[string]any{"team": team, "weakest": weak, "rules": rules, "weeks": weeks})
}
