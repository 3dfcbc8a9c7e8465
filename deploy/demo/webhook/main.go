// Command webhook is the demo's Alertmanager receiver: it prints every
// notification Alertmanager delivers, one line per alert, so that `make demo`
// shows alerts arriving where an agency would get them. With -until it exits
// 0 as soon as each named alert has been delivered at least once, and 1 if
// that takes longer than -timeout.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"
)

type notification struct {
	Receiver string
	Status   string
	Alerts   []struct {
		Status      string
		Labels      map[string]string
		Annotations map[string]string
	}
}

func main() {
	addr := flag.String("listen", "127.0.0.1:29095", "address to listen on")
	until := flag.String("until", "", "comma-separated alert names: exit once each has been delivered")
	timeout := flag.Duration("timeout", 3*time.Minute, "with -until, give up after this long")
	flag.Parse()

	var mu sync.Mutex
	waiting := map[string]bool{}
	for _, name := range strings.FieldsFunc(*until, func(r rune) bool { return r == ',' }) {
		waiting[name] = true
	}
	done := make(chan struct{})
	var once sync.Once
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		var n notification
		if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 16<<20)).Decode(&n); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		mu.Lock()
		defer mu.Unlock()
		for _, a := range n.Alerts {
			fmt.Printf("delivered to %s: [%s] %s %s\n    %s\n", n.Receiver, a.Status, a.Labels["alertname"], labels(a.Labels), a.Annotations["description"])
			delete(waiting, a.Labels["alertname"])
		}
		if *until != "" && len(waiting) == 0 {
			once.Do(func() { close(done) })
		}
	})
	srv := &http.Server{Addr: *addr, ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := srv.ListenAndServe(); err != http.ErrServerClosed {
			fmt.Fprintln(os.Stderr, "webhook:", err)
			os.Exit(1)
		}
	}()
	if *until == "" {
		select {}
	}
	select {
	case <-done:
		fmt.Println("webhook: every awaited alert was delivered")
		_ = srv.Shutdown(context.Background())
	case <-time.After(*timeout):
		mu.Lock()
		defer mu.Unlock()
		missing := make([]string, 0, len(waiting))
		for name := range waiting {
			missing = append(missing, name)
		}
		slices.Sort(missing)
		fmt.Fprintf(os.Stderr, "webhook: not delivered within %s: %s\n", *timeout, strings.Join(missing, ", "))
		os.Exit(1)
	}
}

// labels prints the labels that say which series an alert is about.
func labels(l map[string]string) string {
	var parts []string
	for _, k := range []string{"kpi", "province", "ministry", "commune", "block", "owner", "source", "severity"} {
		if v, ok := l[k]; ok {
			parts = append(parts, k+"="+v)
		}
	}
	return strings.Join(parts, " ")
}
