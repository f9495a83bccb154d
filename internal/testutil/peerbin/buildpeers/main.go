// Command buildpeers builds the alert tests' third-party servers into
// peerbin's cache (CI runs it in the background while it lints).
package main

import (
	"fmt"
	"os"
	"sync"

	"github.com/sluice-log/sluice/internal/testutil/peerbin"
)

func main() {
	var wg sync.WaitGroup
	failed := false
	var mu sync.Mutex
	for _, build := range []func() (string, error){peerbin.Alertmanager, peerbin.Mailpit} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			path, err := build()
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				failed = true
				return
			}
			fmt.Println(path)
		}()
	}
	wg.Wait()
	if failed {
		os.Exit(1)
	}
}
