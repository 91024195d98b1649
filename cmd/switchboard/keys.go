package main

import (
	"bufio"
	"io"
	"unicode/utf8"
)

// keyKind is what a keystroke (or a run of input bytes) did to the reply being typed.
type keyKind int

const (
	keyTyping keyKind = iota // the first character of a reply: the trainee started typing
	keyEdit                  // the reply being typed changed (buf holds it)
	keyLine                  // Enter: buf is the reply
	keyEOF                   // the input ended (Ctrl-D on an empty reply, or end of a pipe)
)

// keyEvent is one step of the reply being typed.
type keyEvent struct {
	kind keyKind
	buf  string
}

// Control bytes of a terminal in non-canonical mode.
const (
	ctrlC     = 0x03
	ctrlD     = 0x04
	backspace = 0x08
	ctrlU     = 0x15
	escape    = 0x1b
	del       = 0x7f
)

// maxReplyBytes bounds a reply typed in the terminal (as the protocol's message limit).
const maxReplyBytes = 64 << 10

// readKeys reads the trainee's input byte by byte and sends what it does to the reply
// being typed: keyTyping at its first character (the moment the trainee starts to
// answer, as the browser's typing message), keyEdit at each change, keyLine at Enter,
// keyEOF at the end. From a terminal in non-canonical mode (tty) the bytes come as they
// are typed, so Backspace and Ctrl-U edit, Ctrl-C hangs up and Ctrl-D on an empty reply
// ends the input; escape sequences (arrow keys) are ignored. From a pipe a whole line
// comes at once, so its keyTyping comes as it is sent. It closes out when done.
func readKeys(r io.Reader, tty bool, out chan<- keyEvent) {
	defer close(out)
	br := bufio.NewReader(r)
	var buf []byte
	skipLF := false // a '\r' ended the line: a '\n' right after it is part of it
	edit := func() { out <- keyEvent{kind: keyEdit, buf: string(buf)} }
	for {
		b, err := br.ReadByte()
		if err != nil {
			if len(buf) > 0 && !tty {
				out <- keyEvent{kind: keyLine, buf: string(buf)} // a last line without its newline
			}
			out <- keyEvent{kind: keyEOF}
			return
		}
		if skipLF && b == '\n' {
			skipLF = false
			continue
		}
		skipLF = false
		switch {
		case b == '\r' || b == '\n':
			skipLF = b == '\r'
			out <- keyEvent{kind: keyLine, buf: string(buf)}
			buf = buf[:0]
		case tty && (b == del || b == backspace):
			if len(buf) > 0 {
				_, size := utf8.DecodeLastRune(buf)
				buf = buf[:len(buf)-size]
				edit()
			}
		case tty && b == ctrlU:
			buf = buf[:0]
			edit()
		case tty && b == ctrlC:
			out <- keyEvent{kind: keyLine, buf: "/hangup"}
			buf = buf[:0]
		case tty && b == ctrlD:
			if len(buf) == 0 {
				out <- keyEvent{kind: keyEOF}
				return
			}
		case tty && b == escape:
			// An escape sequence: ESC [ ... final byte, or ESC and one byte.
			if c, err := br.ReadByte(); err == nil && (c == '[' || c == 'O') {
				for {
					f, err := br.ReadByte()
					if err != nil || f >= 0x40 && f <= 0x7e {
						break
					}
				}
			}
		case b < 0x20 && b != '\t':
			// Other control bytes type nothing.
		default:
			if len(buf) >= maxReplyBytes {
				continue
			}
			if len(buf) == 0 {
				out <- keyEvent{kind: keyTyping}
			}
			if b == '\t' {
				b = ' '
			}
			buf = append(buf, b)
			if tty && utf8.Valid(buf) { // not in the middle of a character
				edit()
			}
		}
	}
}
