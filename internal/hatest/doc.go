// Package hatest runs the high-availability layout of deploy/ha on loopback
// and breaks it: two kpiwatch replicas behind one scrape address, two
// Prometheus replicas with the generated rules, three clustered
// Alertmanagers, and Thanos (a sidecar beside each Prometheus, a store
// gateway and a query over a filesystem bucket) as the global query layer.
// The test runs with `make test-ha`; see deploy/ha/README.md.
package hatest
