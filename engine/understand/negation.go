package understand

import "slices"

// Step 6: negation scope, after NegEx (Chapman et al., 2001). A trigger ("not", "no",
// "never", "without", "nothing", "nobody", "neither", "nor", "instead of", "rather than",
// "skip", "forget", "refuse to"; verbs that set something aside, with conditions: "drop",
// "ditch", "scrap", "scratch", "shelve" before their object, "hold off", "leave ... for
// now"; contractions are already "not", so "won't", "don't", "can't" and "no need"
// are triggers too) negates the words after it, up to NegScopeWords tokens, stopping at the
// end of the clause (. , ; : ! ? dashes, brackets, quotes, new lines) or at a scope end
// ("but", "however", "although", "though", "yet", "except", "because", "since", "while",
// "whereas", "unless", "so", "and" before a new subject or a new clause, a new clause typed
// without a comma, "for" after a negated charge to the customer). Pseudo-triggers
// look like negations but are not ("no problem", "no worries", "no doubt", "dont worry").
// A post-trigger ("not needed", "unnecessary", "not necessary", "not required") negates the
// words up to PostScopeWords before it in its clause ("an upgrade isn't needed").

// Negation limits.
const (
	// NegScopeWords is how many words after a trigger it can negate, not counting
	// scopeFree words.
	NegScopeWords = 6
	// PostScopeWords is how many tokens before a post-trigger it can negate.
	PostScopeWords = 4
)

// triggers, as canonical words (after contractions).
var triggers = [][]string{
	{"not"}, {"no"}, {"never"}, {"without"}, {"nothing"}, {"nobody"}, {"neither"}, {"nor"},
	{"instead", "of"}, {"rather", "than"}, {"skip"}, {"skipping"}, {"forget"}, {"forget", "about"},
	{"none", "of"}, {"never", "mind"}, {"refuse", "to"}, {"refusing", "to"}, {"doubt"},
}

// pseudoTriggers start with a trigger word but negate nothing.
var pseudoTriggers = [][]string{
	{"no", "problem"}, {"no", "problems"}, {"not", "a", "problem"}, {"no", "worries"}, {"no", "worry"},
	{"no", "doubt"}, {"no", "matter"}, {"not", "at", "all"},
	{"no", "sorry"}, {"if", "not"}, {"or", "not"}, {"no", "thanks"}, {"no", "thank"}, {"no", "rush"},
	{"no", "pressure"}, {"no", "hurry"}, {"no", "wonder"}, {"not", "to", "worry"},
	{"nothing", "else"}, {"no", "bother"}, {"no", "trouble"}, {"no", "idea"}, {"not", "sure"},
	{"not", "mind"}, {"not", "only"}, {"no", "question"}, {"no", "fuss"}, {"not", "bad"},
	{"no", "stress"}, {"nothing", "but"}, {"not", "least"}, {"no", "sweat"}, {"never", "been", "better"},
	// Reassurance: "dont worry about the taxi its on us", "no need to worry the car is
	// ready", "without a doubt our mistake".
	{"not", "worry"}, {"not", "you", "worry"}, {"no", "need", "to", "worry"}, {"nothing", "to", "worry"},
	{"without", "a", "doubt"}, {"without", "doubt"}, {"never", "fear"}, {"not", "an", "issue"},
	{"not", "a", "bother"}, {"no", "harm"},
}

// pseudoNouns are the nouns of two-word pseudo-triggers ("no rush") that the "no" still
// denies, though it negates nothing after them.
var pseudoNouns = set("problem", "problems", "worries", "worry", "rush", "pressure", "hurry", "bother",
	"trouble", "fuss", "stress", "sweat", "harm")

// pseudoAfter are pseudo-triggers that start one word before their trigger: "i cant wait",
// "couldnt be happier".
var pseudoAfter = [][]string{
	{"can", "not", "wait"}, {"could", "not", "wait"}, {"can", "not", "thank"},
	{"could", "not", "be", "happier"}, {"could", "not", "agree"},
	// "youd be mad not to grab it": urging, not a refusal.
	{"mad", "not", "to"}, {"crazy", "not", "to"}, {"silly", "not", "to"}, {"foolish", "not", "to"},
	{"daft", "not", "to"}, {"nuts", "not", "to"},
	// A suggestion: "why not freeze it instead?"
	{"why", "not"},
}

