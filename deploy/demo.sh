#!/usr/bin/env bash
# make demo: the exporter, Prometheus, Alertmanager and VictoriaMetrics from
# Debian's packages, on loopback, with the sample sources' history
# backfilled, until Ctrl-C. The alerts the sample implies (missed targets,
# overdue reports and tasks, ...) fire within two minutes, and Alertmanager
# delivers them to a local webhook receiver that prints each one. Nothing is
# installed or left behind: everything lives in a temporary directory, and
# each server is stopped by its PID.
#
#   deploy/demo.sh           run until Ctrl-C
#   deploy/demo.sh --check   start, check that history is served and that the
#                            alerts are delivered, stop
#
# Ports: set DEMO_EXPORTER, DEMO_PROMETHEUS, DEMO_ALERTMANAGER, DEMO_VM or
# DEMO_WEBHOOK (host:port) to move a server off its default address.
set -euo pipefail
cd "$(dirname "$0")/.."

EXPORTER=${DEMO_EXPORTER:-127.0.0.1:20606}
PROMETHEUS=${DEMO_PROMETHEUS:-127.0.0.1:29090}
ALERTMANAGER=${DEMO_ALERTMANAGER:-127.0.0.1:29093}
VM=${DEMO_VM:-127.0.0.1:28428}
WEBHOOK=${DEMO_WEBHOOK:-127.0.0.1:29095}
LABELS=(--extra-label=job=kpiwatch "--extra-label=instance=$EXPORTER")
# The alerts the embedded sample raises as soon as it is served.
EXPECTED=KPITargetMissed,KPIReportOverdue,KPITaskOverdue

need() {
	command -v "$1" >/dev/null || { echo "demo: $1 not found: apt-get install $2" >&2; exit 1; }
}
need go golang-go
need prometheus prometheus
need promtool prometheus
need prometheus-alertmanager prometheus-alertmanager
need victoria-metrics victoria-metrics
need curl curl

for var in EXPORTER PROMETHEUS ALERTMANAGER VM WEBHOOK; do
	addr=${!var}
	if (exec 3<>"/dev/tcp/${addr%:*}/${addr#*:}") 2>/dev/null; then
		echo "demo: $addr is in use; stop what listens there, or set DEMO_$var=127.0.0.1:<free port>" >&2
		exit 1
	fi
done

work=$(mktemp -d "${TMPDIR:-/tmp}/kpiwatch-demo.XXXXXX")
pids=()
stop() {
	local pid
	for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done
	for pid in "${pids[@]}"; do wait "$pid" 2>/dev/null || true; done
	rm -rf "$work"
	echo "demo: stopped"
}
trap stop EXIT
trap 'exit 130' INT TERM

# start NAME URL CMD...: run CMD in the background, logging to $work/NAME.log,
# and wait until URL answers (for two minutes at most: a loaded machine is
# slow, only a server that hangs or dies takes longer).
start() {
	local name=$1 url=$2
	shift 2
	"$@" >"$work/$name.log" 2>&1 &
	pids+=($!)
	for _ in $(seq 400); do
		curl -fsS -o /dev/null "$url" 2>/dev/null && return
		kill -0 "${pids[-1]}" 2>/dev/null || break
		sleep 0.3
	done
	echo "demo: $name did not start; its log:" >&2
	tail -n 20 "$work/$name.log" >&2
	exit 1
}

echo "demo: building kpiwatch and the webhook receiver"
go build -o "$work/kpiwatch" ./cmd/kpiwatch
go build -o "$work/webhook" ./deploy/demo/webhook

# Alerts and Alertmanager's configuration, generated for the demo: every
# owner's alerts go to the webhook receiver (the default receiver takes the
# owners a receivers file does not list), and Alertmanager waits 10 s rather
# than a minute before it sends a new group.
cat >"$work/receivers.yml" <<YAML
default:
  webhook_configs: [{url: "http://$WEBHOOK/", send_resolved: true}]
YAML
"$work/kpiwatch" generate --alerts.dir="$work/alerts" --dashboards.dir="$work/dashboards" --deploy.dir="$work/deploy" \
	--alertmanager.receivers-file="$work/receivers.yml" >"$work/generate.log"
sed -i 's/^  group_wait: 1m$/  group_wait: 10s/' "$work/alerts/alertmanager.yml"
cat >"$work/prometheus.yml" <<YAML
global:
  scrape_interval: 15s
  evaluation_interval: 15s
rule_files: [$work/alerts/kpiwatch.rules.yml]
alerting:
  alertmanagers:
    - static_configs: [{targets: ["$ALERTMANAGER"]}]
