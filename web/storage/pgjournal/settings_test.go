package pgjournal

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestSettingCreatedOnce: instances asking for the same setting at once all get the one
// value the first of them stored; create runs only while no value exists; SetSetting
// replaces it; bad sizes are refused.
func TestSettingCreatedOnce(t *testing.T) {
	t.Parallel()
	_, u := openSchema(t)
	const n = 6
	dbs := make([]*DB, n)
	for i := range dbs {
		d, err := Open(ctx, u)
		require.NoError(t, err)
		t.Cleanup(func() { d.Close() })
		dbs[i] = d
	}
	got := make([]string, n)
	errs := make([]error, n)
	var wg sync.WaitGroup
	for i, d := range dbs {
		wg.Go(func() {
			got[i], errs[i] = d.Setting(ctx, "peer-token", func() (string, error) { return fmt.Sprintf("value-%d", i), nil })
		})
	}
	wg.Wait()
	for i := range got {
		require.NoError(t, errs[i])
		assert.Equal(t, got[0], got[i], "every instance reads the same value")
	}
	assert.True(t, strings.HasPrefix(got[0], "value-"))

	called := false
	v, err := dbs[0].Setting(ctx, "peer-token", func() (string, error) { called = true; return "other", nil })
	require.NoError(t, err)
	assert.Equal(t, got[0], v)
	assert.False(t, called, "create is not called once a value exists")

	require.NoError(t, dbs[1].SetSetting(ctx, "peer-token", "replaced"))
	v, err = dbs[2].Setting(ctx, "peer-token", nil)
	require.NoError(t, err)
	assert.Equal(t, "replaced", v)

	boom := errors.New("no entropy")
	_, err = dbs[0].Setting(ctx, "new-key", func() (string, error) { return "", boom })
	assert.ErrorIs(t, err, boom)
	_, err = dbs[0].Setting(ctx, "", nil)
	assert.ErrorIs(t, err, ErrSettingTooLarge)
	assert.ErrorIs(t, dbs[0].SetSetting(ctx, "k", strings.Repeat("x", MaxSettingBytes+1)), ErrSettingTooLarge)
}
