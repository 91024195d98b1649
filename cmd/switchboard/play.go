package main

import (
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/switchboard-sim/switchboard/engine"
	"github.com/switchboard-sim/switchboard/engine/debrief"
)

func cmdPlay(env *cliEnv, args []string) int {
	fs := newFlags(env, "play", "SCENARIO", "Roleplay a call in the terminal, on the real clock. The phone rings until you press\nEnter; the customer's words appear at the persona's pace; typing while they speak\ninterrupts them. Type a reply and press Enter, or a suggested reply's number as listed (1, 2,\n...; the list is shuffled per call, so the numbers say nothing about the replies) to pick it.\n/hint shows the suggested replies (when the call offers them on request); /hangup (or\nCtrl-C) hangs up. The debrief prints at the end. In a terminal your first keystroke of a\nreply counts as starting to answer, as in the browser (what you type shows once the\ncustomer has finished speaking); with input from a pipe each line counts from when it\narrives, so the time before it is silence.\nSCENARIO is the id of a shipped scenario or a path to a scenario file.")
	name := fs.String("name", "", "your name, as the customer will hear it (default $USER)")
	coach := fs.Bool("coach", false, "coach mode: show rule feedback as it happens")
	seed := fs.Uint64("seed", 0, "random seed for the scenario's random() (default: a random one)")
	mode := fs.String("suggestions", "", "how suggested replies are offered: never, on_request (/hint) or always,\nat most as generous as the scenario allows (default: the scenario's own)")
	if code, ok := parseFlags(fs, env, args); !ok {
		return code
	}
	if fs.NArg() != 1 {
		fmt.Fprintln(env.stderr, "switchboard play: give one SCENARIO (an id or a path)")
		return 2
	}
	sc, code := loadOne(env, "play", fs.Arg(0))
	if sc == nil {
		return code
	}
	if *name == "" {
		*name = env.getenv("USER")
	}
	if *seed == 0 {
		*seed = rand.Uint64()
	}
	p := &player{env: env, sc: sc, coach: *coach, start: time.Now(), mode: sc.Suggestions}
	if f, ok := env.stdin.(*os.File); ok {
		restore, tty := keystrokes(f)
		defer restore()
		p.tty = tty
	}
	if *mode != "" {
		m, ok := engine.ParseSuggestionMode(*mode)
		if !ok || !slices.Contains(sc.AllowedModes(), m) {
			fmt.Fprintf(env.stderr, "switchboard play: --suggestions must be one of %v for %s\n", sc.AllowedModes(), sc.ID)
			return 2
		}
		p.mode = m
	}
	p.play(*seed, *name)
	return 0
}

// player drives one session on the real clock and renders it in the terminal.
type player struct {
	env   *cliEnv
	sc    *engine.Scenario
	s     *engine.Session
	coach bool
	mode  engine.SuggestionMode
	start time.Time
	steps []debrief.Step // each input and its outputs, for the debrief
	name  string

	// The line being spoken: its words and when each is due.
	words     []string
	lineStart int64
	msPerWord int64
	lineDur   int64          // the current line's duration, its pauses included
	pauses    []engine.Pause // the pauses inside the current line
	printed   int
	pending   []engine.Output // shown once the current line has been spoken
	choices   []engine.ChoiceShown

	// From a terminal (tty) play sees each keystroke: input is the reply being typed,
	// shown after a "> " prompt (promptShown) whenever the customer is not speaking.
	tty         bool
	input       string
	promptShown bool
}

// w is where play writes: the prompt line, when shown, is cleared first.
func (p *player) w() io.Writer {
	if p.promptShown {
		fmt.Fprint(p.env.stdout, "\r\x1b[K")
		p.promptShown = false
	}
	return p.env.stdout
}

// drawPrompt shows the reply being typed, in a terminal, while the customer is silent.
func (p *player) drawPrompt() {
	if !p.tty || p.s.Ended() || p.words != nil {
		return
	}
	fmt.Fprint(p.w(), "> "+p.input)
	p.promptShown = true
}

// typing tells the session the trainee started a reply, when it is one it takes now (not
// while the phone rings, say).
func (p *player) typing() {
	ev := engine.Event{Type: engine.EventTyping, At: p.now()}
	if p.s.Check(ev) == nil {
		p.apply(ev)
	}
}

func (p *player) now() int64 { return time.Since(p.start).Milliseconds() }