// negFirst holds the first words of triggers and pseudo-triggers.
var negFirst = func() map[string]bool {
	m := map[string]bool{}
	for _, ts := range [][][]string{triggers, pseudoTriggers} {
		for _, t := range ts {
			m[t[0]] = true
		}
	}
	return m
}()

// mayStartNegation is a fast pre-check for negFirst (a switch costs less than a map
// look-up on every word); TestNegFirstSwitch keeps the two in step.
func mayStartNegation(w string) bool {
	switch w {
	case "not", "no", "never", "without", "nothing", "nobody", "neither", "nor", "instead", "rather",
		"skip", "skipping", "forget", "none", "if", "or", "refuse", "refusing", "doubt":
		return negFirst[w]
	}
	return false
}

// pseudoOnly are first words of pseudo-triggers that are not triggers themselves.
var pseudoOnly = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range pseudoTriggers {
		m[t[0]] = true
	}
	for _, t := range triggers {
		delete(m, t[0])
	}
	return m
}()

// discourse markers end a negation's scope once a word that is neither a filler nor
// scope-free stands before them in it: "i cant upgrade you sorry" and "no refund sorry" are
// apologies, "im not sorry" and "im not really sorry" are not.
// "just" too, where it contrasts ("no suite nonsense just a room at our partner hotel");
// right after the trigger it is still inside ("i cant just refund it").
var discourse = set("sorry", "please", "thanks", "thank", "unfortunately", "sadly", "okay", "apologies",
	"just")

// sayVerbs after a trigger negate even a phrase that carries its own negation ("i didnt
// mean you cant afford it", "im not saying its not for you").
var sayVerbs = set("say", "said", "saying", "mean", "meant", "suggest", "suggesting", "implying",
	"imply", "tell", "telling", "told", "claim", "claiming")

// postFirst holds the first stems of post-triggers.
var postFirst = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range slices.Concat(postTriggers, subjectPost) {
		m[t[0]] = true
	}
	return m
}()

// affirmations are denied by a "not" right after them ("of course not").
var affirmations = set("course", "certainly", "absolutely", "definitely", "sure", "surely")

// postTriggers, as stems.
var postTriggers = [][]string{
	{"not", "need"}, {"not", "necessari"}, {"unnecessari"}, {"not", "requir"}, {"need", "not"},
	{"not", "need", "anymor"},
}

// scopeEnds end a negation's scope.
var scopeEnds = set("but", "however", "although", "though", "yet", "except", "because", "since",
	"while", "whereas", "unless", "otherwise", "anyway", "still", "instead", "so", "then", "whilst",
	// "the engineer cant come till 1pm": not before a time is at that time; "you wont pay
	// anything after the final payment" has a final payment.
	"until", "till", "til", "before", "after")

// newSubject after "and" starts a new clause ("i won't wrap it and i'll be quick").
var newSubject = set("i", "we", "you", "they", "it", "he", "she", "that", "this", "there", "let", "your", "my", "our")

// worryAbout reports whether the pseudo-trigger p at i is "not worry about X": that one
// does negate X ("dont worry about the wrapping" is no wrapping), where "dont worry, ill
// refund it" and "dont worry the car is ready" reassure.
func worryAbout(ts []Token, i int, p []string) bool {
	j := i + len(p)
	return p[len(p)-1] == "worry" && j < len(ts) && ts[j].Word == "about" && ts[j].Clause == ts[i].Clause
}

// determiners may start the subject of a new clause after "and" ("i wont upgrade you and
// the refund is on us").
var determiners = set("the", "a", "an", "this", "these", "those", "his", "her", "their")

// finiteVerbs after a determiner and up to two more words make that a new clause's subject.
var finiteVerbs = set("is", "are", "was", "were", "will", "would", "can", "could", "has", "have",
	"had", "does", "did", "should", "shall", "must", "may", "might")

// relatives between a determiner and a verb make the verb part of the noun phrase ("the
// premium one that is ...").
var relatives = set("that", "which", "who", "whose", "where")

// possessives may start a new clause's subject too ("cant give you your room tonight our
// partner hotel has one").
var possessives = set("our", "your", "my")

