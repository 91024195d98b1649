package engine

import (
	"bytes"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// Asides are typed messages that are not a turn of the conversation: a correction of a
// typo in the trainee's previous message ("*refund"), a listening noise ("mm", "ok", "i
// see") typed while the customer is still talking, and a request to repeat ("sorry, what
// was that?") once the customer has finished, which she answers by saying her line again,
// once a line. An aside is recorded in the transcript with its flag and judged by nothing:
// no rule, no transition, no interruption, no cut of the customer's line, no silence
// measured, no turn counted. See docs/scenario-format.md, "Timing".

// Flags an aside's trainee output carries.
const (
	FlagCorrection  = "correction"
	FlagBackchannel = "backchannel"
	FlagRepeat      = "repeat"
	FlagLeadIn      = "lead-in"
	// FlagAlone marks a bare greeting sent as a lead-in ("hi!") that nothing followed: it
	// is judged as the reply on its own, LeadInWaitMS after it (not an aside).
	FlagAlone       = "alone"
	FlagInterrupted = "interrupted"
	FlagRepeated    = "repeated"
	// FlagReadIn marks a correction judged as a reply (it changes a number the customer
	// had answered: changesAnsweredNumber) that was read into the previous message: the
	// reply judged is that message with the correction's words in place (readCorrection).
	FlagReadIn = "read-in"
)

// IsAside reports whether a trainee output's flags mark an aside.
func IsAside(flags []string) bool {
	return len(flags) == 1 && (flags[0] == FlagCorrection || flags[0] == FlagBackchannel || flags[0] == FlagRepeat ||
		flags[0] == FlagLeadIn)
}

// MaxCorrectionWords is the most words a correction may have besides its asterisk
// ("*refund", "*the refund", "refund*"). A longer message that starts with "*" is a reply
// like any other: to change what you meant, send the whole reply again.
const MaxCorrectionWords = 4

// backchannels are the listening noises, as backchannelKey spells them; a message of one
// or more of them ("right, go on", "oh i see") is one.
var backchannels = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range []string{"ok", "okay", "k", "okey", "mm", "mhm", "mm hmm", "mmhmm", "hmm", "uh huh",
		"uhuh", "aha", "ah", "oh", "ooh", "oh dear", "oh no", "yes", "yeah", "yep", "yup", "ya", "right", "sure",
		"i see", "go on", "please go on", "got it", "gotcha", "understood", "of course", "alright", "all right",
		"listening", "im listening", "i am listening", "go ahead", "carry on", "fair enough",
		"oh right", "no way", "really"} {
		m[backchannelKey(s)] = true
	}
	for _, s := range sympathyNoises {
		m[backchannelKey(s)] = true
	}
	return m
}()

// sympathyNoises are listening noises of surprise or sympathy while the customer tells
// it (an outside trainee's "oh gosh" cut her off): backchannels that never answer.
var sympathyNoises = []string{"oh gosh", "gosh", "oh god", "oh my", "oh my god", "omg", "oh my gosh", "uh oh",
	"yikes", "eek", "aw", "aww", "awww", "aw no", "oh wow", "wow", "oh crikey", "crikey", "oh heck", "ouch",
	"oof", "oh goodness", "goodness", "oh man"}

// BackchannelGraceMS is how long after the customer's line ends a pure listening noise
// ("mm", "uh huh", "i see", not "ok" or "yes") is still one, not a reply.
const BackchannelGraceMS = 1000

// listeningNoises are the backchannels that never answer anything, as backchannelKey
// spells them.
var listeningNoises = func() map[string]bool {
	m := map[string]bool{}
	for _, s := range append([]string{"mm", "mhm", "mm hmm", "mmhmm", "uh huh", "uhuh", "hmm", "aha", "ah", "oh",
		"ooh", "oh dear", "i see"}, sympathyNoises...) {
		m[backchannelKey(s)] = true
	}
	return m
}()

// isListeningNoise reports whether text is one listening noise that never answers.
func isListeningNoise(text string) bool {
	return len(text) <= MaxBackchannelBytes && listeningNoises[backchannelKey(text)]
}

// MaxBackchannelBytes bounds what is looked up as a listening noise.
const MaxBackchannelBytes = 24

