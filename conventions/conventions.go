// Package conventions holds every metric and label name that kpiwatch serves or
// generates, so that the exporter, the alert rules, the dashboards and the
// README cannot drift apart. Nothing else in the project spells a metric name.
package conventions

// Prefix is the namespace of every series kpiwatch serves.
const Prefix = "kpi_"

// Labels.
const (
	LabelKPI        = "kpi"
	LabelStatus     = "status"
	LabelOwner      = "owner"
	LabelBlock      = "block"
	LabelSource     = "source"
	LabelCollector  = "collector"
	LabelProvince   = "province"
	LabelMinistry   = "ministry"
	LabelCommune    = "commune"
	LabelTask       = "task"
	LabelName       = "name"
	LabelNameVI     = "name_vi"
	LabelUnit       = "unit"
	LabelKind       = "kind"
	LabelDirection  = "direction"
	LabelCadence    = "cadence"
	LabelCode       = "code"
	LabelDecision   = "decision"
	LabelResult     = "result"
	LabelVersion    = "version"
	LabelRevision   = "revision"
	LabelGoVersion  = "goversion"
	LabelSeverity   = "severity"
	LabelAlertName  = "alertname"
	LabelCatalogue  = "catalogue"
	LabelTaskStatus = "task_status"
	// LabelReason says why a series is at risk (kpi_status{status="at_risk"}).
	LabelReason = "reason"
	// LabelCheck names the plausibility check a kpi_data_suspect series failed.
	LabelCheck = "check"
	// LabelParent is a unit's unit in the level above (kpi_unit_info).
	LabelParent = "parent"
	// LabelUnits names the worst units of a roll-up in one status
	// (kpi_rollup_worst_units_info), worst first, joined by ", ".
	LabelUnits = "units"
)

// Values of LabelReason on an at_risk status. A series behind plan and also
// forecast to miss is at risk for being behind plan: the present shortfall is
// the stronger signal, and one series raises one alert.
const (
	ReasonBehindPlan   = "behind_plan"
	ReasonForecastMiss = "forecast_miss"
)

// Values of LabelReason on kpi_collector_failures_total: why a refresh
// failed, and so kept the source's last good data.
const (
	FailureError     = "error"         // the source could not be read
	FailureTimeout   = "timeout"       // it took longer than its timeout
	FailureBusy      = "busy"          // the previous, timed-out refresh had not stopped yet
	FailureMaxSeries = "max_series"    // more series than max_series
	FailureNoRows    = "no_rows"       // no row accepted
	FailureRejected  = "rejected_rows" // more rows rejected than max_rejected_ratio allows
	FailureChanged   = "file_changed"  // a file changed while it was read
)

// Values of LabelCheck.
const (
	CheckFell  = "cumulative_fell"
	CheckRatio = "numerator_above_denominator"
	CheckJump  = "jump"
)

// Observed series: one each per observation, kept to the fewest that answer the
// leaders' questions (value, when reported, how it stands).
const (
	// KPIValue is the latest reported value. Ratios are in 0..1.
	KPIValue = "kpi_value"
	// KPIReportPeriod is the start of the period the latest value reports on.
	KPIReportPeriod = "kpi_report_period_timestamp_seconds"
	// KPIStatus is 1 for the series' current status, labelled status=...; only
	// the current status is served, so one series per observation.
	KPIStatus = "kpi_status"
)

// The judgement of each series, computed once by the exporter from the
// source's history and the catalogue; alerts, boards and pages show these
// numbers and never recompute them from raw samples.
const (
	// KPIForecast is the value the series' trend reaches by its governing
	// deadline (the unit's own where it has targets of its own). Served only
	// where there is a trend (two reports within the cadence's trend window),
	// the deadline is ahead and the target is not yet met.
	KPIForecast = "kpi_forecast"
	// KPIDataSuspect is 1 for each plausibility check the latest report
	// fails (label check); absent when the figures make sense.
	KPIDataSuspect = "kpi_data_suspect"
)

// Per-KPI series (and per series only where a unit has its own target).
const (
	KPIInfo           = "kpi_info"
	KPITarget         = "kpi_target"
	KPITargetDeadline = "kpi_target_deadline_timestamp_seconds"
	KPIPlan           = "kpi_plan"
	KPIBaseline       = "kpi_baseline"
	KPITolerance      = "kpi_tolerance_ratio"
	OwnerInfo         = "kpi_owner_info"
	ProvinceInfo      = "kpi_province_info"
	// UnitInfo names each unit in force of every level the catalogue's
	// units list: labels LabelLevel, LabelUnit, LabelNameVI, LabelParent.
	UnitInfo = "kpi_unit_info"
)

