package engine

import "go.yaml.in/yaml/v3"

// FileReader reads a YAML file of another kind than a scenario (a track, in engine/track)
// with the scenario loader's checks and wording: syntax errors repaired and reported
// where they were made, the file size limit, no anchors or aliases, duplicate and unknown
// keys reported with "did you mean", values checked by type. Every problem is appended
// to the Diagnostics given to NewFileReader, with the file's path and a position.
type FileReader struct{ r *reader }

// NewFileReader returns a reader for the file at path whose problems go to diags.
func NewFileReader(path string, diags *Diagnostics) *FileReader {
	return &FileReader{r: &reader{path: path, diags: diags}}
}

// KeyValue is one key and its value in a YAML mapping.
type KeyValue struct {
	Key   string
	KeyN  *yaml.Node
	Value *yaml.Node
}

// Parse parses data into its root node, or returns nil after reporting why it cannot.
// A file whose syntax had to be repaired is reported and also returns nil: a track is
// never read from a guess.
func (f *FileReader) Parse(data []byte) *yaml.Node {
	root := f.r.parseYAML(data)
	if f.r.syntax {
		return nil
	}
	return root
}

// Mapping returns the pairs of a mapping node, reporting a node of another kind,
// duplicate keys and keys not in allowed (nil accepts any key).
func (f *FileReader) Mapping(n *yaml.Node, what string, allowed []string) ([]KeyValue, bool) {
	pairs, ok := f.r.mapping(n, what, allowed)
	out := make([]KeyValue, len(pairs))
	for i, p := range pairs {
		out[i] = KeyValue{Key: p.key, KeyN: p.keyN, Value: p.value}
	}
	return out, ok
}

// Str reads a scalar as text, within MaxTextBytes.
func (f *FileReader) Str(n *yaml.Node, what string) (string, bool) { return f.r.str(n, what) }

// Number reads a finite number.
func (f *FileReader) Number(n *yaml.Node, what string) (float64, bool) { return f.r.number(n, what) }

// Bool reads true or false (yes/no are reported with the word to write).
func (f *FileReader) Bool(n *yaml.Node, what string) (bool, bool) { return f.r.boolean(n, what) }

// Duration reads "90s", "3m" or a number of seconds as milliseconds, at most MaxDurationMS.
func (f *FileReader) Duration(n *yaml.Node, what string) (int64, bool) {
	return f.r.duration(n, what)
}

// List reads a sequence node's items.
func (f *FileReader) List(n *yaml.Node, what string) ([]*yaml.Node, bool) { return f.r.list(n, what) }

// Errorf reports an error at n (nil: the top of the file).
func (f *FileReader) Errorf(n *yaml.Node, format string, args ...any) {
	f.r.errorf(n, format, args...)
}

// Warnf reports a warning at n.
func (f *FileReader) Warnf(n *yaml.Node, format string, args ...any) { f.r.warnf(n, format, args...) }

// DidYouMean returns ` (did you mean "x"?)` when one of candidates is close to name (by
// edit distance, a swap of two letters counting as one edit), else "". It is the
// suggestion every diagnostic of the scenario loader uses.
func DidYouMean(name string, candidates []string) string { return didYouMean(name, candidates) }

// Closest returns the candidate DidYouMean would suggest for name, if any.
func Closest(name string, candidates []string) (string, bool) { return closest(name, candidates) }

// ValidID reports whether s is a valid scenario id: lower-case letters, digits and '-',
// starting with a letter or digit. Track ids follow the same rule.
func ValidID(s string) bool { return scenarioIDRE.MatchString(s) }