// backchannelKey returns text in lower case with only its letters, one space between
// words and each run of one letter written once ("Mmm...", "mm-hmm!", "Okkk" → "m", "m hm",
// "ok").
func backchannelKey(text string) string {
	var b strings.Builder
	var last rune
	space := false
	for _, r := range strings.ToLower(text) {
		switch {
		case unicode.IsLetter(r):
			if space && b.Len() > 0 {
				b.WriteByte(' ')
			}
			space = false
			if r != last {
				b.WriteRune(r)
			}
			last = r
		case r == '\'':
			// "i'm listening": the apostrophe joins the word
		default:
			space, last = true, 0
		}
	}
	return b.String()
}

// IsCorrection reports whether a typed message corrects a typo in the previous one: it
// starts or ends with "*" and has at most MaxCorrectionWords words besides.
func IsCorrection(text string) bool {
	t := strings.TrimSpace(text)
	if !strings.HasPrefix(t, "*") && !strings.HasSuffix(t, "*") {
		return false
	}
	return len(strings.Fields(strings.Trim(t, "* \t"))) <= MaxCorrectionWords
}

// correctionFunctionWords may stand in a correction whether or not the previous message
// had them ("*the refund").
var correctionFunctionWords = set("a", "an", "the", "to", "of", "in", "on", "at", "for", "it", "is", "and", "i",
	"we", "you", "my", "your", "our", "be", "will", "can", "do")

// correctionNegations may stand in a correction only when the previous message had the
// same word: fixing a typo never adds a "not" ("*not refunding" after "ive refunded it now"
// takes the refund back, it fixes no spelling; an outside panel passed one-script that
// way at 100%).
var correctionNegations = set("not", "no", "never", "nothing", "none", "nobody", "nor", "dont", "cant", "wont",
	"isnt", "arent", "wasnt", "werent", "didnt", "doesnt", "havent", "hasnt", "hadnt", "shouldnt", "wouldnt",
	"couldnt", "cannot", "neither")

// CorrectsTypo reports whether text corrects a typo in prev, the trainee's previous
// message: it is a correction by its form (IsCorrection), and each of its words is a
// function word or a near spelling of a word of prev (one edit for a word of up to four
// letters, two for a longer one; a swap of neighbours is one), and a negation only if prev
// had it. "*refund" after "ill refnud it" does; "*shut up" or "*cheapskate" after a message
// without such words, or "*not refunding" after "ive refunded it", is a reply like any
// other, judged as one. The call's first message has nothing to compare
// with: its form decides.
func CorrectsTypo(text, prev string) bool {
	if !IsCorrection(text) {
		return false
	}
	words := correctionWords(text)
	before := correctionWords(prev)
	if len(words) == 0 || len(before) == 0 {
		return true // "*" alone, or the call's first message: nothing to compare with
	}
	for _, w := range words {
		if correctionNegations[w] && !slices.Contains(before, w) {
			return false
		}
		if correctionFunctionWords[w] {
			continue
		}
		near := false
		for _, p := range before {
			if limit, ok := typoLimit(w, p); w == p || ok && osaDistance(w, p, limit) <= limit {
				near = true
				break
			}
		}
		if !near {
			return false
		}
	}
	return true
}

// typoLimit is how many edits apart a correction's word w and the previous message's word
// p may be for w to fix a typo in p: one for a word of up to four letters, two for a
// longer one; ok is false for a word under three letters, which only fixes itself.
func typoLimit(w, p string) (limit int, ok bool) {
	if len(w) < 3 || len(p) < 3 {
		return 0, false
	}
	if len(w) <= 4 || len(p) <= 4 {
		return 1, true
	}
	return 2, true
}

// correctionWords returns text's words, lower-cased, of letters and digits only.
func correctionWords(text string) []string {
	var out []string
	for _, f := range strings.Fields(text) {
		if w := correctionKey(f); w != "" {
			out = append(out, w)
		}
	}
	return out
}

// osaDistance is the optimal string alignment distance between a and b (edits: insert,
// delete, substitute a byte, or swap two neighbours), or limit+1 as soon as it exceeds
// limit.
func osaDistance(a, b string, limit int) int {
	if d := len(a) - len(b); d > limit || -d > limit {
		return limit + 1
	}
	prev2 := make([]int, len(b)+1)
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		best := cur[0]
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
			best = min(best, cur[j])
		}
		if best > limit {
			return limit + 1
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}

