package conventions

// Roll-ups and their judgement, served by the exporter on its main endpoint
// from the one judged model (package model): the TSDB stores them and the
// rules only route them. Each carries LabelKPI, LabelLevel and, but for
// LevelWhole, the level's dimension label. They are separate families from
// the observed series' so that no sum over kpi_value counts a total twice.
const (
	RollupValue       = "kpi_rollup_value"
	RollupNumerator   = "kpi_rollup_numerator"
	RollupDenominator = "kpi_rollup_denominator"
	// RollupStatus is 1 for the roll-up's current status (labels status and,
	// when at risk, reason).
	RollupStatus = "kpi_rollup_status"
	// RollupUnits counts the units in each status within the roll-up
	// (label status).
	RollupUnits          = "kpi_rollup_units"
	RollupTarget         = "kpi_rollup_target"
	RollupPlan           = "kpi_rollup_plan"
	RollupTargetDeadline = "kpi_rollup_target_deadline_timestamp_seconds"
	RollupAttainment     = "kpi_rollup_attainment"
	RollupReportPeriod   = "kpi_rollup_report_period_timestamp_seconds"
	// RollupPlanGap is served only while the roll-up is behind plan.
	RollupPlanGap = "kpi_rollup_plan_gap"
	// RollupForecast is served only with a trend, a deadline ahead and the
	// target not met.
	RollupForecast = "kpi_rollup_forecast"
	// RollupWorstUnits names the roll-up's worst parts in a status (labels
	// status and units): the alerts that fire at once read their names
	// from it rather than rank units in PromQL.
	RollupWorstUnits = "kpi_rollup_worst_units_info"
)

// LabelLevel says which roll-up a kpi_rollup_* series is.
const LabelLevel = "level"

// LevelWhole is the deployment's whole (national for Project 06); every
// other level is named by its dimension (province, block, ministry, a
// declared dimension).
const LevelWhole = "whole"

// UnitsPath is the exporter's second endpoint: every observed series
// (value, numerator, denominator, report period and judgement), scraped
// less often than the main one because reports change monthly.
const UnitsPath = "/metrics/units"