func (p *player) play(seed uint64, trainee string) {
	w := p.w()
	fmt.Fprintf(w, "%s\n%s\n", p.sc.Title, strings.Repeat("=", len([]rune(p.sc.Title))))
	fmt.Fprintf(w, "%s\n", p.sc.Brief)
	if p.sc.Lesson != "" {
		fmt.Fprintf(w, "Lesson: %s\n", p.sc.Lesson)
	}
	fmt.Fprintf(w, "\nType a reply and press Enter; a suggested reply's number (1, 2, ...) picks it; /hint shows them; /hangup hangs up.\n\n")

	keys := make(chan keyEvent)
	go readKeys(p.env.stdin, p.tty, keys)

	p.s = p.sc.NewSession(seed, trainee)
	p.name = trainee
	_ = p.s.SetSuggestions(p.mode) // checked in cmdPlay
	start := p.s.Start(nil)
	p.steps = append(p.steps, debrief.Step{Out: slices.Clone(start)})
	p.show(start)
	timer := time.NewTimer(time.Hour)
	defer timer.Stop()
	for !p.s.Ended() {
		wake, ok := p.nextWake()
		if !ok {
			wake = p.now() + int64(time.Hour/time.Millisecond)
		}
		timer.Reset(time.Duration(max(wake-p.now(), 0)) * time.Millisecond)
		select {
		case k, open := <-keys:
			switch {
			case !open:
				keys = nil
			case k.kind == keyTyping:
				p.typing()
			case k.kind == keyEdit:
				p.input = k.buf
			case k.kind == keyLine:
				if p.tty { // what was sent stays on screen, below the customer's words
					if p.words != nil {
						fmt.Fprintln(p.w())
					}
					fmt.Fprintln(p.w(), "> "+k.buf)
				}
				p.input = ""
				p.handle(k.buf)
			case k.kind == keyEOF:
				p.apply(engine.Event{Type: engine.EventHangup, At: p.now()})
			}
		case <-timer.C:
			p.tick()
		}
		if !p.s.Ended() {
			p.drawPrompt()
		}
	}
	// Let the customer finish their last line at their pace before the debrief.
	for p.printed < len(p.words) {
		due := p.wordAt(p.printed)
		time.Sleep(time.Duration(max(due-p.now(), 0)) * time.Millisecond)
		p.tick()
	}
	p.flushLine()
	p.debrief()
}

// nextWake is when the next word is due or the session's timer fires.
func (p *player) nextWake() (int64, bool) {
	var at int64
	ok := false
	if p.printed < len(p.words) {
		at, ok = p.wordAt(p.printed), true
	} else if p.words != nil || len(p.pending) > 0 { // the line's end: finish it off
		at, ok = p.lineStart+p.lineDur, true
	}
	if d, has := p.s.NextDeadline(); has && (!ok || d < at) {
		at, ok = d, true
	}
	return at, ok
}

// wordAt is when word k of the current line is printed: at the line's pace, held back by
// the pauses before it ({pause D}).
func (p *player) wordAt(k int) int64 {
	at := p.lineStart + int64(k)*p.msPerWord
	for _, pa := range p.pauses {
		if pa.After <= k {
			at += pa.MS
		}
	}
	return at
}

func (p *player) tick() {
	now := p.now()
	for p.printed < len(p.words) && p.wordAt(p.printed) <= now {
		fmt.Fprint(p.w(), p.words[p.printed]+" ")
		p.printed++
	}
	if p.printed == len(p.words) && p.lineStart+p.lineDur <= now {
		p.flushLine()
	}
	if d, ok := p.s.NextDeadline(); ok && d <= now {
		p.apply(engine.Event{Type: engine.EventTimeout, At: now})
	}
}

func (p *player) handle(line string) {
	at := p.now()
	text := strings.TrimSpace(line)
	if p.s.Node() != "" && p.sc.Node(p.s.Node()).Ring {
		if text == "/hangup" || text == "/h" {
			p.apply(engine.Event{Type: engine.EventHangup, At: at})
			return
		}
		p.apply(engine.Event{Type: engine.EventAnswer, At: at})
		return
	}
	switch {
	case text == "":
		return
	case text == "/hangup" || text == "/h":
		p.apply(engine.Event{Type: engine.EventHangup, At: at})
	case text == "/hint":
		p.apply(engine.Event{Type: engine.EventHint, At: at})
	case text == "/help":
		fmt.Fprintln(p.w(), "  (type a reply, a suggested reply's number (1, 2, ...), /hint to see them, /hangup to hang up)")
	default:
		// Suggested replies are numbered as listed, from 1: the list is shuffled per
		// call, so a number says nothing about which reply it is. (Tests and transcripts
		// use the reply's index in the node's choices instead.)
		if n, err := strconv.Atoi(text); err == nil && n >= 1 && n <= len(p.choices) {
			p.apply(engine.Event{Type: engine.EventChoose, At: at, Index: p.choices[n-1].Index})
			return
		}
		p.apply(engine.Event{Type: engine.EventSay, At: at, Text: text})
	}
}