scrape_configs:
  - job_name: kpiwatch
    static_configs: [{targets: ["$EXPORTER"]}]
  # Every observed series; deployments scrape it every 10m (see
  # compose/prometheus.yml), the demo every 15s to show its alerts at once.
  - job_name: kpiwatch_units
    metrics_path: /metrics/units
    static_configs: [{targets: ["$EXPORTER"]}]
    metric_relabel_configs: [{target_label: job, replacement: kpiwatch}]
YAML

echo "demo: backfilling history into a Prometheus TSDB"
"$work/kpiwatch" backfill --format=openmetrics --output="$work/history.om" "${LABELS[@]}"
promtool tsdb create-blocks-from openmetrics --max-block-duration=4374h "$work/history.om" "$work/prometheus" >"$work/promtool.log"
rm "$work/history.om"

start victoria-metrics "http://$VM/health" victoria-metrics -httpListenAddr=$VM \
	-storageDataPath="$work/victoria-metrics" -retentionPeriod=100y -dedup.minScrapeInterval=1ms \
	-search.latencyOffset=1s
echo "demo: backfilling history into VictoriaMetrics"
"$work/kpiwatch" backfill --format=vm --vm.url="http://$VM/api/v1/import/prometheus" "${LABELS[@]}"

if [[ ${1:-} == --check ]]; then
	# The alerts come within two minutes; five bound a hang, not the load.
	"$work/webhook" -listen="$WEBHOOK" -until="$EXPECTED" -timeout=5m >"$work/webhook.log" 2>&1 &
	webhook=$!
	pids+=($webhook)
else
	"$work/webhook" -listen="$WEBHOOK" &
	pids+=($!)
fi
start alertmanager "http://$ALERTMANAGER/-/ready" prometheus-alertmanager \
	--config.file="$work/alerts/alertmanager.yml" --storage.path="$work/alertmanager" \
	--web.listen-address=$ALERTMANAGER --cluster.listen-address=
start prometheus "http://$PROMETHEUS/-/ready" prometheus \
	--config.file="$work/prometheus.yml" --storage.tsdb.path="$work/prometheus" \
	--storage.tsdb.retention.time=10y --query.lookback-delta=23h59m --web.listen-address=$PROMETHEUS
start exporter "http://$EXPORTER/-/ready" "$work/kpiwatch" serve --web.listen-address=$EXPORTER \
	--push.url="http://$VM/api/v1/import/prometheus" --push.interval=15s \
	--push.extra-label=job=kpiwatch "--push.extra-label=instance=$EXPORTER"

cat <<MSG

kpiwatch demo is running (logs in $work):
  exporter          http://$EXPORTER/metrics
  Prometheus        http://$PROMETHEUS/graph?g0.expr=kpi_value%7Bkpi%3D%22social_benefit_paid_by_bank%22%7D&g0.range_input=2y
  alerts            http://$PROMETHEUS/alerts  (routed to http://$ALERTMANAGER)
  VictoriaMetrics   http://$VM/vmui/
Try: kpi_rollup_value{level="whole"}, count by (status) (kpi_rollup_status), kpi_push_success.
Alerts delivered by Alertmanager are printed below as they arrive (within two
minutes). Ctrl-C stops everything.

MSG

if [[ ${1:-} == --check ]]; then
	year_ago=$(( $(date +%s) - 365 * 86400 ))
	for base in "http://$PROMETHEUS" "http://$VM"; do
		got=$(curl -fsS "$base/api/v1/query" --data-urlencode 'query=count(last_over_time(kpi_value{job="kpiwatch"}[1d]))' --data-urlencode "time=$year_ago")
		case $got in
		*'"result":[{'*) echo "demo: $base serves history: $got" ;;
		*) echo "demo: $base has no kpi_value a year ago: $got" >&2; exit 1 ;;
		esac
	done
	if ! wait "$webhook"; then
		cat "$work/webhook.log" >&2
		exit 1
	fi
	echo "demo: $(grep -c '^delivered' "$work/webhook.log") alerts delivered; the first of each kind:"
	for alert in ${EXPECTED//,/ }; do grep -m1 -A1 "] $alert " "$work/webhook.log"; done
	echo "demo: alerts delivered ($EXPECTED) $SECONDS s after the start"
	exit 0
fi
wait -n "${pids[@]}" || true
echo "demo: a server stopped on its own; the end of each log:" >&2
tail -n 5 "$work"/*.log >&2
exit 1