// IsBackchannel reports whether a typed message is a listening noise ("mm", "ok", "i
// see"): an aside when it arrives while the customer is still talking.
func IsBackchannel(text string) bool {
	if len(text) > MaxBackchannelBytes {
		return false
	}
	words := strings.Fields(backchannelKey(text))
	if len(words) == 0 {
		return false
	}
	// Each noise in turn, the longest first (at most three words).
	prev := ""
	for i := 0; i < len(words); {
		n := min(3, len(words)-i)
		for n > 0 && !backchannels[strings.Join(words[i:i+n], " ")] {
			n--
		}
		if n == 0 {
			return false
		}
		noise := strings.Join(words[i:i+n], " ")
		if noise == prev && impatientAcks[noise] {
			return false // "yeah yeah", "ok ok": hurrying the customer, not listening
		}
		prev = noise
		i += n
	}
	return true
}

// impatientAcks are the acknowledgements that, said twice in a row ("yeah yeah", "ok ok",
// "right right", "yes yes yes"), hurry the customer along: no listening noise, but a reply
// over her line. An outside panel's trainee sent them every three seconds while the
// customer spoke, and passed at 100%.
var impatientAcks = set("ok", "okay", "k", "yes", "yeah", "yep", "yup", "ya", "right", "sure", "alright",
	"got it", "go on")

// aside records ev, a correction or a listening noise, as its flag says, and changes
// nothing else: the customer's line goes on, and the reply being awaited is still awaited.
func (s *Session) aside(ev Event, flag string, out []Output) []Output {
	// The keystrokes were the aside's: once it is sent the trainee is not typing (a client
	// says so again at the next keystroke). A correction too: a customer kept waiting
	// until the compose limit after "*28th" was told the trainee typed for too long.
	s.composeStart = -1
	n := s.sc.Nodes[s.node]
	out = append(out, Output{Type: OutTrainee, At: ev.At, Node: n.ID, Text: ev.Text, Flags: []string{flag}})
	if flag == FlagLeadIn {
		// The customer waits for the rest: the reply that follows is read with it.
		s.leadIn, s.spoke = true, true    // "hi!" is saying something, if not yet the reply
		r := s.sc.readReply(nil, ev.Text) // as asideFlag read it: shared, never changed here
		s.leadInSaid, s.leadInUnderstood = r.said, r.understood
		s.leadInText = ev.Text // "of course," answers a yes-or-no question with the reply after it
		if r.bare {
			// "hi!" may be all the trainee says: unless they go on typing, it is the reply.
			s.leadInDue, s.leadInAt = ev.At+LeadInWaitMS, ev.At
		}
		return out
	}
	if flag != FlagRepeat {
		return out
	}
	// The customer says her line again, from now: the silence and the node's timers
	// count from its new end.
	s.lineRepeated = true
	s.repeatRequests++
	s.lineStart, s.lineEnd = ev.At, ev.At+s.lineDur
	s.quietSince, s.timerSpent = s.lineEnd, false
	out = append(out, Output{Type: OutLine, At: ev.At, Node: n.ID, Text: s.lineText, Words: s.lineWords,
		Duration: s.lineDur, WPM: s.lineOwnWPM, Pauses: s.linePauses, Emotion: s.lineEmotion})
	if s.shown != 0 {
		// The suggestions shown stay (a new line clears them on the client): the same,
		// in the same order.
		sc := s.scratch(ev)
		defer s.release(sc)
		out = append(out, s.choicesOutput(sc, n))
	}
	return out
}

