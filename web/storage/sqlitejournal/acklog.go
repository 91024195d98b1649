package sqlitejournal

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"hash/crc32"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"

	"github.com/switchboard-sim/switchboard/engine/journal"
	"github.com/switchboard-sim/switchboard/web/internal/jsonstr"
)

// The acknowledgement log. A call's writes (Create, Append, Finish) are acknowledged once
// they are in this log, an append-only file written with one write and one fsync per
// batch whatever the batch's size; SQLite applies them behind it, in the same order, in
// its own group commits (writer.go), off the path a trainee waits on. Each record has a
// position (LSN, from 1, never reused); the last one SQLite has applied is committed with
// it (table ack_log), so at the next start Open applies exactly the records after it.
//
// The log is a series of segment files next to the journal, <journal>-acklog-<first
// LSN, 20 digits>: a segment past segmentBytes is closed and the next one starts; a closed
// segment whose records SQLite has all applied is removed. A segment starts with
// ackLogMagic; each record is its body's length and CRC-32C (4 bytes each, little-endian),
// then the body, JSON. A record cut short by a crash (or failing its checksum) ends the
// segment: it was never acknowledged, since acknowledgement waits for the fsync.
//
// Segments are written full of zeros ahead of their records (zeroChunk at a time), and
// records overwrite those zeros in place: a write that makes a file longer costs its fsync
// a commit of the filesystem's own journal besides the data (on ext4, ~200 µs against
// ~140 µs for an overwrite on this project's machines: go run docs/bench/fsync.go). A record
// length of zero is never written, so a segment's records end at its first zero header,
// where the rest of the file must be zeros; anything else there is a write cut short.

const (
	ackLogMagic = "SBACKLG1"
	// segmentBytes is the size past which a segment is closed and a new one started.
	segmentBytes = 64 << 20
	// maxRecordBytes bounds a record's body when reading (a call's sources are the largest
	// part: ~20 KB for the shipped scenarios, the first time a process logs them).
	maxRecordBytes = 64 << 20
	recordHeader   = 8
	// zeroChunk is how much of a segment is written full of zeros at a time, ahead of its
	// records: one write in ~1,500 also writes the next chunk (~1.4 ms once, on a disk
	// whose fsync takes 200 µs), and a segment takes at most this much more space than
	// its records.
	zeroChunk = 1 << 20
)

// zeros is written to fill a segment ahead of its records.
var zeros [64 << 10]byte

// castagnoli is CRC-32C, the checksum of records.
var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Operations of a record.
const (
	opCreate = "create"
	opAppend = "append"
	opFinish = "finish"
)

// record is one write of a call, as logged.
type record struct {
	LSN    uint64 `json:"lsn"`
	Op     string `json:"op"`
	CallID string `json:"call_id"`
	// Create: the call without its sources (Call.Sources is empty), its token's hash
	// (which Call does not encode), the key of its sources, and their encoding the first
	// time this process logs them (later records of the same sources leave it out: the
	// first is applied before them).
	Call        *journal.Call `json:"call,omitempty"`
	TokenHash   string        `json:"token_hash,omitempty"`
	SourcesKey  string        `json:"sources_key,omitempty"`
	SourcesData []byte        `json:"sources_data,omitempty"`
	// Append.
	Entry *journal.Entry `json:"entry,omitempty"`
	// Finish: the result as SQLite stores it (JSON of journal.Result), and its end time.
	Result json.RawMessage `json:"result,omitempty"`
	Ended  string          `json:"ended,omitempty"`
}

// appendRecord appends r, framed, to buf.
func appendRecord(buf []byte, r *record) ([]byte, error) {
	if r.Op == opAppend && r.Entry != nil && r.Call == nil && r.TokenHash == "" && r.SourcesKey == "" &&
		r.SourcesData == nil && r.Result == nil && r.Ended == "" {
		// An input of a running call, the record written most: by hand (appendEntryBody).
		start := len(buf)
		buf = append(buf, make([]byte, recordHeader)...)
		buf = appendEntryBody(buf, r)
		body := buf[start+recordHeader:]
		binary.LittleEndian.PutUint32(buf[start:], uint32(len(body)))
		binary.LittleEndian.PutUint32(buf[start+4:], crc32.Checksum(body, castagnoli))
		return buf, nil
	}
	body, err := json.Marshal(r)
	if err != nil {
		return buf, fmt.Errorf("encode log record: %w", err)
	}
	buf = binary.LittleEndian.AppendUint32(buf, uint32(len(body)))
	buf = binary.LittleEndian.AppendUint32(buf, crc32.Checksum(body, castagnoli))
	return append(buf, body...), nil
}