// Roadmap tasks.
const (
	Tasks         = "kpi_tasks"
	TasksOverdue  = "kpi_tasks_overdue"
	TasksDoneLate = "kpi_tasks_done_late"
	// TaskDue is the due date of each overdue task (the start of its due
	// day): days overdue are derived from it, in base units as Prometheus
	// wants, and it does not change every day.
	TaskDue = "kpi_task_due_timestamp_seconds"
)

// Reporting completeness, for the last period whose report is due (monthly:
// the previous month once the 15th has passed), one series per KPI and
// expected unit (each province for a province KPI, each ministry for a
// ministry KPI, each block for a block KPI, the owner for a national one),
// labelled owner and block. Roll-ups by block and owner are recording rules.
const (
	// ReportExpected is 1 for each unit a report is expected from.
	ReportExpected = "kpi_report_expected"
	// ReportReceived is 1 if the unit's report on the period is in, else 0.
	ReportReceived = "kpi_report_received"
	// ReportOnTime is 1 if it was sent by the end of the due day, else 0;
	// served only for KPIs whose source maps reported_at (when each report
	// was sent): without it, kpiwatch cannot know.
	ReportOnTime = "kpi_report_on_time"
	// ReportDue is when the tracked period's report was due (end of the
	// due day), per KPI; ReportDuePeriod is that period's start.
	ReportDue       = "kpi_report_due_timestamp_seconds"
	ReportDuePeriod = "kpi_report_due_period_timestamp_seconds"
)

// Self-metrics, one series per source.
const (
	CollectorSuccess      = "kpi_collector_success"
	CollectorDuration     = "kpi_collector_duration_seconds"
	CollectorLastSuccess  = "kpi_collector_last_success_timestamp_seconds"
	CollectorSeries       = "kpi_collector_series"
	CollectorRejectedRows = "kpi_collector_rejected_rows"
	// CollectorConsecutiveFailures is how many refreshes of a source have
	// failed in a row: one alert rule serves every source, whatever its
	// interval, and one failed refresh in a row does not page anyone.
	CollectorConsecutiveFailures = "kpi_collector_consecutive_failures"
	CollectorFailures            = "kpi_collector_failures_total"
	CatalogueReloadSuccess       = "kpi_catalogue_reload_success"
	CatalogueReloadLast          = "kpi_catalogue_reload_last_success_timestamp_seconds"
	BuildInfo                    = "kpi_build_info"
	PushSuccess                  = "kpi_push_success"
	PushLastSuccess              = "kpi_push_last_success_timestamp_seconds"
	PushFailures                 = "kpi_push_failures_total"
)

// Self-metrics of a source whose path is a folder or a glob: one bad file
// is rejected whole while the others are read.
const (
	CollectorFilesRead     = "kpi_collector_files_read"
	CollectorFilesRejected = "kpi_collector_files_rejected"
)

// DashboardKPIDetail is the stable UID of the per-KPI dashboard that alerts
// link to, with ?var-kpi=<id>.
const DashboardKPIDetail = "kpiwatch-kpi-detail"

// Status values of a series, in the order dashboards list them.
const (
	StatusAchieved = "achieved"
	StatusOnTrack  = "on_track"
	StatusAtRisk   = "at_risk"
	StatusMissed   = "missed"
	StatusNoData   = "no_data"
	StatusStale    = "stale"
)

// Statuses lists every status value.
var Statuses = []string{StatusAchieved, StatusOnTrack, StatusAtRisk, StatusMissed, StatusNoData, StatusStale}