// pronounSubjects followed at once by a finite verb start a new clause ("dont worry about
// the taxi its on us", "no upgrade needed you will love the room"); "that" and "which"
// are left out, as they start relative clauses ("nothing that is cheaper").
var pronounSubjects = set("it", "this", "there", "you")

// startsClause reports whether a clause with its own subject and verb starts at j: a
// determiner, at most two more words, then a finite verb, all in one clause.
func startsClause(ts []Token, j int) bool {
	return startsClauseWith(ts, j, determiners)
}

// startsNewClause is startsClause without an "and" before it: possessives may start the
// subject too, and a subject pronoun followed at once by a finite verb is a clause.
func startsNewClause(ts []Token, j int) bool {
	if pronounSubjects[ts[j].Word] {
		return j+1 < len(ts) && ts[j+1].Clause == ts[j].Clause && finiteVerbs[ts[j+1].Word]
	}
	return startsClauseWith(ts, j, determiners) || startsClauseWith(ts, j, possessives)
}

func startsClauseWith(ts []Token, j int, starts map[string]bool) bool {
	if !starts[ts[j].Word] {
		return false
	}
	for k := j + 1; k < len(ts) && k <= j+3 && ts[k].Clause == ts[j].Clause; k++ {
		switch {
		case relatives[ts[k].Word], subjects[ts[k].Word], pronounSubjects[ts[k].Word]:
			return false // the verb has a subject of its own ("the taxi its on us")
		case finiteVerbs[ts[k].Word]:
			return k > j+1
		}
	}
	return false
}

// scopeFree words do not count towards NegScopeWords: articles, "to", "be", "going" and
// object pronouns ("not going to make you log a ticket" reaches "ticket").
var scopeFree = set("a", "an", "the", "to", "be", "going", "any", "some", "my", "your", "our", "his",
	"her", "their", "it", "you", "me", "us", "them")

// subjects are pronouns that are only ever subjects: one of them after the trigger's first
// following word starts a new clause typed without a comma ("no need for my supervisor ill
// sort a car", "never mind the ticket i can fix it"), unless a thought or a saying carries
// the negation into it ("i dont think we have any", "never said we had it") or it stands
// right after the trigger ("no way im refunding").
var subjects = set("i", "we", "they", "he", "she")

// carriers carry a negation over a new subject: thinking and saying verbs (neg-raising).
var carriers = set("think", "thought", "believe", "suppose", "expect", "reckon", "guess", "imagine",
	"say", "said", "saying", "mean", "meant", "suggest", "suggesting", "tell", "told", "claim",
	"claiming", "that", "if", "whether", "know", "sure", "promise", "way", "guarantee", "confirm",
	"see", "check", "feel", "agree", "remember", "recall", "realise", "realize", "realised",
	"realized", "aware", "hope", "why", "how", "what", "when", "where", "who", "which", "seem",
	"seems", "find", "found", "hear", "heard", "notice", "noticed", "understand", "pretend", "assume", "accept", "admit",
	"pretending", "act", "acting", "doubt",
	// A clause with its "that" left out, after an indefinite: "thats not something we are
	// allowed to do", "there isnt much we can do".
	"something", "anything", "thing", "things", "much", "everything", "all", "one")

// charges: a negated charge to the customer does not negate what it is for ("we wont
// charge you for the taxi" is a taxi, free; "no charge for the cab"; "it wont cost you a
// penny for the upgrade").
var charges = set("charge", "charging", "charged", "cost", "costs", "costing", "fee", "fees",
	"penny", "cent", "dime", "bill", "billing", "billed")

// payVerbs are charges only when the customer pays: "you", "let you", "have you", or an
// order to the customer ("dont pay for the taxi"); "we cant pay for a taxi" still
// negates the taxi.
var payVerbs = set("pay", "paying", "paid")

func seqAt(ts []Token, i int, seq []string, stem bool) bool {
	if i+len(seq) > len(ts) {
		return false
	}
	for k, s := range seq {
		t := &ts[i+k]
		if t.Clause != ts[i].Clause {
			return false
		}
		if stem && t.Stem != s || !stem && t.Word != s {
			return false
		}
	}
	return true
}

