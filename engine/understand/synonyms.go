package understand

import (
	"strings"
	"sync"
)

// Synonyms: groups of words and phrases that mean the same in a customer call. A phrase
// written with one member of a group also matches text that says it with any other member
// ("put you through to my manager" matches "put you through to my supervisor"; "turn it
// off" matches "switch it off" and "shut it down"). The variants are compiled at load, so
// matching costs nothing more; an explanation names the phrase as the designer wrote it.
// The groups are few and strict on purpose: every member must be replaceable by every other
// in any phrase, so words with other common senses ("get", "check", "look", "sort",
// "delay") are left out.

// MaxSynonymVariants is how many spellings of a phrase with synonyms swapped in are
// matched besides the phrase as written.
const MaxSynonymVariants = 12

// SynonymGroups are the built-in groups (docs/scenario-format.md, step 7).
var SynonymGroups = [][]string{
	{"manager", "supervisor", "team leader", "line manager", "boss", "someone senior"},
	{"mistake", "error", "blunder", "screw up", "cock up"},
	{"fetch", "grab", "bring"},
	{"restart", "reboot"},
	{"turn off", "switch off", "power off", "shut down"},
	{"turn it off", "switch it off", "power it off", "shut it down"},
	{"turn on", "switch on", "power on", "boot up"},
	{"turn it on", "switch it on", "power it on", "boot it up"},
	{"turn it back on", "switch it back on", "power it back on", "start it back up"},
	// Not "as soon as possible": that promises no time ("someone will call as soon as
	// possible" is vague where "right now" is not).
	{"right away", "straight away", "immediately", "at once", "right now", "without delay"},
	{"refund", "reimburse", "money back"},
	{"cable", "lead", "cord"},
	// "=connected": only that form, so the group does not reach "connection".
	{"plugged in", "=connected", "plugged into"},
	{"hold on", "hang on", "hang about"},
	{"no problem", "no worries", "not a problem", "no bother", "no trouble"},
	{"thank you", "thanks", "cheers", "ta"},
	{"unfortunately", "sadly", "regrettably"},
	{"swap", "exchange"},
	{"buy", "purchase"},
	{"price", "cost"},
	{"temporary", "interim", "provisional", "temp"},
	{"congratulations", "congrats", "congratz"},
	{"condolences", "sympathies"},
	{"calm down", "settle down", "chill out", "chill"},
	{"customer relations", "customer services", "customer service", "customer care", "complaints team", "complaints department"},
	{"put you through", "transfer you", "connect you", "pass you over", "pass you on"},
	{"call you back", "ring you back", "phone you back"},
	{"speak to", "talk to"},
	{"helpdesk", "service desk", "it support", "support team", "tech support"},
	{"postcode", "zip code", "post code"},
	{"due date", "payment date", "billing date", "bill date"},
	{"bill", "invoice"},
	{"colleague", "coworker", "co worker", "workmate"},
	{"stockroom", "storeroom", "back room", "stock room"},
	{"postpone", "defer", "put off", "hold off"},
	{"laptop", "notebook"},
	{"sorted", "taken care of", "dealt with"},
	{"spare", "backup", "loaner"},
	{"doctor", "gp"},
}

// synMember is one member of a synonym group, compiled: pats, by stem, find it in a
// phrase; ins are put in its place in another member's phrase (a "=word" member is
// put in as that exact form).
type synMember struct {
	group int
	pats  []pattern
	ins   []pattern
}

// synonyms indexes the members of SynonymGroups by their first stem.
type synonymIndex struct {
	groups [][]synMember
	first  map[string][]synMember
}

// synonyms is built on first use (a lexicon's compiling), with the word list's stems.
var synonyms = sync.OnceValue(func() synonymIndex {
	si := synonymIndex{first: map[string][]synMember{}}
	for g, members := range SynonymGroups {
		var ms []synMember
		for _, m := range members {
			sm := synMember{group: g}
			for f := range strings.FieldsSeq(m) {
				exact := strings.HasPrefix(f, "=")
				for _, t := range canonicalWords(strings.TrimPrefix(f, "=")) {
					sm.pats = append(sm.pats, pattern{kind: patStem, s: t[1], w: t[0]})
					if exact {
						sm.ins = append(sm.ins, pattern{kind: patExact, s: t[0]})
					} else {
						sm.ins = append(sm.ins, pattern{kind: patStem, s: t[1], w: t[0]})
					}
				}
			}
			ms = append(ms, sm)
			si.first[sm.pats[0].s] = append(si.first[sm.pats[0].s], sm)
		}
		si.groups = append(si.groups, ms)
	}
	return si
})

// canonicalWords runs steps 1–4 on s and returns each word with its stem, as a phrase's
// words are stemmed (so "payment date" is stemmed as "pay date").
func canonicalWords(s string) [][2]string {
	var out [][2]string
	for _, t := range canonical(s) {
		out = append(out, [2]string{t.Word, t.Stem})
	}
	return out
}

// synonymVariants returns p spelled with each other member of a synonym group in place of
// a member it contains, at most MaxSynonymVariants.
func synonymVariants(p phrase) []phrase {
	var out []phrase
	for i := 0; i < len(p.pats) && len(out) < MaxSynonymVariants; i++ {
		if p.pats[i].kind != patStem {
			continue
		}
		for _, m := range synonyms().first[p.pats[i].s] {
			if !stemsAt(p.pats, i, m.pats) {
				continue
			}
			for _, o := range synonyms().groups[m.group] {
				if len(out) >= MaxSynonymVariants || samePats(o.pats, m.pats) {
					continue
				}
				v := p
				v.pats = append(append(append([]pattern(nil), p.pats[:i]...), o.ins...), p.pats[i+len(m.pats):]...)
				markArticles(v.pats)
				out = append(out, v)
			}
		}
	}
	return out
}

func stemsAt(pats []pattern, i int, m []pattern) bool {
	if i+len(m) > len(pats) {
		return false
	}
	for k, mp := range m {
		if pats[i+k].kind != patStem || pats[i+k].s != mp.s {
			return false
		}
	}
	return true
}

func samePats(a, b []pattern) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i].s != b[i].s {
			return false
		}
	}
	return true
}
