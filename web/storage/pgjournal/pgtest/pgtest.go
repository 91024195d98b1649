// Package pgtest gives tests a PostgreSQL database of their own.
//
// The server is named by SWITCHBOARD_TEST_POSTGRES, a postgres:// URL (.ci/postgres.sh
// starts a throwaway cluster and sets it). A test that needs PostgreSQL calls Schema: it
// skips when no server is reachable, unless SWITCHBOARD_REQUIRE_POSTGRES is set (CI sets
// it), in which case it fails. Each call creates a fresh schema and returns a URL whose
// search_path is that schema, so tests run in parallel without seeing each other's tables;
// the schema is dropped when the test ends.
package pgtest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
)

// Environment variables the tests read.
const (
	// EnvURL names the PostgreSQL server tests use, as a postgres:// URL.
	EnvURL = "SWITCHBOARD_TEST_POSTGRES"
	// EnvRequire, when set to anything but "" or "0", makes a missing server a failure.
	EnvRequire = "SWITCHBOARD_REQUIRE_POSTGRES"
)

// connectTimeout bounds how long Schema waits for the server.
const connectTimeout = 10 * time.Second

var (
	probeOnce sync.Once
	probeErr  error
)

// Required reports whether tests must fail rather than skip without PostgreSQL.
func Required() bool {
	v := os.Getenv(EnvRequire)
	return v != "" && v != "0"
}

// URL returns the server's URL, or skips (or fails, when Required) the test when none is
// set or reachable.
func URL(t testing.TB) string {
	t.Helper()
	base := os.Getenv(EnvURL)
	probeOnce.Do(func() {
		if base == "" {
			probeErr = fmt.Errorf("%s is not set (run the tests through .ci/postgres.sh)", EnvURL)
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
		defer cancel()
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			probeErr = fmt.Errorf("%s: %w", EnvURL, err)
			return
		}
		probeErr = conn.Close(ctx)
	})
	if probeErr != nil {
		if Required() {
			t.Fatalf("PostgreSQL is required (%s is set) but not reachable: %v", EnvRequire, probeErr)
		}
		t.Skipf("no PostgreSQL: %v", probeErr)
	}
	return base
}

// Schema creates an empty schema for the test and returns the server's URL with its
// search_path set to it; the schema and everything in it is dropped when the test ends.
func Schema(t testing.TB) string {
	t.Helper()
	base := URL(t)
	var b [6]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatal(err)
	}
	name := "t_" + hex.EncodeToString(b[:])
	exec(t, base, `CREATE SCHEMA `+name)
	t.Cleanup(func() { exec(t, base, `DROP SCHEMA `+name+` CASCADE`) })
	return WithSearchPath(t, base, name)
}

// WithSearchPath returns rawURL with its search_path set to schema.
func WithSearchPath(t testing.TB, rawURL, schema string) string {
	t.Helper()
	u, err := url.Parse(rawURL)
	if err != nil {
		t.Fatalf("%s: %v", EnvURL, err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// Exec runs SQL statements on the server at rawURL (for setting up a test's database).
func Exec(t testing.TB, rawURL, sql string) {
	t.Helper()
	exec(t, rawURL, sql)
}

func exec(t testing.TB, rawURL, sql string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), connectTimeout)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		t.Fatalf("pgtest: connect: %v", err)
	}
	defer conn.Close(ctx)
	if _, err := conn.Exec(ctx, sql); err != nil {
		t.Fatalf("pgtest: %s: %v", strings.Fields(sql)[0], err)
	}
}