// asideFlag returns the flag ev is recorded with when it is an aside, or "".
func (s *Session) asideFlag(ev Event) string {
	if ev.Type != EventSay {
		return ""
	}
	speaking := s.speakingAt(ev.At)
	if s.judgingLeadIn {
		return "" // a bare greeting nothing followed, judged as the reply it was
	}
	switch {
	case CorrectsTypo(ev.Text, s.prevText) && !s.changesAnsweredNumber(ev):
		return FlagCorrection
	case speaking && IsBackchannel(ev.Text):
		return FlagBackchannel
	case ev.At < s.lineEnd+BackchannelGraceMS && s.lineText != "" && isListeningNoise(ev.Text):
		// "mm" as her last word streams, or just after: still listening (the last word
		// cannot be timed by a trainee reading it), where "ok" or "yes" would answer.
		return FlagBackchannel
	case !speaking && s.lineText != "" && !s.lineRepeated && s.sc.Nodes[s.node].awaitsReply() && s.sc.readReply(nil, ev.Text).repeatRequest:
		return FlagRepeat
	case !speaking && s.lineText != "" && !s.leadIn && s.sc.Nodes[s.node].awaitsReply():
		r := s.sc.readReply(nil, ev.Text)
		if lead, bare := s.leadInHere(r); lead && !s.leadInAnswers(r, bare) {
			return FlagLeadIn
		}
	}
	return ""
}

// leadInHere reports whether the reply r reads as a lead-in in this call, and whether it
// is a bare greeting: a bare greeting ("hi!") only from a client that reports typing (a
// typing message came before), since the customer waits for the rest only while she can
// tell it is coming.
func (s *Session) leadInHere(r *replyReading) (lead, bare bool) {
	return r.leadIn && (!r.bare || s.typingSeen), r.bare
}

// changesAnsweredNumber reports whether the correction ev puts a number (a word with a
// digit: "*18th", "*£30") that the previous message did not have, after the customer has
// answered that message (a line of hers that started with it or after has ended). A typo
// fixed at once is a typo fix; a number changed once she has taken the first one in
// ("the 28th it is") changes what was agreed, and is judged as the reply it is.
func (s *Session) changesAnsweredNumber(ev Event) bool {
	if s.prevText == "" || s.lineStart < s.prevAt || ev.At < s.lineEnd {
		return false
	}
	before := correctionWords(s.prevText)
	for _, w := range correctionWords(ev.Text) {
		if strings.ContainsAny(w, "0123456789") && !slices.Contains(before, w) {
			return true
		}
	}
	return false
}

// readCorrection returns prev with the words of the correction corr put in place of those
// they correct, and whether a word with a digit was placed (the case it is for: the caller
// reads a correction in only when it changes a number). A word with a digit ("£168",
// "18th") takes the place of prev's word with a digit nearest to it in spelling; another
// word, the place of a word of prev within the typo distance CorrectsTypo allows (a word
// prev has already, or a function word, has nothing to replace). Among words equally near,
// the first after the word last replaced, or else the first: "*11 13" after "between 10
// and 12" is "between 11 and 13". Each word of prev is replaced at most once, and keeps
// the punctuation and currency sign around it (replaceCore); a word with no place is said
// after the message ("*£167 sorry").
func readCorrection(prev, corr string) (string, bool) {
	fields := strings.Fields(prev)
	keys := make([]string, len(fields))
	for i, f := range fields {
		keys[i] = correctionKey(f)
	}
	used := make([]bool, len(fields))
	placed, last := false, -1
	var rest []string // words with no place, said after the message ("*£167 sorry")
	for _, c := range strings.Fields(strings.Trim(strings.TrimSpace(corr), "*")) {
		w := correctionKey(c)
		if w == "" || correctionFunctionWords[w] || slices.Contains(keys, w) {
			continue
		}
		digit := strings.ContainsAny(w, "0123456789")
		best, bestD := -1, 0
		for n := range keys {
			i := (last + 1 + n) % len(keys) // from the word after the last replaced
			k := keys[i]
			if used[i] || k == "" || strings.ContainsAny(k, "0123456789") != digit {
				continue
			}
			limit := max(len(w), len(k)) // any number may stand for another
			if !digit {
				var ok bool
				if limit, ok = typoLimit(w, k); !ok {
					continue
				}
			}
			if d := osaDistance(w, k, limit); d <= limit && (best < 0 || d < bestD) {
				best, bestD = i, d
			}
		}
		if best < 0 {
			rest = append(rest, c)
			continue
		}
		fields[best] = replaceCore(fields[best], c)
		used[best], last = true, best
		placed = placed || digit
	}
	if !placed {
		return prev, false
	}
	return strings.Join(append(fields, rest...), " "), true
}

