package pgjournal

import (
	"context"
	"fmt"
	"slices"

	"github.com/jackc/pgx/v5"

	"github.com/switchboard-sim/switchboard/engine/journal"
)

// appendOp is one append waiting in the writer's batch: to callID, fenced by lease when
// it is not nil.
type appendOp struct {
	callID string
	lease  *journal.Lease
	entry  journal.Entry
}

// callState is what an append's checks need to know about its call.
type callState struct {
	finished bool
	last     int64
	owner    *string
	epoch    *int64
	clients  map[string]bool // client ids recorded (those the group asks about, and its own)
}

// appendGroup runs consecutive appends of a batch (ops, skipping those marked in skip)
// as one group and sets each one's outcome in errs: the same checks, in the same order and
// with the same errors as appendEntry, each append seeing the ones before it in the group.
// It returns how many were written, or the error of a failed statement (the transaction
// is then aborted; the caller runs the appends one by one to find the culprit).
//
// Round trip 1 locks every call of the group (FOR NO KEY UPDATE, in id order, so two
// instances writing overlapping calls cannot deadlock on each other's order), then, in
// new statements and so new snapshots (READ COMMITTED), reads each call's state, lease
// and the recorded client ids the group asks about: what was committed before the locks
// were granted, by any instance, as appendEntry sees it. Round trip 2 inserts every
// accepted entry with one statement.
func appendGroup(ctx context.Context, tx pgx.Tx, ops []op, errs []error, skip []bool) (int, error) {
	var ids, clientCalls, clientIDs []string
	seen := map[string]bool{}
	for i, o := range ops {
		if skip[i] {
			continue
		}
		a := o.app
		if !seen[a.callID] {
			seen[a.callID] = true
			ids = append(ids, a.callID)
		}
		if a.entry.ClientID != "" {
			clientCalls = append(clientCalls, a.callID)
			clientIDs = append(clientIDs, a.entry.ClientID)
		}
	}
	if len(ids) == 0 {
		return 0, nil
	}
	slices.Sort(ids)

	b := &pgx.Batch{}
	b.Queue(`SELECT id FROM calls WHERE id = ANY($1) ORDER BY id FOR NO KEY UPDATE`, ids)
	b.Queue(`SELECT c.id, c.result IS NOT NULL,
			coalesce((SELECT max(seq) FROM entries e WHERE e.call_id = c.id), 0),
			l.owner, l.epoch
		FROM calls c LEFT JOIN call_leases l ON l.call_id = c.id WHERE c.id = ANY($1)`, ids)
	b.Queue(`SELECT e.call_id, e.client_id FROM entries e
		JOIN unnest($1::text[], $2::text[]) AS w (call_id, client_id)
		ON e.call_id = w.call_id AND e.client_id = w.client_id`, clientCalls, clientIDs)
	br := tx.SendBatch(ctx, b)
	states, err := readGroupState(br)
	if cerr := br.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return 0, err
	}

	var (
		callCol, clientCol, typeCol []*string
		seqCol, atCol, idxCol       []int64
		textCol                     [][]byte
	)
	for i, o := range ops {
		if skip[i] {
			continue
		}
		a := o.app
		st, ok := states[a.callID]
		e := a.entry
		switch {
		case !ok:
			errs[i] = journal.ErrNotFound
		case a.lease != nil && !holds(a.lease, st.owner, st.epoch):
			errs[i] = journal.ErrFenced
		case e.ClientID != "" && st.clients[e.ClientID]:
			errs[i] = fmt.Errorf("client id %q: %w", e.ClientID, journal.ErrDuplicate)
		case st.finished:
			errs[i] = journal.ErrFinished
		case e.Seq != st.last+1:
			errs[i] = fmt.Errorf("last is %d: %w", st.last, journal.ErrSeqGap)
		}
		if errs[i] != nil {
			continue
		}
		st.last = e.Seq
		var clientID *string // NULL when empty: UNIQUE lets NULLs repeat
		if e.ClientID != "" {
			st.clients[e.ClientID] = true
			clientID = &e.ClientID
		}
		typ := string(e.Event.Type)
		callCol = append(callCol, &a.callID)
		seqCol = append(seqCol, e.Seq)
		clientCol = append(clientCol, clientID)
		typeCol = append(typeCol, &typ)
		atCol = append(atCol, e.Event.At)
		textCol = append(textCol, []byte(e.Event.Text))
		idxCol = append(idxCol, int64(e.Event.Index))
	}
	if len(callCol) == 0 {
		return 0, nil
	}
	_, err = tx.Exec(ctx, `INSERT INTO entries (call_id, seq, client_id, type, at, text, idx)
		SELECT * FROM unnest($1::text[], $2::bigint[], $3::text[], $4::text[], $5::bigint[], $6::bytea[], $7::bigint[])`,
		callCol, seqCol, clientCol, typeCol, atCol, textCol, idxCol)
	if err != nil {
		return 0, err
	}
	return len(callCol), nil
}

// readGroupState reads appendGroup's first round trip.
func readGroupState(br pgx.BatchResults) (map[string]*callState, error) {
	if _, err := br.Exec(); err != nil { // the locks
		return nil, err
	}
	states := map[string]*callState{}
	rows, err := br.Query()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var id string
		st := &callState{clients: map[string]bool{}}
		if err := rows.Scan(&id, &st.finished, &st.last, &st.owner, &st.epoch); err != nil {
			rows.Close()
			return nil, err
		}
		states[id] = st
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = br.Query()
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var callID, clientID string
		if err := rows.Scan(&callID, &clientID); err != nil {
			rows.Close()
			return nil, err
		}
		if st := states[callID]; st != nil {
			st.clients[clientID] = true
		}
	}
	return states, rows.Err()
}