// scope marks the tokens inside a negation: Neg is 1 + the index of the trigger's first
// token.
func scope(ts []Token) {
	var cancelled []int // "not"s that a negation before them cancels ("no way im not refunding")
	for i := 0; i < len(ts); i++ {
		if mayDismiss(ts[i].Word) && !slices.Contains(cancelled, i) {
			if n, limit := dismissal(ts, i); n > 0 {
				dismissScope(ts, i, n, limit)
				i += n - 1
				continue
			}
		}
		if !mayStartNegation(ts[i].Word) || slices.Contains(cancelled, i) {
			continue
		}
		pseudo := false
		for _, p := range pseudoTriggers {
			if seqAt(ts, i, p, false) && !worryAbout(ts, i, p) {
				pseudo = true
				if len(p) == 2 && p[0] == "no" && pseudoNouns[p[1]] {
					// "no rush", "no pressure": the noun itself is denied (a rush intent
					// must not read "take your time, no rush" as rushing), nothing after it.
					ts[i+1].Neg = i + 1
				}
				i += len(p) - 1
				break
			}
		}
		if !pseudo && i > 0 {
			for _, p := range pseudoAfter {
				if seqAt(ts, i-1, p, false) {
					pseudo = true
					i += len(p) - 2
					break
				}
			}
		}
		if !pseudo && ts[i].Word == "not" && i > 0 && (ts[i-1].Word == "can" || ts[i-1].Word == "could") {
			// "i cant apologise enough", "cant thank you enough": emphasis, not negation.
			for k := i + 1; k < len(ts) && k <= i+4 && ts[k].Clause == ts[i].Clause; k++ {
				if ts[k].Word == "enough" {
					pseudo = true
					break
				}
			}
		}
		if !pseudo && ts[i].Word == "not" && i >= 2 && ts[i-1].Word == "do" && ts[i-2].Word == "why" &&
			ts[i-2].Clause == ts[i].Clause {
			// "why dont i email you the form?": a suggestion, as "why not" is.
			pseudo = true
		}
		if !pseudo && ts[i].Word == "no" && i+1 < len(ts) && ts[i+1].Clause == ts[i].Clause &&
			(determiners[ts[i+1].Word] || possessives[ts[i+1].Word]) && startsNewClause(ts, i+1) {
			// "no the plumber is coming today", "no your claim is fine": the answer "no"
			// before a clause whose subject is a noun.
			pseudo = true
		}
		if !pseudo && ts[i].Word == "no" && i+1 < len(ts) && ts[i+1].Clause == ts[i].Clause && answerSubjects[ts[i+1].Word] {
			// "no i cant unblock it until...", "oh no thats awful", "sorry no we dont need
			// your pin": the answer "no" before a clause with its own subject negates nothing.
			pseudo = true
		}
		if !pseudo && (ts[i].Word == "nobody" || ts[i].Word == "no" && i+1 < len(ts) && ts[i+1].Word == "one") &&
			i > 0 && questionAux[ts[i-1].Word] && (i == 1 || ts[i-2].Clause != ts[i-1].Clause) {
			// "did nobody turn up?", "has no one called you back?": a question.
			pseudo = true
		}
		if !pseudo && ts[i].Word == "not" && sureQuestion(ts, i) {
			// "are you sure you dont want a freeze?": a push, which offers the freeze.
			pseudo = true
		}
		if !pseudo && ts[i].Word == "not" && negativeQuestion(ts, i) {
			// "didnt you make a payment?", "isnt that you at the hotel?": a question that
			// expects a yes, not a denial.
			pseudo = true
		}
		if pseudo {
			continue
		}
		n := 0
		for _, tr := range triggers {
			if len(tr) > n && seqAt(ts, i, tr, false) {
				n = len(tr)
			}
		}
		if n == 0 {
			continue
		}
		counted := 0
		content := 0 // words in the scope so far that are neither fillers nor scope-free
		for k := i + n; k < len(ts); k++ {
			t := &ts[k]
			if k > i+n && !fillers[ts[k-1].Word] && !scopeFree[ts[k-1].Word] {
				content++
			}
			if !scopeFree[t.Word] {
				if counted++; counted > NegScopeWords {
					break
				}
				if counted == 1 && t.Clause == ts[i].Clause && ts[i].Word == "no" && limitNouns[t.Word] {
					t.Neg = i + 1 // "no limit on toiletries": only the limit is denied
					break
				}
				if counted == 1 && t.Clause == ts[i].Clause && (negativeVerbs[t.Word] ||
					t.Word == "get" && k+1 < len(ts) && ts[k+1].Word == "rid") {
					// "i cant waive the notice period", "you cant avoid the fee", "we
					// wont skip the wrapping": not undoing it keeps it; only the verb is
					// negated (and it negates nothing itself).
					t.Neg = i + 1
					cancelled = append(cancelled, k)
					break
				}
			}
			if t.Clause != ts[i].Clause {
				break
			}
			if scopeEnds[t.Word] && !(k == i+n && t.Word == "so") {
				break
			}
			if discourse[t.Word] && content > 0 && !sayVerbs[ts[k-1].Word] {
				// After what was denied: "no refund sorry", "i cant upgrade you sorry";
				// not "im not sorry", "im not really sorry", "i cant just refund it".
				break
			}
			if t.Word == "and" && k+1 < len(ts) && (newSubject[ts[k+1].Word] || startsClause(ts, k+1)) {
				break
			}
			if subjects[t.Word] && k > i+n && !carriers[ts[k-1].Word] {
				break
			}
			if k > i+n && !carriers[ts[k-1].Word] && (startsNewClause(ts, k) || whWords[t.Word] && !cleft(ts, k)) {
				break
			}
			if t.Word == "for" && (paidFor(ts, i, n, k) || reasonFor(ts, i, n, k)) {
				break
			}
			if limitWords[t.Word] && k+1 < len(ts) && ts[k+1].Word == "than" && ts[k+1].Clause == t.Clause {
				// "it wont take longer than 5 days", "no later than friday", "it wont be
				// delivered later than 9": a limit that is not passed is a promise; the
				// negation denies the comparison only, so what comes before it holds as
				// well as what follows "than".
				unNegate(ts, i, n, k)
				break
			}
			if t.Word == "without" && k > i+n {
				// "she cant return it without a receipt", "i wont send an engineer out
				// without calling you first": a condition, not a refusal; both halves
				// are meant (double negation). After a verb of leaving someone without
				// ("we wont leave you without water") the leaving stays denied.
				if !slices.ContainsFunc(ts[i+n:k], func(t Token) bool { return deprivers[t.Word] }) {
					unNegate(ts, i, n, k)
				}
				cancelled = append(cancelled, k)
				break
			}
			if t.Word == "not" && relativeSubject(ts, i+n, k) {
				// A not of a relative clause is its own: "i wont promise something i cant
				// guarantee" denies the promise and the guarantee, it cancels nothing.
				break
			}
			if t.Word == "not" && !saysBefore(ts, i+n, k) {
				// A not inside the scope cancels it: what follows is meant ("i cant not
				// refund this", "theres no way im not refunding it"). A negated saying
				// is handled apart ("im not saying we dont have it").
				cancelled = append(cancelled, k)
				break
			}
			if t.Neg == 0 {
				t.Neg = i + 1
			}
		}
	}
}