// appendEntryBody appends the JSON of an append record without reflection: the record
// decodes (json.Unmarshal) to what encoding/json's encoding of it decodes to
// (TestEntryRecordsDecodeAsEncodingJSON, FuzzEntryRecords), and it is written once per
// input of every call, on the path of the reply (docs/performance.md).
func appendEntryBody(b []byte, r *record) []byte {
	e := r.Entry
	b = append(b, `{"lsn":`...)
	b = strconv.AppendUint(b, r.LSN, 10)
	b = append(b, `,"op":`...)
	b = jsonstr.Append(b, r.Op)
	b = append(b, `,"call_id":`...)
	b = jsonstr.Append(b, r.CallID)
	b = append(b, `,"entry":{"seq":`...)
	b = strconv.AppendInt(b, e.Seq, 10)
	if e.ClientID != "" {
		b = append(b, `,"client_id":`...)
		b = jsonstr.Append(b, e.ClientID)
	}
	b = append(b, `,"event":{"type":`...)
	b = jsonstr.Append(b, string(e.Event.Type))
	b = append(b, `,"at":`...)
	b = strconv.AppendInt(b, e.Event.At, 10)
	if e.Event.Text != "" {
		b = append(b, `,"text":`...)
		b = jsonstr.Append(b, e.Event.Text)
	}
	if e.Event.Index != 0 {
		b = append(b, `,"index":`...)
		b = strconv.AppendInt(b, int64(e.Event.Index), 10)
	}
	return append(b, "}}}"...)
}

// errTorn ends a segment's reading at a record that is incomplete or damaged.
var errTorn = errors.New("record cut short or damaged")

// decodeRecords calls fn with each record of a segment's content (after its magic), in
// order. It returns how many bytes held whole records or, after them, the zeros a segment
// is filled with ahead of its records, and errTorn (wrapped, with the offset) if the rest
// is neither, or fn's error.
func decodeRecords(data []byte, fn func(r record) error) (int, error) {
	off := 0
	for off < len(data) {
		if allZero(data[off:min(off+recordHeader, len(data))]) {
			// No record has length zero: the records end here.
			if allZero(data[off:]) {
				return len(data), nil
			}
			return off, fmt.Errorf("at byte %d: data after the end of the records: %w", off, errTorn)
		}
		if len(data)-off < recordHeader {
			return off, fmt.Errorf("at byte %d: %w", off, errTorn)
		}
		n := binary.LittleEndian.Uint32(data[off:])
		sum := binary.LittleEndian.Uint32(data[off+4:])
		if n > maxRecordBytes || int(n) > len(data)-off-recordHeader {
			return off, fmt.Errorf("at byte %d: %w", off, errTorn)
		}
		body := data[off+recordHeader : off+recordHeader+int(n)]
		if crc32.Checksum(body, castagnoli) != sum {
			return off, fmt.Errorf("at byte %d: checksum: %w", off, errTorn)
		}
		var r record
		if err := json.Unmarshal(body, &r); err != nil || r.LSN == 0 {
			return off, fmt.Errorf("at byte %d: %w", off, errTorn)
		}
		if err := fn(r); err != nil {
			return off, err
		}
		off += recordHeader + int(n)
	}
	return off, nil
}

