package conventions

// LabelCounted is on an alert that counts units rather than judges one
// figure: its value is how many units of that dimension (commune) within
// the roll-up the exporter judges in the alert's state, from
// kpi_rollup_units. It keeps such an alert apart from the roll-up's own
// alert of the same name, level and unit.
const LabelCounted = "counted"
