package engine

import (
	"slices"
	"sync/atomic"

	"github.com/switchboard-sim/switchboard/engine/understand"
)

// A scenario remembers how it read the replies typed to it lately: what a reply means
// depends on its words and the scenario's lexicon only, so a reply typed again (by this
// trainee or any other on the floor) is not read again. Reading a reply is a third of a
// say's engine time when the step runs with its data out of the CPU's caches (a look-up
// in the word tables and the phrase index for each word), and the same short replies
// come back all the time on a training floor ("yes", "one moment please", "thank you for
// your patience"). The memo changes no result: a remembered reading is the one the
// reply would get again (TestReplyMemoReadsAsFresh).
const (
	// ReplyMemoSlots is how many replies a scenario remembers the reading of, at most
	// (one per slot of a table indexed by a hash of the text: a reply takes the place of
	// the one in its slot). A remembered reading takes the reply's bytes and ~100 more.
	ReplyMemoSlots = 4096
	// ReplyMemoMaxBytes is the longest reply remembered; longer ones are read each time.
	ReplyMemoMaxBytes = 256
)

// replyReading is what a scenario reads in a reply's text: the intents it means, what
// each was understood from, its distinct word hashes (wordHashes), and what the text
// alone says of the reply as an aside (asideFlag reads them). Never changed once made:
// its slices are shared by the sessions that find it (clipped, so an append copies).
type replyReading struct {
	text          string
	said          intentSet
	understood    []Understood
	hashes        []uint32
	repeatRequest bool // IsRepeatRequest
	leadIn, bare  bool // leadInKind, with the scenario's persona
}

// replyMemo is a scenario's table of recent readings. Safe for concurrent use: a slot
// holds a pointer to an immutable reading, replaced whole.
type replyMemo struct {
	slots [ReplyMemoSlots]atomic.Pointer[replyReading]
}

// readReply returns what sc reads in text, from the memo when text was read lately, and
// remembers it otherwise. t is the room to analyse text in when it must be read (nil: a
// new one). The reading is shared: callers must not change it.
func (sc *Scenario) readReply(t *understand.Text, text string) *replyReading {
	if len(text) > ReplyMemoMaxBytes || sc.memo == nil {
		return sc.read(t, text)
	}
	slot := &sc.memo.slots[memoSlot(text)]
	if r := slot.Load(); r != nil && r.text == text {
		return r
	}
	r := sc.read(t, text)
	slot.Store(r)
	return r
}

// memoSlot is the slot of the memo that text's reading is kept in: an FNV-1a hash of its
// bytes, modulo the slots.
func memoSlot(text string) uint32 {
	h := understand.HashStart
	for i := 0; i < len(text); i++ {
		h = understand.HashByte(h, text[i])
	}
	return h % ReplyMemoSlots
}

// read reads text afresh (readReply), in t or, when t is nil, in room from the
// scenario's pool.
func (sc *Scenario) read(t *understand.Text, text string) *replyReading {
	if t == nil {
		t, _ = sc.textRoom.Get().(*understand.Text)
		if t == nil {
			t = new(understand.Text)
		}
		defer sc.textRoom.Put(t)
	}
	said, understood := sc.understandInto(t, text, true)
	r := &replyReading{text: text, said: said, understood: slices.Clip(understood), hashes: slices.Clip(wordHashes(text)),
		repeatRequest: IsRepeatRequest(text)}
	r.leadIn, r.bare = leadInKind(text, sc.Persona.Name)
	return r
}