// allZero reports whether b holds only zero bytes.
func allZero(b []byte) bool {
	for len(b) >= 8 {
		if binary.LittleEndian.Uint64(b) != 0 {
			return false
		}
		b = b[8:]
	}
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// segment is one file of the log.
type segment struct {
	first uint64 // the LSN of its first record (or of the next one, while empty)
	path  string
	last  uint64 // its last record's LSN, once closed (0 while it is the current one)
}

// segmentPath returns the path of the segment of base starting at first.
func segmentPath(base string, first uint64) string {
	return fmt.Sprintf("%s-acklog-%020d", base, first)
}

// listSegments returns base's segments in LSN order.
func listSegments(base string) ([]segment, error) {
	paths, err := filepath.Glob(globEscape(base) + "-acklog-*")
	if err != nil {
		return nil, err
	}
	var segs []segment
	for _, p := range paths {
		suffix := strings.TrimPrefix(p, base+"-acklog-")
		if len(suffix) != 20 {
			continue
		}
		first, err := strconv.ParseUint(suffix, 10, 64)
		if err != nil {
			continue
		}
		segs = append(segs, segment{first: first, path: p})
	}
	slices.SortFunc(segs, func(a, b segment) int { return compareUint(a.first, b.first) })
	return segs, nil
}

func compareUint(a, b uint64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// globEscape escapes the pattern characters of a path for filepath.Glob.
func globEscape(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// readSegment calls fn with each whole record of the segment at path. torn reports bytes
// after the last whole record (a write cut short by a crash), up to the zeros after them.
func readSegment(path string, fn func(r record) error) (torn int, err error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return 0, err
	}
	if len(data) < len(ackLogMagic) {
		return len(data), nil // created, cut short before its magic was written
	}
	if !bytes.Equal(data[:len(ackLogMagic)], []byte(ackLogMagic)) {
		return 0, fmt.Errorf("%s is not a Switchboard acknowledgement log (it does not start with %q)", path, ackLogMagic)
	}
	data = data[len(ackLogMagic):]
	n, err := decodeRecords(data, fn)
	if errors.Is(err, errTorn) {
		return len(bytes.TrimRight(data[n:], "\x00")), nil // not the zeros written ahead
	}
	return 0, err
}

// recordsAfter calls fn, in order, with each whole record of the log at base whose LSN is
// past after and at most upto: the writes a start applies (Open) or a stopped writer
// applies again (writer.heal). The records must follow each other with no gap; a segment
// removed since it was listed held applied records only. A segment's torn tail (a write
// cut short by a crash, never acknowledged) is logged and skipped.
func recordsAfter(base string, after, upto uint64, fn func(r record) error) error {
	segs, err := listSegments(base)
	if err != nil {
		return fmt.Errorf("list the acknowledgement log: %w", err)
	}
	last := after
	for _, s := range segs {
		torn, err := readSegment(s.path, func(r record) error {
			if r.LSN <= last || r.LSN > upto {
				return nil
			}
			if r.LSN != last+1 {
				return fmt.Errorf("record %d follows %d", r.LSN, last)
			}
			last = r.LSN
			return fn(r)
		})
		switch {
		case errors.Is(err, os.ErrNotExist):
			continue // removed since listed: applied already
		case err != nil:
			return fmt.Errorf("read the acknowledgement log's segment %s: %w", s.path, err)
		case torn > 0:
			slog.Warn("sqlitejournal: the acknowledgement log ends with a record cut short (a write interrupted by a crash, never acknowledged): ignored",
				"segment", s.path, "bytes", torn)
		}
	}
	return nil
}

// ackLog is the log being written: its current segment and the closed ones not yet
// removed. Only the front's goroutine uses it.
type ackLog struct {
	base   string // the journal's path
	f      *os.File
	cur    segment
	size   int64 // the current segment's magic and records
	filled int64 // the current segment's length: its records, then zeros
	closed []segment
	// fault, when set (tests), is called before each write: an error fails the write as
	// a full disk would.
	fault func() error
	// writeback is set when start can have the kernel begin writing a batch's records out
	// to the log's disk, so that the disk works while the caller does (see start): on
	// Linux, unless inMemory.
	writeback bool
	// inMemory is set when the log's folder lives in memory only (tmpfs): there is nothing
	// to write back, and finish does not call fsync, which does nothing there.
	inMemory bool
	// pendEnd and pendFilled are size and filled once the records start wrote are synced
	// (finish).
	pendEnd, pendFilled int64
}

// errCutBack is in the error of a write that failed and whose segment could not be cut
// back to its last whole record: the log cannot be written again.
var errCutBack = errors.New("cutting the segment back failed")

// startSegment creates the segment starting at first, with its magic and its first
// zeroChunk of zeros, durably (the file and its folder's entry are synced).
func (l *ackLog) startSegment(first uint64) error {
	path := segmentPath(l.base, first)
	f, err := os.OpenFile(path, os.O_CREATE|os.O_EXCL|os.O_WRONLY, 0o600)
	if err != nil {
		return fmt.Errorf("create log segment: %w", err)
	}
	size := int64(len(ackLogMagic))
	if _, err = f.WriteAt([]byte(ackLogMagic), 0); err == nil {
		err = fillZeros(f, size, size+zeroChunk)
	}
	if err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(filepath.Dir(path))
	}
	if err != nil {
		f.Close()
		os.Remove(path)
		return fmt.Errorf("create log segment %s: %w", path, err)
	}
	l.f, l.cur, l.size, l.filled = f, segment{first: first, path: path}, size, size+zeroChunk
	return nil
}

// fillZeros writes zeros to f from byte from to byte to.
func fillZeros(f *os.File, from, to int64) error {
	for from < to {
		n, err := f.WriteAt(zeros[:min(int64(len(zeros)), to-from)], from)
		if err != nil {
			return err
		}
		from += int64(n)
	}
	return nil
}

// start appends buf (whole records) to the current segment, over its zeros (writing the
// next zeroChunk of zeros first when buf reaches past them), and, on a disk that writes
// back, has the kernel start writing it out, without waiting. finish syncs it; nothing
// else is written in between. A caller with other work to do (the engine's step of the
// input being logged) does it between the two: the sync then mostly waits for the disk's
// flush, the data having gone meanwhile. On error the segment is cut back to where it
// was, so that nothing that was refused is applied at the next start (if even that fails
// the error says so), and finish must not be called.
func (l *ackLog) start(buf []byte) error {
	end, filled := l.size+int64(len(buf)), l.filled
	var err error
	if l.fault != nil {
		err = l.fault()
	}
	if err == nil && end > filled {
		filled = end + zeroChunk
		err = fillZeros(l.f, end, filled)
	}
	if err == nil {
		_, err = l.f.WriteAt(buf, l.size)
	}
	if err != nil {
		return l.cutBack(err)
	}
	if l.writeback {
		startWriteback(l.f, l.size, int64(len(buf)))
	}
	l.pendEnd, l.pendFilled = end, filled
	return nil
}

// finish syncs what start wrote: once it returns nil the records survive a crash of the
// process or of the machine (on tmpfs, of the process: the machine's memory is all the
// file has). On error the segment is cut back, as start's is.
func (l *ackLog) finish() error {
	// On tmpfs the kernel's fsync does nothing (noop_fsync): the system call is skipped,
	// as it is on every commit on a turn's path.
	if l.inMemory {
		l.size, l.filled = l.pendEnd, l.pendFilled
		return nil
	}
	if err := l.f.Sync(); err != nil {
		return l.cutBack(err)
	}
	l.size, l.filled = l.pendEnd, l.pendFilled
	return nil
}

// cutBack cuts the segment back to its last synced record after a failed write, so that
// nothing refused is applied at the next start, and returns the write's error (saying so
// if even the cut failed).
func (l *ackLog) cutBack(err error) error {
	l.filled = l.size
	if terr := l.f.Truncate(l.size); terr != nil {
		return fmt.Errorf("write log segment %s: %w (and %w: %v)", l.cur.path, err, errCutBack, terr)
	}
	_ = l.f.Sync()
	return fmt.Errorf("write log segment %s: %w", l.cur.path, err)
}

// rotate closes the current segment once it is past segmentBytes (its last record is
// last) and starts the next one at last+1, then removes the closed segments whose records
// are all applied (up to applied).
func (l *ackLog) rotate(last, applied uint64) error {
	if l.size > segmentBytes {
		if err := l.f.Close(); err != nil {
			return fmt.Errorf("close log segment %s: %w", l.cur.path, err)
		}
		l.cur.last = last
		l.closed = append(l.closed, l.cur)
		l.f = nil
		if err := l.startSegment(last + 1); err != nil {
			return err
		}
	}
	for len(l.closed) > 0 && l.closed[0].last <= applied {
		if err := os.Remove(l.closed[0].path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return fmt.Errorf("remove applied log segment: %w", err)
		}
		l.closed = l.closed[1:]
	}
	return nil
}

// close closes the current segment and, when everything is applied (all), removes every
// segment: a journal closed cleanly leaves no log.
func (l *ackLog) close(all bool) error {
	var err error
	if l.f != nil {
		err = l.f.Close()
		l.f = nil
	}
	if !all {
		return err
	}
	for _, s := range append(l.closed, l.cur) {
		if rerr := os.Remove(s.path); rerr != nil && !errors.Is(rerr, os.ErrNotExist) {
			err = errors.Join(err, rerr)
		}
	}
	l.closed = nil
	return err
}

// syncDir fsyncs a folder, so that a file created in it survives a crash of the machine.
func syncDir(dir string) error {
	if runtime.GOOS == "windows" { // folders cannot be synced there; NTFS journals its entries
		return nil
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	err = d.Sync()
	if cerr := d.Close(); err == nil {
		err = cerr
	}
	return err
}
