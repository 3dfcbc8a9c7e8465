package dashboards

import (
	"testing"

	"github.com/kpiwatch/kpiwatch/internal/contract"
	"github.com/kpiwatch/kpiwatch/project06"
)

// TestBoardsAgainstTheContract runs the boards' checks against a Prometheus
// fed the exposition docs/one-model.md describes, written by
// internal/contract rather than by the exporter: the real exporter's series
// (names, tasks, completeness, self-metrics), its observed series on the
// unit endpoint, and kpi_rollup_* roll-ups of every KPI at the whole and per
// province in every status. So the boards' queries are checked against the
// contract whether or not the exporter serves it yet.
func TestBoardsAgainstTheContract(t *testing.T) {
	cat := loadCatalogue(t)
	checkBoards(t, cat, contract.Serve(t, cat, project06.FS))
}
