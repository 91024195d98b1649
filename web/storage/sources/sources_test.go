package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine"
)

func TestEncode(t *testing.T) {
	var c Cache
	a := []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}
	sameContent := []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}
	b := []engine.SourceFile{{Path: "b.yaml", Data: []byte("id: b\n")}, {Path: "c.yaml", Data: []byte("x")}}

	ea, err := c.Encode(a)
	require.NoError(t, err)
	want, err := json.Marshal(a)
	require.NoError(t, err)
	sum := sha256.Sum256(want)
	assert.Equal(t, hex.EncodeToString(sum[:]), ea.Key)
	assert.JSONEq(t, string(want), string(ea.Data))

	again, err := c.Encode(a)
	require.NoError(t, err)
	assert.Same(t, &ea.Data[0], &again.Data[0], "the same slice gets the remembered encoding")

	es, err := c.Encode(sameContent)
	require.NoError(t, err)
	assert.Equal(t, ea.Key, es.Key, "the key is the content's")

	eb, err := c.Encode(b)
	require.NoError(t, err)
	assert.NotEqual(t, ea.Key, eb.Key)
	eb1, err := c.Encode(b[:1])
	require.NoError(t, err)
	assert.NotEqual(t, eb.Key, eb1.Key, "a shorter slice of the same array is other sources")

	none, err := c.Encode(nil)
	require.NoError(t, err)
	assert.Equal(t, "null", string(none.Data))
}

func TestEncodeBounded(t *testing.T) {
	var c Cache
	for i := range MaxRemembered*2 + 1 {
		s := []engine.SourceFile{{Path: fmt.Sprint(i), Data: []byte{byte(i)}}}
		_, err := c.Encode(s)
		require.NoError(t, err)
		assert.LessOrEqual(t, len(c.m), MaxRemembered)
	}
}

func TestEncodeConcurrent(t *testing.T) {
	var c Cache
	s := []engine.SourceFile{{Path: "a.yaml", Data: []byte("id: a\n")}}
	var wg sync.WaitGroup
	keys := make([]string, 8)
	for i := range keys {
		wg.Go(func() {
			e, err := c.Encode(s)
			assert.NoError(t, err)
			keys[i] = e.Key
		})
	}
	wg.Wait()
	for _, k := range keys {
		assert.Equal(t, keys[0], k)
	}
}