// replaceCore puts the letters and digits of the correction's word c in place of those of
// the message's word f, keeping f's punctuation, and its currency signs unless c has its
// own: "£186." with "168" or "£168" is "£168.", with "$168" it is "$168.".
func replaceCore(f, c string) string {
	span := func(w string, in func(rune) bool) (lo, hi int) {
		lo = strings.IndexFunc(w, in)
		if lo < 0 {
			return len(w), len(w)
		}
		hi = strings.LastIndexFunc(w, in)
		_, size := utf8.DecodeRuneInString(w[hi:])
		return lo, hi + size
	}
	alnum := func(r rune) bool { return unicode.IsLetter(r) || unicode.IsDigit(r) }
	money := func(r rune) bool { return alnum(r) || unicode.Is(unicode.Sc, r) }
	if clo, chi := span(c, money); strings.IndexFunc(c[clo:chi], func(r rune) bool { return unicode.Is(unicode.Sc, r) }) >= 0 {
		lo, hi := span(f, money) // c brings its own currency sign
		return f[:lo] + c[clo:chi] + f[hi:]
	}
	lo, hi := span(f, alnum)
	clo, chi := span(c, alnum)
	return f[:lo] + c[clo:chi] + f[hi:]
}

// correctionKey is a word as readCorrection compares it: lower-cased, letters and digits.
func correctionKey(f string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return unicode.ToLower(r)
		}
		return -1
	}, f)
}

// LeadInWaitMS is how long the customer waits after a bare greeting sent as a lead-in
// ("hi!", "good morning Mrs Patel") for the trainee to start typing the rest: if they have
// not by then, the greeting is judged as the reply on its own. Started in time, the rest
// is awaited as after any lead-in.
const LeadInWaitMS = 2000

// dropLeadIn forgets a lead-in: read with the reply it opened, or dropped by a timer that
// moved the call.
func (s *Session) dropLeadIn() {
	s.leadIn, s.leadInSaid, s.leadInUnderstood = false, intentSet{}, nil
	s.leadInDue, s.leadInText = -1, ""
}

// judgeLeadIn judges a bare greeting the trainee did not follow up in time as the reply
// on its own, at time at: as if it had been sent then, after composing from when it was
// typed (so the silence before it is the silence before the greeting). The trainee
// output it makes carries FlagAlone.
func (s *Session) judgeLeadIn(at int64, out []Output) []Output {
	text, from := s.leadInText, s.leadInAt
	s.dropLeadIn()
	s.composeStart = from
	s.judgingLeadIn = true
	defer func() { s.judgingLeadIn = false }()
	return s.traineeEvent(Event{Type: EventSay, At: at, Text: text}, out)
}

// leadInAnswers reports whether the current node takes r's text, a lead-in by its words,
// as a reply: for a bare greeting, one of its ways on (or a global rule that moves the call)
// asks about an intent text means; for any lead-in, one that reads the text holds for it.
// A customer whose question a greeting answers ("hello? is anyone there?") hears "hello!"
// as the answer; "hello," visibly goes on, and she waits for the rest.
func (s *Session) leadInAnswers(r *replyReading, bare bool) bool {
	n := s.sc.Nodes[s.node]
	text, said := r.text, r.said
	for i := range said {
		if bare && said[i]&n.replyIntents[i] != 0 {
			return true
		}
	}
	return s.textWayTakes(text, said, n.textWays) || s.textWayTakes(text, said, s.sc.textRules)
}

// textWayTakes reports whether one of ways (transitions of the node, or global rules that
// move the call) that read the reply's text holds for text (read as said): one that would
// take a lead-in as the reply. Such a way is tried, not assumed: one-script's rule on a
// wrong refund sum read the text, and made every greeting at every node a reply; so did
// car-reservation's node that listens for a taxi or a partner's car.
func (s *Session) textWayTakes(text string, said intentSet, ways []*Transition) bool {
	if len(ways) == 0 {
		return false
	}
	sc := s.scratch(Event{Type: EventSay, At: s.now, Text: text})
	defer s.release(sc)
	sc.said = said
	var discard []Output
	for _, w := range ways {
		if s.test(sc, w.guard, w.When, w.WhenSrc, w.ID, w.To, &discard) {
			return true
		}
	}
	return false
}

