package dashboards

import (
	"fmt"

	"github.com/grafana/grafana-foundation-sdk/go/bargauge"
	"github.com/grafana/grafana-foundation-sdk/go/cog"
	"github.com/grafana/grafana-foundation-sdk/go/common"
	"github.com/grafana/grafana-foundation-sdk/go/dashboard"
	"github.com/grafana/grafana-foundation-sdk/go/stat"
	"github.com/grafana/grafana-foundation-sdk/go/table"
	"github.com/grafana/grafana-foundation-sdk/go/timeseries"

	"github.com/kpiwatch/kpiwatch/catalogue"
	c "github.com/kpiwatch/kpiwatch/conventions"
)

// The roadmap board's filters: blocks and owners, all by default.
var taskFilter = []string{re(c.LabelBlock, "$block"), re(c.LabelOwner, "$owner")}

// roadmapTasks is the roadmap: tasks by owner and status, the overdue ones
// with how long they are overdue, and the same per block.
func roadmapTasks(cat *catalogue.Catalogue) *dashboard.DashboardBuilder {
	b := newBoard(cat, UIDTasks, "Nhiệm vụ theo lộ trình", "Roadmap tasks",
		"Roadmap tasks by owner and status, the overdue ones and how long they are overdue, per block.",
		"now-90d", "5m").
		WithVariable(queryVariable(c.LabelBlock, bi("Khối", "Block"), fmt.Sprintf("label_values(%s, %s)", c.Tasks, c.LabelBlock), ".*").Multi(true)).
		WithVariable(queryVariable(c.LabelOwner, bi("Chủ trì", "Owner"),
			fmt.Sprintf("label_values(%s, %s)", sel(c.Tasks, re(c.LabelBlock, "$block")), c.LabelOwner), ".*").Multi(true))
	b.WithRow(row("Tổng hợp", "Summary"))
	all := "sum(" + sel(c.Tasks, taskFilter...) + ")"
	b.WithPanel(taskCount(bi("Tổng số nhiệm vụ", "Tasks"), "Every roadmap task of the owners selected.", all, "blue"))
	b.WithPanel(taskCount(bi("Đã hoàn thành", "Done"), "Tasks done, on time or late.",
		orZero("sum("+sel(c.Tasks, append([]string{eq(c.LabelTaskStatus, "done")}, taskFilter...)...)+")", all), "green"))
	b.WithPanel(taskCount(bi("Quá hạn", "Overdue"), "Tasks past their due date and not done.",
		"sum("+sel(c.TasksOverdue, taskFilter...)+")", "red"))
	b.WithPanel(taskCount(bi("Hoàn thành muộn", "Done late"), "Tasks done after their due date.",
		"sum("+sel(c.TasksDoneLate, taskFilter...)+")", "orange"))
	b.WithRow(row("Theo chủ trì", "By owner"))
	b.WithPanel(tasksByStatus(c.LabelOwner, bi("Nhiệm vụ theo chủ trì và trạng thái", "Tasks by owner and status")))
	b.WithPanel(overdueBy(c.LabelOwner, bi("Nhiệm vụ quá hạn theo chủ trì", "Overdue tasks by owner")))
	b.WithPanel(overdueTasks(sel(c.TaskDue, taskFilter...)))
	b.WithRow(row("Theo khối", "By block"))
	b.WithPanel(tasksByStatus(c.LabelBlock, bi("Nhiệm vụ theo khối và trạng thái", "Tasks by block and status")))
	b.WithPanel(overdueBy(c.LabelBlock, bi("Nhiệm vụ quá hạn theo khối", "Overdue tasks by block")))
	b.WithPanel(overdueOverTime())
	return b
}

func taskCount(title, description, expr, color string) *stat.PanelBuilder {
	return newStat(title, description).Span(6).
		WithTarget(instantSeries("A", expr, "tasks")).
		ColorScheme(fixedColor(color)).Unit("none").Decimals(0)
}

// tasksByStatus is a table with a row per value of by and a column per task
// status.
func tasksByStatus(by, title string) *table.PanelBuilder {
	return newTable(title, "Roadmap tasks counted by status.").Span(12).
		WithTarget(instantQuery("A", fmt.Sprintf("sum by (%s, %s) (%s)", by, c.LabelTaskStatus, sel(c.Tasks, taskFilter...)))).
		WithTransformation(dashboard.DataTransformerConfig{Id: "groupingToMatrix", Options: map[string]any{
			"columnField": c.LabelTaskStatus, "rowField": by, "valueField": "Value",
		}})
}

func overdueBy(by, title string) *bargauge.PanelBuilder {
	return newBarGauge(title, "Tasks past their due date and not done.").
		WithTarget(instantSeries("A", fmt.Sprintf("sort_desc(sum by (%s) (%s))", by, sel(c.TasksOverdue, taskFilter...)), "{{"+by+"}}")).
		Unit("none").Decimals(0).ColorScheme(colorByThresholds()).Thresholds(thresholds("green", step{1, "orange"}, step{5, "red"}))
}

// overdueTasks lists each overdue task of expr (kpi_task_due_timestamp_seconds)
// with how many whole days it is overdue.
func overdueTasks(expr string) *table.PanelBuilder {
	return newTable(bi("Nhiệm vụ quá hạn", "Overdue tasks"), "Each task past its due date and not done, most overdue first.").
		WithTarget(instantQuery("A", "sort_desc(floor((time() - "+expr+") / 86400))")).
		WithTransformation(organize([]string{"Time", "__name__", labelInstance, labelJob}, [][2]string{
			{c.LabelTask, bi("Nhiệm vụ", "Task")}, {c.LabelOwner, bi("Chủ trì", "Owner")}, {c.LabelBlock, bi("Khối", "Block")},
			{"Value", bi("Số ngày quá hạn", "Days overdue")},
		})).
		OverrideByName(bi("Số ngày quá hạn", "Days overdue"), []dashboard.DynamicConfigValue{unitProp("none"), {Id: "decimals", Value: 0},
			thresholdsProp(thresholds("orange", step{30, "red"})), cellColorBackground()}).
		SortBy([]cog.Builder[common.TableSortByFieldState]{common.NewTableSortByFieldStateBuilder().DisplayName(bi("Số ngày quá hạn", "Days overdue")).Desc(true)}).
		NoValue(bi("Không có nhiệm vụ quá hạn", "No overdue tasks"))
}

func overdueOverTime() *timeseries.PanelBuilder {
	return newTimeseries(bi("Nhiệm vụ quá hạn theo thời gian", "Overdue tasks over time"), "Overdue tasks per block over the range shown.").
		Span(24).
		WithTarget(rangeQuery("A", fmt.Sprintf("sum by (%s) (%s)", c.LabelBlock, sel(c.TasksOverdue, taskFilter...)), "{{"+c.LabelBlock+"}}")).
		Unit("none").Decimals(0)
}
