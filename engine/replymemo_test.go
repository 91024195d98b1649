package engine

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/engine/understand"
)

// memoCorpus is every intent's examples and non-examples in the shipped scenarios (replies
// designers wrote to be read one way or not), with realistic typed replies around them.
func memoCorpus(scs []*Scenario) []string {
	texts := []string{
		"yes", "no", "ok", "Yes.", "yes!", "no, sorry", "not really", "one moment please",
		"i'm so sorry, we don't have any", "we dont have any", "Thank you for your patience.",
		"hello, thanks for calling, how can i help?", "*£168", "refund", "I can refund £12 today.",
		"cna i tkae your order nubmer", "i won't charge you for it", "I'm not sure we have that",
		"sorry, could you say that again?", "pardon?", "hi,", "hello!", "good morning, ", "so,",
	}
	for _, sc := range scs {
		for _, in := range sc.Intents {
			texts = append(texts, in.Examples...)
			texts = append(texts, in.Not...)
		}
	}
	return texts
}

// freshReading reads text with no memo, each part as the engine reads it on its own.
func freshReading(sc *Scenario, text string) replyReading {
	said, understood := sc.understandInto(nil, text, true)
	r := replyReading{text: text, said: said, understood: understood, hashes: wordHashes(text), repeatRequest: IsRepeatRequest(text)}
	r.leadIn, r.bare = leadInKind(text, sc.Persona.Name)
	return r
}

func requireSameReading(t *testing.T, want replyReading, got *replyReading, what string) {
	t.Helper()
	require.Equal(t, want.text, got.text, what)
	require.Equal(t, want.said, got.said, "%s: intents of %q", what, want.text)
	require.Equal(t, len(want.understood), len(got.understood), "%s: %q", what, want.text)
	for i := range got.understood {
		require.Equal(t, want.understood[i], got.understood[i], "%s: %q", what, want.text)
	}
	require.Equal(t, want.hashes, got.hashes, "%s: word hashes of %q", what, want.text)
	require.Equal(t, want.repeatRequest, got.repeatRequest, "%s: %q as a request to repeat", what, want.text)
	require.Equal(t, [2]bool{want.leadIn, want.bare}, [2]bool{got.leadIn, got.bare}, "%s: %q as a lead-in", what, want.text)
}

// TestReplyMemoReadsAsFresh: a reply read from the memo, or remembered on its first
// reading, reads as it does with no memo, for every shipped scenario's examples, from many
// goroutines at once (run with -race), and after other replies took its slot.
func TestReplyMemoReadsAsFresh(t *testing.T) {
	scs := shippedScenarios(t)
	texts := memoCorpus(scs)
	require.Greater(t, len(texts), 500)
	long := strings.Repeat("sorry about the wait, ", ReplyMemoMaxBytes/20)
	require.Greater(t, len(long), ReplyMemoMaxBytes)
	texts = append(texts, long)
	hits := 0
	for _, sc := range scs {
		require.NotNil(t, sc.memo, sc.ID)
		want := make([]replyReading, len(texts))
		for i, text := range texts {
			want[i] = freshReading(sc, text)
		}
		var wg sync.WaitGroup
		for g := range 4 {
			wg.Go(func() {
				rnd := rand.New(rand.NewPCG(uint64(g), 7))
				var room understand.Text
				for range 3 * len(texts) {
					i := rnd.IntN(len(texts))
					requireSameReading(t, want[i], sc.readReply(&room, texts[i]), fmt.Sprintf("%s, goroutine %d", sc.ID, g))
				}
			})
		}
		wg.Wait()
		for i, text := range texts {
			r := sc.memo.slots[memoSlot(text)].Load()
			if r == nil || r.text != text {
				continue
			}
			hits++
			requireSameReading(t, want[i], r, sc.ID+", remembered")
			require.Equal(t, len(r.understood), cap(r.understood), "a shared reading's slices are clipped")
			require.Equal(t, len(r.hashes), cap(r.hashes), "a shared reading's slices are clipped")
		}
		require.Nil(t, sc.memo.slots[memoSlot(long)].Load(), "%s: a reply over %d bytes is not remembered", sc.ID, ReplyMemoMaxBytes)
	}
	require.Greater(t, hits, len(scs)*len(texts)/2, "readings remembered")
}

