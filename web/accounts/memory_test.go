package accounts_test

import (
	"testing"

	"github.com/switchboard-sim/switchboard/web/accounts"
	"github.com/switchboard-sim/switchboard/web/accounts/accountstest"
)

func TestMemoryStore(t *testing.T) {
	accountstest.Run(t, func(*testing.T) accounts.Store { return accounts.NewMemory() })
}
