package hatest

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// The fault test must fail a peer sending what another already sent, yet
// allow the one duplicate Alertmanager's at-least-once delivery permits: a
// notification the killed peer sent just before dying, whose log entry
// never reached the others.
func TestReportTellsLostGossipFromDuplicates(t *testing.T) {
	killed := time.Date(2026, 12, 3, 12, 0, 0, 0, time.UTC)
	note := func(group, peer string, at time.Duration, alerts ...string) delivery {
		d := delivery{peer: peer, at: killed.Add(at), GroupKey: group}
		for _, a := range alerts {
			d.Alerts = append(d.Alerts, struct {
				Status string            `json:"status"`
				Labels map[string]string `json:"labels"`
			}{"firing", map[string]string{"alertname": a}})
		}
		return d
	}
	w := &webhook{got: []delivery{
		note("lost", "peer/1", -time.Second, "A"),    // killed a second later
		note("lost", "peer/2", 20*time.Second, "A"),  // so peer 2 sends it again
		note("old", "peer/1", -time.Minute, "B"),     // long gossiped
		note("old", "peer/3", 20*time.Second, "B"),   // a real duplicate
		note("other", "peer/2", -time.Second, "C"),   // sent by a peer that lived
		note("other", "peer/3", 20*time.Second, "C"), // a real duplicate
		note("lost", "peer/3", 35*time.Second, "A"),  // a second copy
		note("resent", "peer/1", -time.Second, "F"),
		note("resent", "peer/1", 30*time.Second, "F"), // the killed peer, back, sending again
		note("update", "peer/1", -time.Second, "D"),
		note("update", "peer/2", 20*time.Second, "D", "E"), // an update, not a duplicate
	}}
	r := w.report(peerPath(0), killed)
	if r.deliveries != 11 || r.groups != 5 || r.duplicates != 5 || r.updates != 1 {
		t.Errorf("deliveries, groups, duplicates, updates = %d, %d, %d, %d; want 11, 5, 5, 1", r.deliveries, r.groups, r.duplicates, r.updates)
	}
	if len(r.lost) != 1 || !strings.HasPrefix(r.lost[0], "lost ") {
		t.Errorf("lost with the killed peer: %q; want the group \"lost\" alone", r.lost)
	}
	var dups []string
	for _, d := range r.duplicateKeys {
		dups = append(dups, strings.Fields(d)[0])
	}
	slices.Sort(dups)
	if want := []string{"lost", "old", "other", "resent"}; !slices.Equal(dups, want) {
		t.Errorf("duplicates of the groups %q; want %q", dups, want)
	}
}