// TestReplyMemoSlotIsTakenOver: two replies hashed to the same slot each read as they
// should, whichever was remembered last.
func TestReplyMemoSlotIsTakenOver(t *testing.T) {
	sc := shippedScenarios(t)[0]
	a := "we don't have any, I'm afraid"
	var b string
	for i := 0; b == ""; i++ {
		if c := fmt.Sprintf("sorry, none left %d", i); memoSlot(c) == memoSlot(a) {
			b = c
		}
	}
	wa, wb := freshReading(sc, a), freshReading(sc, b)
	for range 3 {
		requireSameReading(t, wa, sc.readReply(nil, a), "a")
		require.Equal(t, a, sc.memo.slots[memoSlot(a)].Load().text)
		requireSameReading(t, wb, sc.readReply(nil, b), "b")
		require.Equal(t, b, sc.memo.slots[memoSlot(a)].Load().text)
	}
}

// TestCallsReadTheSameWithAWarmMemo: a call played on a scenario whose memo already holds
// its replies (from other calls) gives the very outputs it gives with no memo, in every
// shipped scenario: sessions sharing readings change nothing of one another's, and a
// reading changed by its session after it was remembered would show here.
func TestCallsReadTheSameWithAWarmMemo(t *testing.T) {
	texts := []string{
		"hello, thanks for calling, how can i help?", "yes", "no", "hi,", "sorry,",
		"i'm so sorry, we don't have any", "i can offer you something similar instead",
		"*£168", "could you give me your order number please?", "one moment please",
		"Thank you for your patience.", "of course", "let me check for you",
	}
	scs, bares := shippedScenarios(t), shippedScenarios(t)
	for k, sc := range scs {
		bare := bares[k]
		bare.memo = nil // reads every reply afresh
		for call := range 8 {
			script := randomScript(uint64(call), texts)
			want := playScript(t, bare, uint64(call), script)
			for round := range 2 { // the memo cold, then warm from the first round
				got := playScript(t, sc, uint64(call), script)
				require.Equal(t, want, got, "%s, call %d, round %d", sc.ID, call, round)
			}
		}
	}
}

// randomScript is a call's events: answering, then replies, typing and timers.
func randomScript(seed uint64, texts []string) []Event {
	rnd := rand.New(rand.NewPCG(seed, 11))
	evs := []Event{{Type: EventAnswer, At: 1500}}
	at := int64(1500)
	for range 30 {
		at += int64(rnd.IntN(9000)) + 200
		switch k := rnd.IntN(10); {
		case k < 7:
			evs = append(evs, Event{Type: EventSay, At: at, Text: texts[rnd.IntN(len(texts))]})
		case k < 9:
			evs = append(evs, Event{Type: EventTyping, At: at})
		default:
			evs = append(evs, Event{Type: EventTimeout, At: at})
		}
	}
	return evs
}

// playScript plays script on a new session of sc and returns everything it output, as
// text (a deep copy: a later change to a shared slice would not alter it).
func playScript(t *testing.T, sc *Scenario, seed uint64, script []Event) []string {
	t.Helper()
	s := sc.NewSession(seed, "Robin")
	var got []string
	add := func(outs []Output) {
		for _, o := range outs {
			b, err := json.Marshal(o)
			require.NoError(t, err)
			got = append(got, string(b))
		}
	}
	add(s.Start(nil))
	for _, ev := range script {
		if s.Ended() {
			break
		}
		if ev.Type == EventTimeout {
			d, ok := s.NextDeadline()
			if !ok || d > ev.At {
				continue
			}
			ev.At = d
		}
		outs, err := s.Apply(ev, nil)
		got = append(got, fmt.Sprintf("%+v -> %v", ev, err))
		add(outs)
	}
	return got
}
