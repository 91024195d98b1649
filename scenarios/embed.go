// Package scenarios holds Switchboard's shipped scenario library: the scenarios, their
// tests, the shared rule packs and the training tracks (tracks/, see docs/tracks.md),
// embedded into the binary. FS is read-only and safe for
// concurrent use.
package scenarios

import (
	"embed"
	"io/fs"
)

//go:embed *.yaml rules/*.yaml tracks/*.yaml
var files embed.FS

// Root is the folder name the library's paths start with, as in a source checkout.
const Root = "scenarios"

// FS is the library with paths that start with Root ("scenarios/cheese-shop.yaml"), so
// diagnostics name the same files a designer sees in the repository.
var FS fs.FS = prefixFS{files}

// Packs holds the shipped rule packs by file name ("listening.yaml"), for
// engine.LoadOptions: any scenario, wherever it lives, includes one by name
// (include: [listening]).
var Packs fs.FS = packsFS{files}

type packsFS struct{ fs embed.FS }

func (p packsFS) Open(name string) (fs.File, error) {
	if name == "." {
		return p.fs.Open("rules")
	}
	return p.fs.Open("rules/" + name)
}

type prefixFS struct{ fs embed.FS }

func (p prefixFS) Open(name string) (fs.File, error) {
	if name == Root {
		return p.fs.Open(".")
	}
	if len(name) > len(Root)+1 && name[:len(Root)+1] == Root+"/" {
		return p.fs.Open(name[len(Root)+1:])
	}
	return nil, &fs.PathError{Op: "open", Path: name, Err: fs.ErrNotExist}
}
