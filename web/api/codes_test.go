package api

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/switchboard-sim/switchboard/web/protocol"
)

// statusByName resolves the http.Status… constants the endpoints use.
var statusByName = map[string]int{}

func init() {
	for code := 100; code < 600; code++ {
		if text := http.StatusText(code); text != "" {
			name := "Status" + strings.NewReplacer(" ", "", "-", "", "'", "").Replace(text)
			statusByName[name] = code
		}
	}
	// Names that differ from their status text.
	statusByName["StatusRequestEntityTooLarge"] = http.StatusRequestEntityTooLarge
	statusByName["StatusUnprocessableEntity"] = http.StatusUnprocessableEntity
	statusByName["StatusTooManyRequests"] = http.StatusTooManyRequests
}

// TestEveryEndpointUsesTheErrorVocabulary reads every Go file of web/ and checks each
// WriteError call (and any local writeError wrapper): its code must be a protocol.Code… constant (never a string literal),
// and a constant status must be one protocol.Statuses lists for that code.
func TestEveryEndpointUsesTheErrorVocabulary(t *testing.T) {
	codes := map[string]string{} // constant name -> code
	pf, err := parser.ParseFile(token.NewFileSet(), "../protocol/codes.go", nil, 0)
	require.NoError(t, err)
	ast.Inspect(pf, func(n ast.Node) bool {
		if vs, ok := n.(*ast.ValueSpec); ok && len(vs.Values) == 1 {
			if lit, ok := vs.Values[0].(*ast.BasicLit); ok {
				codes[vs.Names[0].Name] = strings.Trim(lit.Value, `"`)
			}
		}
		return true
	})
	require.NotEmpty(t, codes)
	for name, code := range codes {
		_, ok := protocol.Statuses[code]
		assert.True(t, ok, "protocol.%s (%q) is missing from protocol.Statuses", name, code)
	}
	calls := 0
	fset := token.NewFileSet()
	err = filepath.WalkDir("..", func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) != 4 {
				return true
			}
			switch fn := call.Fun.(type) {
			case *ast.Ident:
				if fn.Name != "WriteError" && fn.Name != "writeError" {
					return true
				}
			case *ast.SelectorExpr:
				if fn.Sel.Name != "WriteError" {
					return true
				}
			default:
				return true
			}
			calls++
			pos := fset.Position(call.Pos())
			sel, ok := call.Args[2].(*ast.SelectorExpr)
			if !ok || sel.X.(*ast.Ident).Name != "protocol" {
				t.Errorf("%s: WriteError's code must be a protocol.Code… constant", pos)
				return true
			}
			code, ok := codes[sel.Sel.Name]
			if !ok {
				t.Errorf("%s: protocol.%s is not an error code", pos, sel.Sel.Name)
				return true
			}
			if st, ok := call.Args[1].(*ast.SelectorExpr); ok && st.X.(*ast.Ident).Name == "http" {
				status, known := statusByName[st.Sel.Name]
				require.True(t, known, "%s: unknown http.%s", pos, st.Sel.Name)
				assert.True(t, slices.Contains(protocol.Statuses[code], status),
					"%s: %q is sent with %d, but protocol.Statuses (and docs/protocol.md) say %v", pos, code, status, protocol.Statuses[code])
			}
			return true
		})
		return nil
	})
	require.NoError(t, err)
	assert.Greater(t, calls, 40, "the WriteError calls of web/ were found")
}

// TestErrorCodesAreDocumented checks that docs/protocol.md lists every code.
func TestErrorCodesAreDocumented(t *testing.T) {
	doc, err := fs.ReadFile(osDirFS("../.."), "docs/protocol.md")
	require.NoError(t, err)
	for code := range protocol.Statuses {
		assert.Contains(t, string(doc), "`"+code+"`", "docs/protocol.md does not list %q", code)
	}
}

func osDirFS(dir string) fs.FS { return os.DirFS(dir) }
