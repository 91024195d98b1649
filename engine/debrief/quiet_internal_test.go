package debrief

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/switchboard-sim/switchboard/engine"
)

// TestQuietRuleKinds: a rule that never fired is a habit avoided when it only takes points
// away, a good move never made when it adds some, and neither when it scores nothing.
func TestQuietRuleKinds(t *testing.T) {
	for _, c := range []struct {
		score []engine.ScoreDelta
		want  string
	}{
		{[]engine.ScoreDelta{{Axis: 0, Delta: -1}}, QuietAvoided},
		{[]engine.ScoreDelta{{Axis: 0, Delta: 1}}, QuietMissed},
		{[]engine.ScoreDelta{{Axis: 0, Delta: -1}, {Axis: 1, Delta: 2}}, QuietMissed},
		{nil, ""},
	} {
		assert.Equal(t, c.want, quietKind(&engine.Transition{Score: c.score}), "%v", c.score)
	}
}