// Help is the HELP text of every metric the exporter serves.
var Help = map[string]string{
	KPIValue:                     "Latest reported value of a KPI series (ratios in 0..1).",
	KPIReportPeriod:              "Start of the period the latest report of a series covers, in seconds since the epoch.",
	KPIStatus:                    "Current status of a KPI series (achieved, on_track, at_risk, missed, stale, no_data); only the current status is served; at_risk carries the reason.",
	KPIForecast:                  "Value the trend of a series reaches by its governing deadline; served where a trend exists, the deadline is ahead and the target is not met.",
	KPIDataSuspect:               "1 for each plausibility check the latest report of a series fails (check label).",
	KPIInfo:                      "Metadata of a KPI; always 1.",
	RollupValue:                  "Latest figure of a roll-up of a KPI's units (level label: whole, or the dimension rolled up to): counts add, ratios are sums of numerators over sums of denominators, levels take the KPI's rollup, milestones the share of units done.",
	RollupNumerator:              "Sum of the numerators of a ratio KPI's units in a roll-up.",
	RollupDenominator:            "Sum of the denominators of a ratio KPI's units in a roll-up.",
	RollupStatus:                 "Current status of a roll-up, judged against the target of its own level (or, without one, the worst of its units'); only the current status is served; at_risk carries the reason.",
	RollupUnits:                  "Units of a roll-up in each status; served for the statuses some unit is in.",
	RollupTarget:                 "Target of the milestone that governs a roll-up now, at the roll-up's level; served only where its level has a target.",
	RollupPlan:                   "Value a roll-up should have now, interpolated from the baseline through its level's milestones; served only where its level has a target.",
	RollupTargetDeadline:         "Deadline (end of its day) of the milestone that governs a roll-up now, in seconds since the epoch; served only where its level has a target.",
	RollupAttainment:             "Share of the way from baseline to target a roll-up has come (1 on target; when the target equals the baseline, 1 if met and 0 if not).",
	RollupReportPeriod:           "Start of the latest period reported by any unit of a roll-up, in seconds since the epoch.",
	RollupPlanGap:                "How far a roll-up is behind its plan, in the KPI's unit; served only while behind plan.",
	RollupForecast:               "Value the trend of a roll-up reaches by its governing deadline; served where a trend exists, the deadline is ahead and the target is not met.",
	RollupWorstUnits:             "The worst units within a roll-up in one status (missed or stale), at most three, by their Vietnamese names, worst first (furthest behind, or longest without a report), in the units label; served where some unit below the roll-up is in that status; always 1.",
	KPITarget:                    "Target value of the milestone that governs now.",
	KPITargetDeadline:            "Deadline of the milestone that governs now (end of its day), in seconds since the epoch.",
	KPIPlan:                      "Value the KPI should have now, interpolated from the baseline through the milestones.",
	KPIBaseline:                  "Baseline value the KPI's plan starts from.",
	KPITolerance:                 "How far behind plan a series may fall, as a fraction of the distance from baseline to target, before it is at risk.",
	OwnerInfo:                    "Metadata of a responsible agency; always 1.",
	ProvinceInfo:                 "The provincial units in force since 2025-07-01; always 1.",
	UnitInfo:                     "Each unit in force of every level the catalogue's units list (level, unit, name_vi, parent); always 1.",
	Tasks:                        "Roadmap tasks by owner, block and status.",
	TasksOverdue:                 "Roadmap tasks past their due date and not done.",
	TasksDoneLate:                "Roadmap tasks done after their due date.",
	TaskDue:                      "Due date (start of the day) of a roadmap task past its due date and not done, in seconds since the epoch.",
	ReportExpected:               "1 for each unit a report on the KPI's last due period is expected from.",
	ReportReceived:               "1 if the unit's report on the KPI's last due period is in, 0 if not.",
	ReportOnTime:                 "1 if the unit's report on the KPI's last due period was sent by the end of the due day, 0 if late or missing; only where the source says when reports were sent.",
	ReportDue:                    "When the report on the KPI's last due period was due (end of the due day), in seconds since the epoch.",
	ReportDuePeriod:              "Start of the KPI's last due period, whose reports completeness counts, in seconds since the epoch.",
	CollectorSuccess:             "Whether the last refresh of a source succeeded (1) or failed (0).",
	CollectorDuration:            "Duration of the last refresh of a source, in seconds.",
	CollectorLastSuccess:         "When a source last refreshed successfully, in seconds since the epoch.",
	CollectorSeries:              "Observed series, or roadmap tasks, held from a source's last good data.",
	CollectorRejectedRows:        "Rows the last refresh of a source rejected as bad input; a file rejected whole counts the rows it held.",
	CollectorConsecutiveFailures: "Refreshes of a source that have failed in a row (0 after a success).",
	CollectorFailures:            "Refreshes of a source that failed, and so kept its last good data, by reason.",
	CatalogueReloadSuccess:       "Whether the last catalogue reload succeeded (1) or was refused (0).",
	CatalogueReloadLast:          "When the catalogue was last loaded successfully, in seconds since the epoch.",
	BuildInfo:                    "Version of kpiwatch; always 1.",
	PushSuccess:                  "Whether the last push to VictoriaMetrics succeeded (1) or failed (0).",
	PushLastSuccess:              "When a push to VictoriaMetrics last succeeded, in seconds since the epoch.",
	PushFailures:                 "Pushes to VictoriaMetrics that failed (each is retried with backoff).",

	// Sources whose path is a folder or a glob of files.
	CollectorFilesRead:     "Files the last refresh of a source read, of a folder or a glob.",
	CollectorFilesRejected: "Files the last refresh of a source rejected whole (unreadable, no such sheet or column), of a folder or a glob.",
}