// relativeSubject reports whether a subject pronoun stands in ts[from:to] after at least
// one other word: the start of a relative clause ("something i cant guarantee", "a date we
// cant keep"), not the subject right after the trigger ("no way im not refunding").
func relativeSubject(ts []Token, from, to int) bool {
	for j := from + 1; j < to; j++ {
		if subjects[ts[j].Word] && !subjects[ts[j-1].Word] && !complementVerbs[ts[j-1].Word] &&
			!(j == from+1 && noWayNouns[ts[from].Word]) {
			return true
		}
	}
	return false
}

// complementVerbs take a clause of their own that their negation covers: "i cant promise we
// wont disconnect you" promises nothing.
var complementVerbs = set("promise", "guarantee", "say", "saying", "think", "believe", "know", "mean",
	"suppose", "expect", "hope", "sure", "certain", "swear", "bet", "reckon", "that")

// noWayNouns close a trigger whose subject follows ("no way im not refunding it", "no
// chance were not fixing this").
var noWayNouns = set("way", "chance", "doubt", "question")

// unNegate clears the negation the trigger at i (n tokens long) put on ts[i+n:to].
func unNegate(ts []Token, i, n, to int) {
	for j := i + n; j < to; j++ {
		if ts[j].Neg == i+1 {
			ts[j].Neg = 0
		}
	}
}

