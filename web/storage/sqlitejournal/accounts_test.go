package sqlitejournal

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/accounts"
	"github.com/switchboard-sim/switchboard/web/accounts/accountstest"
)

func TestAccountsStore(t *testing.T) {
	accountstest.Run(t, func(t *testing.T) accounts.Store {
		db, err := Open(context.Background(), filepath.Join(t.TempDir(), "j.db"))
		require.NoError(t, err)
		t.Cleanup(func() { db.Close() })
		return db
	})
}