func (p *player) apply(ev engine.Event) {
	step := debrief.Step{Event: &ev}
	if earns, ok := p.s.ModelEarns(ev); ok { // before the reply changes the session
		step.ModelEarns = &earns
	}
	outs, err := p.s.Apply(ev, nil)
	if err != nil {
		fmt.Fprintf(p.w(), "  (not accepted: %v)\n", err)
		return
	}
	step.Out = slices.Clone(outs)
	p.steps = append(p.steps, step)
	p.show(outs)
	if p.input != "" && ev.Type != engine.EventTyping && !p.s.Ended() &&
		slices.ContainsFunc(outs, func(o engine.Output) bool { return o.Type == engine.OutLine }) {
		// A reply still being typed at a new line: say so again, as the browser does.
		p.typing()
	}
}

// show renders outputs: lines start streaming, the rest waits until the line is spoken.
func (p *player) show(outs []engine.Output) {
	// When the call moves on (a new line, or the end), suggestions held back for the
	// line that was cut off belong to the node the call left: they are dropped.
	movesOn := slices.ContainsFunc(outs, func(o engine.Output) bool { return o.Type == engine.OutLine || o.Type == engine.OutEnd })
	for _, o := range outs {
		switch o.Type {
		case engine.OutLine:
			p.choices = nil
			p.flushLine()
			p.words = strings.Fields(o.Text)
			p.lineStart, p.printed = o.At, 0
			p.lineDur, p.pauses = o.Duration, o.Pauses
			speaking := o.Duration
			for _, pa := range o.Pauses {
				speaking -= pa.MS
			}
			p.msPerWord = speaking / int64(max(o.Words, 1))
			fmt.Fprintf(p.w(), "%s: ", p.personaName())
		case engine.OutCut:
			fmt.Fprintln(p.w(), "— (cut off)")
			p.words, p.printed = nil, 0
			if movesOn {
				p.pending = slices.DeleteFunc(p.pending, func(o engine.Output) bool { return o.Type == engine.OutChoices })
				p.choices = nil
			}
			p.flushPending()
		default:
			if p.printed < len(p.words) {
				p.pending = append(p.pending, o)
			} else {
				p.print(o)
			}
		}
	}
	p.tick()
}

func (p *player) personaName() string {
	if p.sc.Persona.Name != "" {
		return p.sc.Persona.Name
	}
	return "Customer"
}

// flushLine prints what is left of the current line and what waited for it.
func (p *player) flushLine() {
	if p.words != nil {
		for ; p.printed < len(p.words); p.printed++ {
			fmt.Fprint(p.w(), p.words[p.printed]+" ")
		}
		fmt.Fprintln(p.w())
		p.words, p.printed = nil, 0
	}
	p.flushPending()
}

func (p *player) flushPending() {
	pending := p.pending
	p.pending = nil
	for _, o := range pending {
		p.print(o)
	}
}

func (p *player) print(o engine.Output) {
	w := p.w()
	switch o.Type {
	case engine.OutRing:
		fmt.Fprintln(w, "☎  Ring ring… (press Enter to answer)")
	case engine.OutChoices:
		p.choices = o.Choices
		for i, c := range o.Choices {
			fmt.Fprintf(w, "   %d) %s\n", i+1, c.Text)
		}
	case engine.OutFeedback:
		if p.coach && o.Text != "" {
			fmt.Fprintf(w, "   ⚑ %s\n", o.Text)
		}
	case engine.OutWhisper:
		fmt.Fprintf(w, "   (supervisor) %s\n", o.Text)
	case engine.OutError:
		fmt.Fprintf(w, "   (scenario error: %s)\n", o.Text)
	case engine.OutEnd:
		fmt.Fprintln(w, "\n— the call has ended —")
	}
}

// debrief prints the call's debrief, as switchboard report prints a recorded call's: the
// transcript with what each reply was understood as, the points it lost and a strong
// answer where it cost any, the rules that fired, the scores and the rules that never did.
func (p *player) debrief() {
	rec := debrief.Live(p.sc, "(played in the terminal, not recorded)", p.name, p.start, p.steps, p.s.End())
	fmt.Fprintln(p.w())
	if err := rec.WriteText(p.env.stdout); err != nil {
		fmt.Fprintf(p.env.stderr, "switchboard play: writing the debrief: %v\n", err)
	}
}
