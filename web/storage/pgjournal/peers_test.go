package pgjournal

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/peers"
)

// TestInstancesRegistry: heartbeats insert and update an instance's row, Instances lists
// those seen recently, a stale row is ignored and then deleted by another instance's
// heartbeat, RemoveInstance deletes one; CallOwner finds the live lease holder's row only
// while the lease lives, the owner is registered and fresh, and the call is open.
func TestInstancesRegistry(t *testing.T) {
	t.Parallel()
	d, _ := openSchema(t)
	defer d.Close()
	t0 := time.Date(2026, 12, 4, 23, 0, 0, 0, time.UTC)
	a := peers.Instance{Name: "a", URL: "http://127.0.0.1:1", Started: t0, Seen: t0}
	b := peers.Instance{Name: "b", URL: "http://127.0.0.1:2", Started: t0, Seen: t0}
	require.NoError(t, d.Heartbeat(ctx, a, t0.Add(-time.Minute)))
	require.NoError(t, d.Heartbeat(ctx, b, t0.Add(-time.Minute)))
	got, err := d.Instances(ctx, t0)
	require.NoError(t, err)
	assert.Equal(t, []string{"a", "b"}, names(got))

	// a heartbeats later with a new URL; b misses its heartbeats.
	a.Seen, a.URL = t0.Add(10*time.Second), "http://127.0.0.1:3"
	require.NoError(t, d.Heartbeat(ctx, a, t0.Add(-time.Minute)))
	got, err = d.Instances(ctx, t0.Add(5*time.Second))
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, names(got), "b is stale")
	assert.Equal(t, "http://127.0.0.1:3", got[0].URL)
	assert.True(t, got[0].Started.Equal(t0), "started is kept")
	got, err = d.Instances(ctx, t0.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"a", "b"}, names(got), "b's row is still there")
	a.Seen = t0.Add(20 * time.Second)
	require.NoError(t, d.Heartbeat(ctx, a, t0.Add(5*time.Second)))
	got, err = d.Instances(ctx, t0.Add(-time.Hour))
	require.NoError(t, err)
	require.Equal(t, []string{"a"}, names(got), "a's heartbeat deleted b's stale row")

	// CallOwner.
	require.NoError(t, d.Create(ctx, journal.Call{ID: "c", Created: t0}))
	_, ok, err := d.CallOwner(ctx, "c", t0, t0)
	require.NoError(t, err)
	assert.False(t, ok, "no lease")
	_, err = d.Acquire(ctx, "c", "a", t0.Add(20*time.Second), 15*time.Second)
	require.NoError(t, err)
	o, ok, err := d.CallOwner(ctx, "c", t0.Add(21*time.Second), t0)
	require.NoError(t, err)
	require.True(t, ok)
	assert.Equal(t, "a", o.Name)
	assert.Equal(t, "http://127.0.0.1:3", o.URL)
	_, ok, err = d.CallOwner(ctx, "c", t0.Add(40*time.Second), t0)
	require.NoError(t, err)
	assert.False(t, ok, "the lease expired")
	_, ok, err = d.CallOwner(ctx, "c", t0.Add(21*time.Second), t0.Add(21*time.Second))
	require.NoError(t, err)
	assert.False(t, ok, "the owner is stale")
	_, ok, err = d.CallOwner(ctx, "nope", t0.Add(21*time.Second), t0)
	require.NoError(t, err)
	assert.False(t, ok, "no such call")

	require.NoError(t, d.RemoveInstance(ctx, "a"))
	_, ok, err = d.CallOwner(ctx, "c", t0.Add(21*time.Second), t0)
	require.NoError(t, err)
	assert.False(t, ok, "the owner left")
	got, err = d.Instances(ctx, t0.Add(-time.Hour))
	require.NoError(t, err)
	assert.Empty(t, got)

	// A finished call has no owner to forward to.
	require.NoError(t, d.Heartbeat(ctx, a, t0))
	l, err := d.Acquire(ctx, "c", "a", t0.Add(20*time.Second), 15*time.Second)
	require.NoError(t, err)
	_, ok, err = d.CallOwner(ctx, "c", t0.Add(21*time.Second), t0)
	require.NoError(t, err)
	require.True(t, ok)
	require.NoError(t, d.FinishLeased(ctx, l, journal.Result{End: engine.EndInfo{Ending: "x"}, Ended: t0.Add(21 * time.Second)}))
	_, ok, err = d.CallOwner(ctx, "c", t0.Add(22*time.Second), t0)
	require.NoError(t, err)
	assert.False(t, ok, "the call ended")
}

func names(is []peers.Instance) []string {
	out := []string{}
	for _, i := range is {
		out = append(out, i.Name)
	}
	return out
}