// Lead-ins: the words a lead-in is made of (IsLeadIn).
var (
	leadInGreetings   = set("hi", "hii", "hello", "hey", "heya", "hiya", "howdy", "morning", "afternoon", "evening", "good")
	leadInHesitations = set("um", "umm", "ummm", "erm", "er", "uh", "uhh", "uhm", "hmm", "hmmm", "hm", "ehm")
	leadInContinuers  = set("so", "well", "and", "anyway")
	leadInAcks        = set("ok", "okay", "okey", "k", "right", "alright", "sure", "thanks", "thank", "you", "of",
		"course", "absolutely", "certainly", "great", "perfect", "lovely", "brilliant")
	leadInAddress = set("there", "sir", "madam", "maam", "mate", "mr", "mrs", "ms", "miss", "dr")
)

// MaxLeadInWords bounds a lead-in ("hi there mrs patel, um").
const MaxLeadInWords = 6

// IsLeadIn reports whether a typed message only opens the reply that follows it: a
// greeting, hesitation or acknowledgement that visibly goes on ("ok so", "right, well",
// "hi there,", "um...", "hmm -", "of course,", "thanks -"), with at most MaxLeadInWords words, which may include a
// form of address and the customer's name (the persona's, given as name). To go on, it
// ends in "so", "well", "and", "anyway", "...", "…", ",", ":" or a dash; or it is a
// greeting alone ("hi", "hello there!", "good morning Mrs Patel", not "hello?"), which the
// customer takes as the reply if the trainee does not start typing more within
// LeadInWaitMS. After a greeting or a form of address, up to MaxLeadInNameWords other
// words are taken as a name ("hi dario,"). A bare "hmm", "ok", "right" or "yes" answers;
// so does anything with another word in it.
func IsLeadIn(text, name string) bool {
	ok, _ := leadInKind(text, name)
	return ok
}

// MaxLeadInNameWords is how many words a lead-in may hold, right after a greeting or a
// form of address, that are no lead-in words: a name ("hi dario,", "morning mrs evelyn
// marsh -"), whoever the caller is.
const MaxLeadInNameWords = 2

// leadInKind reports whether text is a lead-in (IsLeadIn), and whether it is a bare
// greeting: greeting words, with a form of address or a name, that do not visibly go on
// ("hi!", "hello there", "good morning Mrs Patel"), which may be the whole reply.
func leadInKind(text, name string) (lead, bare bool) {
	if len(text) > MaxLeadInBytes || !leadInEnd(text) && !greetingStart(text) {
		return false, false // most replies: no allocation
	}
	t := strings.ToLower(strings.TrimSpace(text))
	words := strings.FieldsFunc(t, func(r rune) bool { return !unicode.IsLetter(r) && r != '\'' && r != '’' })
	if len(words) == 0 || len(words) > MaxLeadInWords {
		return false, false
	}
	names := strings.FieldsFunc(strings.ToLower(name), func(r rune) bool { return !unicode.IsLetter(r) })
	greeted, onlyGreeting := false, true
	named := 0         // unknown words taken as a name
	addressed := false // the word before may precede a name: a greeting, an address, a name
	for _, w := range words {
		switch {
		case leadInGreetings[w]:
			greeted = greeted || w != "good"
			addressed = w != "good"
		case leadInAddress[w] || slices.Contains(names, w):
			addressed = true
		case leadInHesitations[w] || leadInContinuers[w] || leadInAcks[w]:
			onlyGreeting, addressed = false, false
		case addressed && named < MaxLeadInNameWords && !strings.ContainsAny(w, "'’"):
			named++ // "hi dario": the caller's name, whoever she is
		default:
			return false, false
		}
	}
	if leadInContinuers[words[len(words)-1]] {
		return true, false
	}
	for _, end := range leadInEnds {
		if strings.HasSuffix(t, end) {
			return true, false
		}
	}
	// A greeting alone ("hi", "hello there!", "good morning Mrs Patel") opens the reply
	// that follows, or is the reply if nothing does (LeadInWaitMS); "hello?" asks whether
	// she is there.
	if greeted && onlyGreeting && !strings.HasSuffix(t, "?") {
		return true, true
	}
	return false, false
}