// paidFor reports whether the scope of the trigger at i (n tokens long) holds, before
// the "for" at to, a charge to the customer, so what follows is what it is for.
// reasonFor reports whether the "for" at to, inside the scope of the trigger at i (n words
// long), gives the reason for a negated verb done to a person: "we cant compensate you for
// a third party error", "i cant blame you for being upset", "we wont charge her for the
// minibar". What follows it is not denied; the verb is ("for free" after "do it" still is).
func reasonFor(ts []Token, i, n, to int) bool {
	return to-1 > i+n-1 && personObjects[ts[to-1].Word] && to+1 < len(ts) && ts[to+1].Clause == ts[to].Clause &&
		ts[to+1].Word != "free" && ts[to+1].Word != "nothing"
}

// personObjects are the people a negated verb may be done to, right before its "for".
var personObjects = set("you", "her", "him", "them", "us", "me")

func paidFor(ts []Token, i, n, to int) bool {
	for k := i + n; k < to; k++ {
		w := ts[k].Word
		if charges[w] {
			return true
		}
		if payVerbs[w] && (ts[k-1].Word == "you" || k >= 2 && ts[k-2].Word == "you" ||
			i > 0 && ts[i-1].Word == "you" || i >= 2 && ts[i-2].Word == "you" || imperative(ts, i)) {
			return true
		}
	}
	return false
}

// imperative reports whether the trigger at i opens an order ("dont", "do not", "never"
// first in its clause): what it negates is the listener's doing.
func imperative(ts []Token, i int) bool {
	first := func(k int) bool { return k == 0 || ts[k-1].Clause != ts[k].Clause }
	switch ts[i].Word {
	case "not":
		return i > 0 && ts[i-1].Word == "do" && first(i-1)
	case "never":
		return first(i)
	}
	return false
}

// answerSubjects after "no" make it the answer "no", followed by a clause of its own.
var answerSubjects = set("i", "we", "you", "they", "he", "she", "it", "this", "that", "there")

// questionAux open a negative question ("didnt you", "isnt that", "cant you").
var questionAux = set("do", "does", "did", "is", "are", "was", "were", "can", "could", "will",
	"would", "should", "have", "has", "had")

// questionSubjects follow a negative question's "not": a pronoun, or a determiner or an
// indefinite opening a noun subject ("didnt the engineer turn up?", "didnt anyone call?").
var questionSubjects = set("you", "we", "they", "he", "she", "it", "this", "that", "there",
	"the", "a", "an", "your", "my", "our", "his", "her", "their", "anyone", "anybody", "someone",
	"somebody", "everyone", "everybody")

// negativeQuestion reports whether the "not" at i opens a negative question: an auxiliary
// first in its clause, "not", then a subject ("didnt you make a payment at the hotel").
func negativeQuestion(ts []Token, i int) bool {
	if i == 0 || i+1 >= len(ts) || !questionAux[ts[i-1].Word] || !questionSubjects[ts[i+1].Word] ||
		ts[i+1].Clause != ts[i].Clause {
		return false
	}
	return i == 1 || ts[i-2].Clause != ts[i-1].Clause
}

// cleft reports whether the "who" at k opens the relative clause of a cleft sentence,
// which the negation still holds ("it wasnt me who gave your room away").
func cleft(ts []Token, k int) bool {
	switch ts[k-1].Word {
	case "me", "us", "him", "them", "i", "we":
		return ts[k].Word == "who"
	}
	return false
}

// sureQuestion reports whether the "not" at i is in "(are) you sure (that) you/we do
// not ...", a question that presses what follows rather than denying it.
func sureQuestion(ts []Token, i int) bool {
	for k := i - 1; k >= 1 && k >= i-5 && ts[k].Clause == ts[i].Clause; k-- {
		if ts[k].Word != "sure" || ts[k-1].Word != "you" {
			continue
		}
		start := k - 1
		if start > 0 && ts[start-1].Word == "are" && ts[start-1].Clause == ts[i].Clause {
			start--
		}
		return start == 0 || ts[start-1].Clause != ts[i].Clause
	}
	return false
}

// whWords start a new clause inside a negation ("never mind the pin whats your date of
// birth"), unless a thought or saying before them carries it ("i dont know what").
var whWords = set("what", "where", "when", "who", "why", "how", "which")

// saysBefore reports whether a saying verb stands in ts[from:to] ("not saying we dont").
func saysBefore(ts []Token, from, to int) bool {
	for k := from; k < to; k++ {
		if sayVerbs[ts[k].Word] {
			return true
		}
	}
	return false
}

