package engine

import (
	"io/fs"
	"path"
	"slices"
	"strings"
)

// IsScenarioFile reports whether a path names a scenario (not a test file, a rule pack or
// a track: files in folders named rules or tracks are not scenarios).
func IsScenarioFile(p string) bool {
	base := path.Base(p)
	if !strings.HasSuffix(base, ".yaml") && !strings.HasSuffix(base, ".yml") {
		return false
	}
	if strings.HasSuffix(base, ".test.yaml") || strings.HasSuffix(base, ".test.yml") {
		return false
	}
	dirs := strings.Split(path.Dir(p), "/")
	return !slices.Contains(dirs, "rules") && !slices.Contains(dirs, "tracks")
}

// FindScenarios lists the scenario files under root in fsys, sorted. Rule packs (files in a
// folder named rules), tracks (a folder named tracks) and test files are skipped.
func FindScenarios(fsys fs.FS, root string) ([]string, error) {
	var out []string
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && (d.Name() == "rules" || d.Name() == "tracks" || strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") {
				return fs.SkipDir
			}
			return nil
		}
		if IsScenarioFile(p) {
			out = append(out, p)
		}
		return nil
	})
	slices.Sort(out)
	return out, err
}
