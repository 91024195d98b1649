package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
)

// printedLink returns the designer line's URL that serve printed.
func printedLink(t *testing.T, p *proc) string {
	t.Helper()
	select {
	case l := <-p.studio:
		return l
	case <-time.After(readyWait):
		t.Fatal("serve printed no studio line")
	}
	return ""
}

// TestDesignerLinkIsPrintedOnlyWhenGenerated: the first start, which generates the
// secret, prints the link with it; the next start with the same data folder, and a start
// whose secret comes from the environment, print only where to find it.
func TestDesignerLinkIsPrintedOnlyWhenGenerated(t *testing.T) {
	data := t.TempDir()
	p := startServe(t, nil, "--data", data)
	assert.Contains(t, printedLink(t, p), "/studio/?key=", "generated now: the link")
	assert.Equal(t, 0, p.stop(os.Interrupt))

	p = startServe(t, nil, "--data", data)
	assert.NotContains(t, printedLink(t, p), "key=", "the secret is not printed again")
	assert.Equal(t, 0, p.stop(os.Interrupt))

	p = startServe(t, []string{"SWITCHBOARD_DESIGNER_SECRET=designer-secret-from-the-environment"}, "--data", filepath.Join(t.TempDir(), "d"))
	link := printedLink(t, p)
	assert.NotContains(t, link, "key=")
	assert.False(t, strings.Contains(p.logs(), "designer-secret-from-the-environment"))
	assert.Equal(t, 0, p.stop(os.Interrupt))
}