// greetingStart reports, without allocating, whether text's first word is a greeting.
func greetingStart(text string) bool {
	var buf [8]byte
	n, i := 0, 0
	for ; i < len(text); i++ {
		c := text[i]
		if c == ' ' || c == '\t' || c == '\r' || c == '\n' {
			if n == 0 {
				continue
			}
			break
		}
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		if c < 'a' || c > 'z' {
			break
		}
		if n == len(buf) {
			return false
		}
		buf[n] = c
		n++
	}
	if string(buf[:n]) == "good" {
		// "good morning", "good afternoon", "good evening", not "good news".
		rest := strings.TrimLeft(text[i:], " \t\r\n")
		return rest != "" && strings.IndexByte("maeMAE", rest[0]) >= 0
	}
	return n > 0 && leadInGreetings[string(buf[:n])]
}

// MaxLeadInBytes bounds what is looked at as a lead-in.
const MaxLeadInBytes = 80

// leadInEnd reports, without allocating, whether text ends as a lead-in must: in one of
// leadInEnds, or in a continuer ("so", "well").
func leadInEnd(text string) bool {
	t := strings.TrimRight(text, " \t\r\n")
	if t == "" {
		return false
	}
	if c := t[len(t)-1]; 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' {
		last := t[strings.LastIndexAny(t, " \t,.!?;:")+1:]
		for w := range leadInContinuers {
			if strings.EqualFold(last, w) {
				return true
			}
		}
		return false
	}
	for _, end := range leadInEnds {
		if strings.HasSuffix(t, end) {
			return true
		}
	}
	return false
}

// leadInEnds are the marks a message that goes on ends with.
var leadInEnds = []string{"...", "…", ",", ":", "-", "–", "—"}

// speakingAt reports whether the customer is saying a word of the current line, not its
// last, at time at: a reply then interrupts.
func (s *Session) speakingAt(at int64) bool {
	return at < s.lineEnd && at-s.lineStart < wordStart(s.lineWords-1, s.lineWPM, s.linePauses)
}

// MaxRepeatRequestWords bounds a request to repeat ("sorry, could you say that again
// please?").
const MaxRepeatRequestWords = 10

// MaxRepeatRequestBytes bounds what is looked at as a request to repeat.
const MaxRepeatRequestBytes = 80

// repeatCue reports whether text holds a word every request to repeat has one of
// ("what", "pardon", "again", "repeat", "catch", "sorry"…), as a cheap first look.
func repeatCue(text string) bool {
	var buf [MaxRepeatRequestBytes]byte
	if len(text) > len(buf) {
		return false
	}
	words, in := 0, false
	for i := 0; i < len(text); i++ {
		c := text[i]
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
		letter := 'a' <= c && c <= 'z' || c >= 0x80 || c == '\''
		if letter && !in {
			words++
		}
		in = letter
	}
	if words > MaxRepeatRequestWords {
		return false
	}
	lower := buf[:len(text)]
	for _, cue := range repeatCues {
		if bytes.Contains(lower, cue) {
			return true
		}
	}
	return false
}

var repeatCues = func() [][]byte {
	var out [][]byte
	for _, c := range repeatCueWords {
		out = append(out, []byte(c))
	}
	return out
}()

var repeatCueWords = []string{"what", "pardon", "again", "repeat", "catch", "sorry", "come", "hear", "broke",
	"missed", "get that", "break", "cut out", "one more", "follow", "soz", "sry"}

// repeatOpeners may open a request to repeat, and repeatClosers close it; neither is one
// on its own.
var (
	repeatOpeners = set("sorry", "soz", "sry", "oh", "um", "erm", "uh", "hm", "hmm", "apologies", "excuse",
		"me", "im", "i", "am", "very", "so", "really", "just", "ok", "okay", "right", "yes", "yeah")
	repeatClosers = set("please", "pls", "sorry", "again", "for", "me", "thanks", "thank", "you", "mate",
		"once", "more", "time")
)

// notAsking before "what?" make it no request to repeat ("so what?", "ok, what?").
var notAsking = set("so", "ok", "okay", "right", "yes", "yeah", "and")