// postNegated reports whether a post-trigger follows the span ending at end, and where.
func postNegated(ts []Token, end int) (int, int) {
	if end == 0 || end > len(ts) {
		return -1, 0
	}
	clause := ts[end-1].Clause
	if end < len(ts) && ts[end].Word == "not" && ts[end].Clause == clause && affirmations[ts[end-1].Word] {
		// "of course not", "certainly not": the affirmation is what is denied.
		return end, 1
	}
	for k := end; k < len(ts) && k <= end+PostScopeWords; k++ {
		if ts[k].Clause != clause {
			break
		}
		if !postFirst[ts[k].Stem] {
			continue
		}
		for _, p := range postTriggers {
			if seqAt(ts, k, p, true) {
				return k, len(p)
			}
		}
	}
	// A negated predicate right after its subject ("a credit isnt possible", "your router
	// isnt the problem", "rebooting wont help"): only auxiliaries may stand between.
	k := end
	for k < len(ts) && ts[k].Clause == clause && auxBetween[ts[k].Word] {
		k++
	}
	if k < len(ts) && ts[k].Clause == clause && k > end && postFirst[ts[k].Stem] {
		for _, p := range subjectPost {
			if seqAt(ts, k, p, true) && !undoingDenied(ts, k+len(p)) {
				return k, len(p)
			}
		}
	}
	return -1, 0
}

// subjectPost are negated predicates that deny their subject, as stems: the phrase must
// end right before them, with only auxiliaries between (auxBetween): "a credit isnt
// possible", "your router is not the problem", "a dongle isnt an option", "compensation
// isnt something we offer", "rebooting the router wont help", "outages arent covered".
// "isnt something i can waive" keeps it (negativeVerbs: undoing it is what is denied).
// "sorry thats not possible" keeps its apology (its subject is "that").
var subjectPost = [][]string{
	{"not", "possibl"}, {"not", "avail"}, {"not", "an", "option"}, {"not", "option"},
	{"not", "the", "problem"}, {"not", "the", "issu"}, {"not", "a", "problem"}, {"not", "the", "caus"},
	{"not", "to", "blame"}, {"not", "someth"}, {"not", "allow"}, {"not", "help"},
	{"not", "go", "to", "help"}, {"not", "cover"}, {"not", "includ"}, {"not", "offer"},
}

// undoingDenied reports whether a negated predicate ending at j goes on with a subject, at
// most two auxiliaries and a verb that undoes ("isnt something i can waive", "isnt
// something we could remove"): what is denied is undoing it, so the subject stays.
func undoingDenied(ts []Token, j int) bool {
	if j >= len(ts) || ts[j].Clause != ts[j-1].Clause || !answerSubjects[ts[j].Word] {
		return false
	}
	for k := j + 1; k < len(ts) && k <= j+3 && ts[k].Clause == ts[j].Clause; k++ {
		if negativeVerbs[ts[k].Word] || ts[k].Word == "get" && k+1 < len(ts) && ts[k+1].Word == "rid" {
			return true
		}
		if !auxBetween[ts[k].Word] {
			return false
		}
	}
	return false
}

// auxBetween may stand between a subject and its negated predicate.
var auxBetween = set("is", "are", "was", "were", "be", "been", "will", "would", "can", "could",
	"does", "do", "did", "has", "have", "had", "should", "really", "just", "actually",
	"currently", "probably", "definitely", "sadly", "unfortunately", "honestly", "still", "even",
	"afraid", "am")

// negativeVerbs undo what follows them: negated, they keep it ("cant waive the fee").
var negativeVerbs = set("avoid", "avoiding", "waive", "waiving", "escape", "bypass", "dodge", "skip",
	"cancel", "remove", "removing", "drop", "ditch", "scrap", "lift", "lifting",
	// Losing or refusing it: "dont lose the receipt", "dont forget your id", "we wont
	// reject your claim" keep it.
	"forget", "forgetting", "lose", "losing", "throw", "throwing", "bin", "binning", "discard",
	"discarding", "delete", "deleting", "misplace", "toss", "ignore", "ignoring", "miss", "missing",
	"overlook", "neglect", "reject", "rejecting", "deny", "denying", "decline", "declining",
	// Stopping it: "i cant stop them cutting you off" keeps the cutting off.
	"stop", "stopping", "prevent", "preventing", "block", "blocking", "halt", "halting")

