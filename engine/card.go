package engine

import (
	"slices"
	"strings"
	"unicode/utf8"
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
