package libstore_test

import (
	"testing"

	"github.com/switchboard-sim/switchboard/web/library/libstore"
	"github.com/switchboard-sim/switchboard/web/library/libstore/libstoretest"
)

func TestMemory(t *testing.T) {
	libstoretest.Run(t, func(t *testing.T) (a, b libstore.Store) {
		m := libstore.NewMemory()
		return m, m
	})
}
