#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# kvmrt export for real: a Prometheus server scraping it on loopback, the
# dashboard and rules against a live scrape, hostile names and clients,
# TLS and basic auth. Needs root and /dev/kvm.
cd "$(dirname "$0")/../.." || exit 1
. tests/lib.sh
PY=/usr/bin/python3 # Debian's, with python3-prometheus-client
CHECK="$PY tests/e2e/export_check.py"
PORT=19976
PROM_PORT=19090

# wait_http URL: until it answers (10 s)
wait_http() {
	local i
	for i in $(seq 100); do
		curl -sfk -o /dev/null "$1" && return 0
		sleep 0.1
	done
	return 1
}

start_export() {
	local port=$1
	shift
	"$KVMRT" export --listen "127.0.0.1:$port" "$@" 2>>"$TMP/export.err" &
	EXPORT_PID=$!
	BG_PIDS+=("$EXPORT_PID")
}

# with -a: its family (kvmrt_interference_seconds_total) is the dashboard's too
start_export $PORT -i 0.5 --grace 3 -a
wait_http "http://127.0.0.1:$PORT/metrics" || { cat "$TMP/export.err"; not_ok "exporter start"; summary; exit 1; }

if needs_kvm "1: a real Prometheus scrapes a guest"; then
	# 1. a real Prometheus scrapes it while the guest runs
	cat >"$TMP/prometheus.yml" <<EOF
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files: ["$PWD/dashboards/alerts.yml"]
scrape_configs:
  - job_name: kvmrt
    static_configs:
      - targets: ["127.0.0.1:$PORT"]
EOF
	prometheus --config.file="$TMP/prometheus.yml" --storage.tsdb.path="$TMP/tsdb" \
		--web.listen-address="127.0.0.1:$PROM_PORT" >"$TMP/prom.log" 2>&1 &
	BG_PIDS+=($!)
	wait_http "http://127.0.0.1:$PROM_PORT/-/ready"
	start_trace "$TMP/prom_trace.json" -g prom-rt
	"$GUEST" -m msi -r 1000 -d 8 -q --name prom-rt --json="$TMP/prom_guest.json"
	stop_trace
	sleep 2.5 # two more scrapes after the guest's last interrupt
	check "Prometheus: histogram_quantile(0.99) agrees with kvmrt trace, the guest's p99 not below" \
		$CHECK prom_p99 "127.0.0.1:$PROM_PORT" prom-rt "$TMP/prom_guest.json" "$TMP/prom_trace.json"
	check "Prometheus scraped it as up" bash -c "curl -s 'http://127.0.0.1:$PROM_PORT/api/v1/query?query=up' | grep -q '\"value\":\[[0-9.]*,\"1\"\]'"
fi

# 2. promtool: the exposition and the rules
g=
if kvm_here; then # a guest's series too, where there can be one
	"$GUEST" -m msi -r 500 -d 6 -q --name lint-rt &
	g=$!
	BG_PIDS+=("$g")
	sleep 1.5
fi
check "promtool check metrics is clean" bash -c \
	"curl -s http://127.0.0.1:$PORT/metrics | promtool check metrics"
check "promtool check rules accepts the alert rules" promtool check rules dashboards/alerts.yml
check "-a: the interference family is served (kind: a bounded label set)" bash -c \
	"curl -s http://127.0.0.1:$PORT/metrics | grep -qx '# TYPE kvmrt_interference_seconds_total counter'"

# 3. what the dashboard and rules reference exists in a live scrape
if needs_kvm "3: the dashboard's and rules' references in a scrape with a guest"; then
	check "dashboard and rules reference only scraped metrics and labels" \
		$CHECK refs "http://127.0.0.1:$PORT/metrics" dashboards/kvmrt.json dashboards/alerts.yml
	wait "$g"
fi

if needs_kvm "4: a guest with a hostile name"; then
	# 4. a hostile VM name: quotes, backslashes, newline, UTF-8, invalid bytes
	evil=$'ev"il\\vm\nline2 名前 \xff'
	"$GUEST" -m msi -r 500 -d 4 -q --name "$evil" &
	g=$!
	BG_PIDS+=("$g")
	sleep 1.5
	check "hostile VM name: promtool parses the exposition" bash -c \
		"curl -s http://127.0.0.1:$PORT/metrics | promtool check metrics"
	check "hostile VM name: the label value round-trips" $CHECK hostile "http://127.0.0.1:$PORT/metrics" "$evil"
fi

# 5. hostile clients
check "200 concurrent connections: no crash, bounded memory" \
	$CHECK concurrency 127.0.0.1 $PORT "$EXPORT_PID" 200
check "the exporter survived" kill -0 "$EXPORT_PID"
check "silent clients do not block scrapes" $CHECK idle 127.0.0.1 $PORT
check "/ is a landing page, other paths 404" bash -c \
	"curl -s http://127.0.0.1:$PORT/ | grep -q '/metrics' && test \$(curl -s -o /dev/null -w '%{http_code}' http://127.0.0.1:$PORT/nope) = 404"

if needs_kvm "6: a guest that is gone"; then
	# 6. a VM that is gone: series kept for the grace period, then dropped
	wait "$g"
	"$GUEST" -m msi -r 500 -d 1.5 -q --name gone-rt
	check "gone VM: series kept within the grace period" $CHECK present "http://127.0.0.1:$PORT/metrics" gone-rt
	sleep 4.5
	check "gone VM: series dropped after it" $CHECK gone "http://127.0.0.1:$PORT/metrics" gone-rt
fi

# 7. TLS and basic auth from a web config file
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=127.0.0.1 \
	-addext subjectAltName=IP:127.0.0.1 -keyout "$TMP/key.pem" -out "$TMP/cert.pem" 2>/dev/null
hash=$($PY -c 'import crypt; print(crypt.crypt("s3cret", crypt.mksalt(crypt.METHOD_BLOWFISH)))' 2>/dev/null)
cat >"$TMP/web.yml" <<EOF
tls_server_config:
  cert_file: cert.pem
  key_file: key.pem
basic_auth_users:
  prom: '$hash'
EOF
start_export $((PORT + 1)) --web-config "$TMP/web.yml"
wait_http "https://127.0.0.1:$((PORT + 1))/" || true
code() { curl -s -o /dev/null -w '%{http_code}' --cacert "$TMP/cert.pem" "$@"; }
check "TLS + basic auth: no credentials -> 401" test "$(code https://127.0.0.1:$((PORT + 1))/metrics)" = 401
check "TLS + basic auth: wrong password -> 401" test "$(code -u prom:nope https://127.0.0.1:$((PORT + 1))/metrics)" = 401
check "TLS + basic auth: right password -> 200" test "$(code -u prom:s3cret https://127.0.0.1:$((PORT + 1))/metrics)" = 200
check "TLS: plain HTTP is not served" bash -c "! curl -sf -o /dev/null http://127.0.0.1:$((PORT + 1))/metrics"

# 8. bad input
echo "tls_server_config: {cert_file: nothere.pem, key_file: nothere.pem}" >"$TMP/bad.yml"
check "bad --listen" bad 2 "$KVMRT" export --listen nowhere
check "bad --interval" bad 2 "$KVMRT" export --interval 0
check "web config naming missing files" bad 1 "$KVMRT" export --web-config "$TMP/bad.yml"
check "port in use" bad 1 "$KVMRT" export --listen "127.0.0.1:$PORT"

summary
