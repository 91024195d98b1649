package engine

import (
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// Limits of a scenario's card (the optional top-level keys tags, difficulty and length,
// shown in the trainee's scenario picker).
const (
	MaxTags      = 6                   // tags on one scenario
	MaxTagRunes  = 24                  // characters in one tag
	MaxLengthMS  = 60 * 60 * 1000      // the longest typical length a scenario may declare: 1h
	minLengthMS  = 10 * 1000           // the shortest: 10s
	lengthFormat = "such as 90s or 3m" // in error messages
)

// VoiceKeys are the keys of persona.voice; Genders the values of its gender.
var (
	VoiceKeys = []string{"gender", "lang", "pitch"}
	Genders   = []string{"female", "male"}
)

// Voice hints the browser's choice of a speech voice for the persona. Every field is
// optional; a browser without a matching voice uses another, or none.
type Voice struct {
	Gender string  `json:"gender,omitempty"` // "female" or "male"
	Lang   string  `json:"lang,omitempty"`   // a BCP 47 language tag such as "en-GB" (the accent)
	Pitch  float64 `json:"pitch,omitempty"`  // 0.5 to 2, 1 is the voice's own
}

var langRE = regexp.MustCompile(`^[a-z]{2,3}(-[A-Za-z0-9]{2,8})*$`)

// voice reads persona.voice.
func (l *loader) voice(r *reader, n *yaml.Node) {
	pairs, ok := r.mapping(n, "persona.voice", VoiceKeys)
	if !ok {
		return
	}
	v := &Voice{}
	for _, p := range pairs {
		switch p.key {
		case "gender":
			if s, ok := r.str(p.value, "persona.voice.gender"); ok {
				if slices.Contains(Genders, s) {
					v.Gender = s
				} else {
					r.errorf(p.value, "persona.voice.gender %q must be one of %s%s", s, strings.Join(Genders, ", "), didYouMean(s, Genders))
				}
			}
		case "lang":
			if s, ok := r.str(p.value, "persona.voice.lang"); ok {
				if langRE.MatchString(s) {
					v.Lang = s
				} else {
					r.errorf(p.value, "persona.voice.lang %q must be a language tag such as en-GB or en-US", s)
				}
			}
		case "pitch":
			if f, ok := r.number(p.value, "persona.voice.pitch"); ok {
				if f < 0.5 || f > 2 {
					r.errorf(p.value, "persona.voice.pitch must be between 0.5 and 2 (1 is the voice's own)")
				} else {
					v.Pitch = f
				}
			}
		}
	}
	l.sc.Persona.Voice = v
}

// Difficulties are the levels a scenario may declare, easiest first.
var Difficulties = []string{"beginner", "intermediate", "advanced"}

// Card is how the trainee's scenario picker presents a scenario. Every field is optional.
type Card struct {
	// Tags are the skills the scenario practises ("listening", "honesty"), lower case,
	// in the designer's order.
	Tags []string
	// Difficulty is one of Difficulties, or "".
	Difficulty string
	// LengthMS is the typical length of a call in milliseconds, or 0.
	LengthMS int64
}

// card reads the scenario's tags, difficulty and length.
func (l *loader) card(top decl) {
	r, c := top.r, &l.sc.Card
	if p, ok := top.pairs["tags"]; ok {
		if items, ok := r.list(p.value, "tags"); ok {
			if len(items) > MaxTags {
				r.errorf(p.value, "tags has %d entries; the limit is %d", len(items), MaxTags)
			}
			seen := map[string]bool{}
			for _, it := range items {
				s, ok := r.str(it, "a tag")
				if !ok {
					continue
				}
				tag := strings.ToLower(strings.Join(strings.Fields(s), " "))
				switch {
				case tag == "":
					r.errorf(it, "a tag must not be empty")
				case utf8.RuneCountInString(tag) > MaxTagRunes:
					r.errorf(it, "the tag %q is %d characters; the limit is %d", tag, utf8.RuneCountInString(tag), MaxTagRunes)
				case seen[tag]:
					r.errorf(it, "the tag %q is listed twice", tag)
				default:
					seen[tag] = true
					c.Tags = append(c.Tags, tag)
				}
			}
		}
	}
	if p, ok := top.pairs["difficulty"]; ok {
		if s, ok := r.str(p.value, "difficulty"); ok {
			if slices.Contains(Difficulties, s) {
				c.Difficulty = s
			} else {
				r.errorf(p.value, "difficulty %q must be one of %s%s", s, strings.Join(Difficulties, ", "), didYouMean(s, Difficulties))
			}
		}
	}
	if p, ok := top.pairs["length"]; ok {
		if ms, ok := r.duration(p.value, "length"); ok {
			if ms < minLengthMS || ms > MaxLengthMS {
				r.errorf(p.value, "length must be between %s and %s (%s), the typical length of a call", FormatDuration(minLengthMS), FormatDuration(MaxLengthMS), lengthFormat)
			} else {
				c.LengthMS = ms
			}
		}
	}
}
