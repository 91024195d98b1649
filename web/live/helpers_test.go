package live

import (
	"runtime"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// helperGoroutines counts the helpers' goroutines alive in the test's synctest bubble, by
// their stacks. (runtime.NumGoroutine counts every goroutine of the process: one that an
// earlier test left, or a real-time timer firing outside the bubble, made it flaky in CI.)
func helperGoroutines() int {
	buf := make([]byte, 1<<20)
	n := runtime.Stack(buf, true)
	for n == len(buf) {
		buf = make([]byte, 2*len(buf))
		n = runtime.Stack(buf, true)
	}
	count := 0
	for _, g := range strings.Split(string(buf[:n]), "\n\n") {
		header, _, _ := strings.Cut(g, "\n")
		if strings.Contains(header, "synctest bubble") && strings.Contains(g, "live.newHelper.func1(") {
			count++
		}
	}
	return count
}

func idleHelpers(hs *helpers) int {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return len(hs.idle)
}

// deep recurses n frames with a 1 KiB local each, to grow the stack it runs on.
func deep(n int) int {
	var pad [1024]byte
	pad[n%len(pad)] = byte(n)
	if n == 0 {
		return int(pad[0])
	}
	return deep(n-1) + int(pad[n%len(pad)])
}

func TestHelpersRunTasksInTurnAndReuseThemselves(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hs := newHelpers()
		ran := 0
		hs.aside(func() { ran++ })
		assert.Equal(t, 1, ran, "aside returns once the task has run")
		assert.Equal(t, 1, idleHelpers(hs))
		require.Equal(t, 1, helperGoroutines())
		for range 100 {
			hs.aside(func() { ran += deep(20)*0 + 1 }) // deep: a task that grows its stack
		}
		assert.Equal(t, 101, ran)
		assert.Equal(t, 1, idleHelpers(hs), "one after another, the tasks share one helper")
		assert.Equal(t, 1, helperGoroutines())

		// Tasks that run at once each have a helper; they all join the pool.
		var wg sync.WaitGroup
		gate := make(chan struct{})
		for range 4 {
			wg.Go(func() { hs.aside(func() { <-gate }) })
		}
		synctest.Wait()
		assert.Equal(t, 0, idleHelpers(hs), "all four helpers busy")
		close(gate)
		wg.Wait()
		assert.Equal(t, 4, idleHelpers(hs))

		// Idle for helperLife, they end; the floor holds none.
		time.Sleep(helperLife - time.Second)
		hs.aside(func() {}) // one used again: it stays
		time.Sleep(2 * time.Second)
		synctest.Wait()
		assert.Equal(t, 1, idleHelpers(hs), "the three left idle ended")
		time.Sleep(helperLife)
		synctest.Wait()
		assert.Equal(t, 0, idleHelpers(hs))
		assert.Equal(t, 0, helperGoroutines(), "no helper goroutine is left")
	})
}

func TestHelpersCloseEndsThemAndAsideStillWorks(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hs := newHelpers()
		var wg sync.WaitGroup
		gate := make(chan struct{})
		wg.Go(func() { hs.aside(func() { <-gate }) })
		synctest.Wait() // its helper is busy
		hs.aside(func() {})
		require.Equal(t, 1, idleHelpers(hs))
		hs.close()
		assert.Equal(t, 0, idleHelpers(hs), "the idle helper ended at once")
		close(gate)
		wg.Wait()
		assert.Equal(t, 0, idleHelpers(hs), "the busy one ended with its task")
		ran := false
		hs.aside(func() { ran = true })
		assert.True(t, ran)
		synctest.Wait()
		assert.Equal(t, 0, idleHelpers(hs))
		assert.Equal(t, 0, helperGoroutines(), "no helper goroutine is left")
	})
}

func TestHelpersPassOnAPanic(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		hs := newHelpers()
		assert.PanicsWithValue(t, "boom", func() { hs.aside(func() { panic("boom") }) })
		assert.Equal(t, 0, idleHelpers(hs), "the helper that panicked is not reused")
		ran := false
		hs.aside(func() { ran = true })
		assert.True(t, ran)
		hs.close()
	})
}
