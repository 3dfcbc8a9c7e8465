// Package parallel spreads independent pieces of work over every core.
package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
)

// ForEach calls the function work returns for every i in [0, n), on as
// many goroutines as there are cores; work is called once per goroutine,
// to set up what that goroutine reuses from one i to the next.
func ForEach(n int, work func() func(i int)) {
	var next atomic.Int64
	var wg sync.WaitGroup
	for range min(runtime.GOMAXPROCS(0), n) {
		wg.Go(func() {
			do := work()
			for i := int(next.Add(1) - 1); i < n; i = int(next.Add(1) - 1) {
				do(i)
			}
		})
	}
	wg.Wait()
}
