// Package sources encodes a call's scenario sources for the journals, which store them
// once per content (keyed by their SHA-256), and remembers the encoding of the sources it
// has seen: a compiled scenario is shared by all its calls, so every new call of it hands
// the journal the same slice, and encoding it again (~20 KB of JSON and base64, a hash)
// for each call was half of what a busy server allocated.
//
// A Cache is safe for concurrent use.
package sources

import (
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"sync"

	"github.com/switchboard-sim/switchboard/engine"
)

// MaxRemembered bounds the encodings a Cache keeps: past it, it starts again from empty.
// A server plays a few dozen scenarios; a designer editing one in the studio makes a new
// compiled scenario (and slice) at each save.
const MaxRemembered = 256

// Encoded is sources as a journal stores them.
type Encoded struct {
	Key  string // hex SHA-256 of Data
	Data []byte // JSON array of engine.SourceFile; never modified
}

// id names a slice of sources by identity: where it starts and how long it is. The map's
// key holds the pointer, so the slice cannot be freed (and its address reused by other
// sources) while its encoding is remembered.
type id struct {
	first *engine.SourceFile
	n     int
}

// Cache remembers encodings by slice identity. The zero value is ready to use.
type Cache struct {
	mu sync.Mutex
	m  map[id]Encoded
}

// Encode returns the encoding of s. The slice and its files must not be modified once
// they have been encoded (engine.Scenario.Sources never are): a slice seen before gets the
// encoding remembered for it.
func (c *Cache) Encode(s []engine.SourceFile) (Encoded, error) {
	if len(s) == 0 {
		return encode(s)
	}
	k := id{&s[0], len(s)}
	c.mu.Lock()
	e, ok := c.m[k]
	c.mu.Unlock()
	if ok {
		return e, nil
	}
	e, err := encode(s)
	if err != nil {
		return Encoded{}, err
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= MaxRemembered {
		c.m = make(map[id]Encoded)
	}
	c.m[k] = e
	c.mu.Unlock()
	return e, nil
}

func encode(s []engine.SourceFile) (Encoded, error) {
	data, err := json.Marshal(s)
	if err != nil {
		return Encoded{}, fmt.Errorf("encode sources: %w", err)
	}
	sum := sha256.Sum256(data)
	return Encoded{Key: hex.EncodeToString(sum[:]), Data: data}, nil
}