// repeatCores are what a request to repeat asks, its openers and closers aside.
var repeatCores = set(
	"what", "what was that", "whats that", "what is that", "what did you say", "what did you just say",
	"come again", "say again", "say that again", "say it again", "can you say that again",
	"could you say that again", "would you say that again", "can you say it again",
	"could you say it again", "pardon", "pardon me", "beg your pardon", "i beg your pardon",
	"repeat", "repeat that", "repeat it", "can you repeat", "could you repeat", "would you repeat",
	"can you repeat that", "could you repeat that", "would you repeat that", "can you repeat it",
	"could you repeat it", "would you mind repeating that", "would you mind repeating",
	"mind repeating that", "didnt catch that", "i didnt catch that", "didnt quite catch that",
	"i didnt quite catch that", "i didnt catch what you said", "didnt get that", "i didnt get that",
	"missed that", "i missed that", "i missed what you said", "didnt hear that", "i didnt hear that",
	"i didnt hear you", "didnt hear you", "you broke up", "youre breaking up", "you cut out",
	"one more time", "what was the last bit", "i didnt follow", "i didnt follow that",
	"sorry", "what sorry", "sorry what")

// IsRepeatRequest reports whether a message asks the customer to say her line again:
// "sorry?", "pardon?", "what was that?", "could you say that again please", "sorry, i
// didnt catch that". A bare "sorry" is an apology: only "sorry?" asks.
func IsRepeatRequest(text string) bool {
	if len(text) > MaxRepeatRequestBytes || !repeatCue(text) {
		return false // most replies: no allocation, no word split
	}
	t := strings.TrimSpace(text)
	question := strings.HasSuffix(strings.TrimRight(t, " .!"), "?")
	var words []string
	for _, w := range strings.FieldsFunc(strings.ToLower(t), func(r rune) bool {
		return !unicode.IsLetter(r) && r != '\'' && r != '’'
	}) {
		if strings.ContainsAny(w, "'’") {
			w = strings.ReplaceAll(strings.ReplaceAll(w, "'", ""), "’", "")
		}
		words = append(words, w)
	}
	if len(words) == 0 || len(words) > MaxRepeatRequestWords {
		return false
	}
	core := words
	for len(core) > 1 && repeatOpeners[core[0]] && !repeatCores[strings.Join(core, " ")] {
		core = core[1:]
	}
	for len(core) > 1 && repeatClosers[core[len(core)-1]] && !repeatCores[strings.Join(core, " ")] {
		core = core[:len(core)-1]
	}
	c := strings.Join(core, " ")
	switch c {
	case "sorry", "what", "what sorry", "sorry what":
		// These ask only as a question, and not after "so", "ok", "yes"… ("so what?").
		return question && !slices.ContainsFunc(words, func(w string) bool { return notAsking[w] })
	}
	return repeatCores[c]
}

func set(ws ...string) map[string]bool {
	m := make(map[string]bool, len(ws))
	for _, w := range ws {
		m[w] = true
	}
	return m
}

// computeReplyReads sets each node's replyIntents and replyText, from its transitions'
// and the moving global rules' when (see Node.replyIntents).
func (l *loader) computeReplyReads() {
	var global intentSet
	globalText := false
	for _, r := range l.sc.Rules {
		ints, text := l.ec.replyReads(r.WhenSrc)
		for _, i := range ints {
			l.sc.ruleIntents.add(i)
		}
		if r.To < 0 && !r.Call {
			continue
		}
		for _, i := range ints {
			global.add(i)
		}
		globalText = globalText || text
		if text && r.When != nil {
			l.sc.textRules = append(l.sc.textRules, r)
		}
	}
	for _, n := range l.sc.Nodes {
		n.replyIntents, n.replyText, n.textWays = global, globalText, nil
		for _, t := range n.Transitions {
			if t.WhenSrc == "" {
				continue
			}
			ints, text := l.ec.replyReads(t.WhenSrc)
			for _, i := range ints {
				n.replyIntents.add(i)
			}
			n.replyText = n.replyText || text
			if text && t.When != nil {
				n.textWays = append(n.textWays, t)
			}
		}
	}
}