// limitNouns first after "no" negate only themselves: "no limit on toiletries" has
// toiletries, "no cap on what you spend" has the spending.
var limitNouns = set("limit", "limits", "cap", "caps", "maximum", "max", "ceiling", "restriction",
	"restrictions")

// deprivers before "without" make it no condition: "we wont leave you without water" keeps
// both the negated leaving and the water ("you wont be without heating", "never go without").
var deprivers = set("leave", "leaving", "left", "be", "go", "going", "stay", "staying")

// limitWords before "than" end a negation's scope: "not more than a week" is at most a
// week.
var limitWords = set("more", "longer", "later", "over", "beyond")

// DismissScopeWords is how many words after a dismissing verb it can negate (its object,
// not counting scopeFree words).
const DismissScopeWords = 4

// mayDismiss is a fast pre-check for the first words of dismissal.
func mayDismiss(w string) bool {
	switch w {
	case "drop", "dropping", "ditch", "ditching", "scrap", "scrapping", "scratch", "scratching",
		"shelve", "shelving", "hold", "holding", "leave", "leaving":
		return true
	}
	return false
}

// dismissObjects may follow a dismissing verb: its object ("drop the upgrade").
var dismissObjects = set("the", "that", "this", "those", "these", "it", "them", "your", "any", "all", "my", "our")

// dismissParticles after a dismissing verb's object make it another verb: "drop it off",
// "drop the car back", "drop it in the post", "hold off until".
var dismissParticles = set("off", "by", "in", "into", "round", "over", "back", "to", "at", "through", "with", "on")

// dismissEnds end a dismissal's scope: "leave the upgrade for now and move your date".
var dismissEnds = set("and", "then", "for", "now", "so", "please", "aside", "out", "till", "until")

// dismissal reports whether a verb that sets something aside starts at i, as a
// negation trigger of n tokens: "drop the upgrade", "scratch the wrapping", "ditch the
// bow", "hold off on the bundle", "leave the upgrade for now", "leave out the ribbon"
// (what follows is not on offer); limit is where its scope must end at the latest (the
// "for now" of "leave"), or len(ts). "drop it off", "leave it with me" and "hold the line"
// set nothing aside.
func dismissal(ts []Token, i int) (n, limit int) {
	w := ts[i].Word
	same := func(k int) bool { return k < len(ts) && ts[k].Clause == ts[i].Clause }
	switch w {
	case "hold", "holding":
		if same(i+1) && ts[i+1].Word == "off" {
			return 2, len(ts)
		}
		return 0, 0
	case "leave", "leaving":
		if same(i+1) && ts[i+1].Word == "out" {
			return 2, len(ts)
		}
		// Only with "for now", "out" or "aside" after its object.
		for k := i + 1; same(k) && k <= i+5; k++ {
			switch {
			case ts[k].Word == "for" && same(k+1) && ts[k+1].Word == "now", ts[k].Word == "out", ts[k].Word == "aside":
				if k == i+1 {
					return 0, 0
				}
				return 1, k
			case ts[k].Word == "and" || ts[k].Word == "with" || ts[k].Word == "to":
				return 0, 0
			}
		}
		return 0, 0
	}
	if !same(i+1) || !dismissObjects[ts[i+1].Word] {
		return 0, 0
	}
	for k := i + 1; same(k) && k <= i+4; k++ {
		if dismissParticles[ts[k].Word] {
			return 0, 0
		}
	}
	return 1, len(ts)
}

// dismissScope marks the object of the dismissal of n tokens at i as negated, up to
// limit and DismissScopeWords words, ending at its clause's end or a dismissEnds word.
func dismissScope(ts []Token, i, n, limit int) {
	counted := 0
	for k := i + n; k < len(ts) && k < limit && ts[k].Clause == ts[i].Clause; k++ {
		t := &ts[k]
		if dismissEnds[t.Word] || scopeEnds[t.Word] || k > i+n && (subjects[t.Word] || whWords[t.Word]) {
			break
		}
		if !scopeFree[t.Word] {
			if counted++; counted > DismissScopeWords {
				break
			}
		}
		if t.Neg == 0 {
			t.Neg = i + 1
		}
	}
}
