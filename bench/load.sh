#!/usr/bin/env bash
# bench/load.sh: end-to-end load test of the senfi middleware with wrk.
#
# What it measures, each target for LOAD_DURATION, LOAD_ROUNDS times (the
# rounds interleave the targets, so that drift in the machine's load hits
# all of them alike):
#
#   bare          GET /v1/items, the trivial handler in a ServeMux, no middleware
#   headers       bare, answering with the senfi chain's response header fields
#                 (18 more than bare, 1.2 kB more): what sending them costs
#   senfi         the trivial handler behind the example's full chain (client IP, perf,
#                 audit log to an HMAC-chained file, recover, secure headers/
#                 hosts/CORS, global rate limit, jwtauth with revocation in
#                 memory), token required
#   peers         the trivial handler behind unrolled/secure, rs/cors, httprate, golang-jwt
#   senfi-sqlite  the senfi chain with revocation in SQLite (LOAD_SQLITE_CHAIN=1)
#   example-user      the example app (SQLite; Redis with LOAD_REDIS_URL):
#                     authenticated GET /api/auth/user
#   example-approved  the example app: public GET /api/campaigns/approved
#                     (LOAD_CAMPAIGNS approved campaigns seeded)
#
# The first five are served by bench/cmd/chainserver (package
# bench/cmd/chainserver/chain holds the chains, shared with BenchmarkChain).
# Every request is a cross-origin GET (Origin: http://localhost:3000) with
# Accept: application/json, an X-Forwarded-For cycling through 10,000
# client addresses (198.18.0.0 to 198.18.39.15) and, but for
# example-approved, a valid Bearer token. chainserver trusts no proxy, so
# its chains see one client, 127.0.0.1, and its limits are far above what
# it can send; the example trusts 127.0.0.1 (SENFI_TRUSTED_PROXIES), so its
# global limit (SENFI_RATE_GLOBAL, 3000 requests per minute) applies per forwarded
# address, about 30 a minute each at these rates.
#
# It reports, per target and round: requests per second, latency p50 and
# p99 (from wrk's histogram, via a Lua done() hook), the ratio of req/s to
# bare's in the same round, the CPU time the server process (from /proc)
# and wrk each spent per request, and the ratio of bare's (server + wrk)
# CPU per request to the target's. Every target must first answer 200 to
# the request wrk sends, and a run fails (exit 1) if any response is an
# error (4xx, 5xx) or any socket error occurs: a 401 or 429 is a cheaper
# response and would falsify the figures. Then it takes a CPU profile of
# chainserver's senfi chain under the same load and prints the top costs,
# and at the end it checks the HMAC chain of every security log written
# (chainserver's and the example's): every request must be in it.
#
# Both servers and wrk share the machine: nothing is pinned to a CPU.
#
# Usage (from anywhere; needs go, curl, jq and wrk, which it installs with
# apt-get when missing and allowed to):
#
#   bench/load.sh
#
# Environment (all optional):
#   LOAD_DURATION=10s        length of each measured wrk run
#   LOAD_ROUNDS=2            measured runs per target
#   LOAD_WARMUP=2s           unmeasured run per target before the first round
#   LOAD_THREADS=1           wrk threads (-t)
#   LOAD_CONNECTIONS=32      wrk connections (-c)
#   LOAD_PROFILE_SECONDS=10  CPU profile length (0: no profile)
#   LOAD_FIELDS="0 4 8 9 12 16 all"
#                            the header-field sweep: after the rounds, each
#                            round again runs the headers target answering
#                            with only the first N of the chain's fields
#                            (?fields=N, name order; "all" is every field)
#                            and reports req/s against the first N of the
#                            list in that round (N from 0 to 18, or all);
#                            empty: no sweep
#   LOAD_SQLITE_CHAIN=1      also measure senfi-sqlite (0: skip)
#   LOAD_CAMPAIGNS=20        approved campaigns seeded in the example
#   LOAD_REDIS_URL=          run the example with SENFI_REDIS_URL=this
#                            (rate limits and revocation in Redis)
#   LOAD_PORT=18080          the ports used are LOAD_PORT+1 to LOAD_PORT+7
#   LOAD_OUT=                directory for results (default: a new one
#                            under /tmp, kept and printed)
#   LOAD_KEEP=0              1 keeps the work directory (databases, logs)
set -euo pipefail

duration=${LOAD_DURATION:-10s}
rounds=${LOAD_ROUNDS:-2}
warmup=${LOAD_WARMUP:-2s}
threads=${LOAD_THREADS:-1}
connections=${LOAD_CONNECTIONS:-32}
profile_seconds=${LOAD_PROFILE_SECONDS:-10}
fields_sweep=${LOAD_FIELDS-0 4 8 9 12 16 all}
sqlite_chain=${LOAD_SQLITE_CHAIN:-1}
campaigns=${LOAD_CAMPAIGNS:-20}
redis_url=${LOAD_REDIS_URL:-}
redis_prefix="senfi-load-$$:"
port=${LOAD_PORT:-18080}
origin=http://localhost:3000

bench_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(dirname "$bench_dir")

die() { echo "load.sh: $*" >&2; exit 1; }
say() { echo "load.sh: $*" >&2; }

# ---- tools ----
for tool in go curl jq; do
	command -v "$tool" >/dev/null || die "$tool is required"
done
if ! command -v wrk >/dev/null; then
	say "wrk is missing: installing the Debian package"
	if [ "$(id -u)" -eq 0 ]; then
		apt-get install -y wrk >&2 || { apt-get update >&2 && apt-get install -y wrk >&2; }
	elif command -v sudo >/dev/null; then
		sudo apt-get install -y wrk >&2 || { sudo apt-get update >&2 && sudo apt-get install -y wrk >&2; }
	fi
	command -v wrk >/dev/null || die "install wrk (apt-get install wrk) and run again"
fi

# ---- directories and clean-up ----
work=$(mktemp -d -t senfi-load.XXXXXX)
out=${LOAD_OUT:-$(mktemp -d -t senfi-load-results.XXXXXX)}
mkdir -p "$out/wrk"
pids=()
cleanup() {
	local status=$?
	for pid in "${pids[@]}"; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	for pid in "${pids[@]}"; do
		wait "$pid" 2>/dev/null || true
	done
	# The example's keys in Redis (the login lockout's trust key lives for
	# weeks): removed when redis-cli is at hand.
	if [ -n "$redis_url" ] && command -v redis-cli >/dev/null; then
		redis-cli -u "$redis_url" --scan --pattern "$redis_prefix*" | xargs -r -d '\n' redis-cli -u "$redis_url" del >/dev/null || true
	fi
	if [ -s "$work/chainserver.log" ]; then
		cp "$work/chainserver.log" "$out/"
		grep 'security log' "$work/chainserver.log" >&2 || true
	fi
	if [ "${LOAD_KEEP:-0}" = 1 ]; then
		say "work directory kept: $work"
	else
		rm -rf "$work"
	fi
	exit "$status"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# ---- build ----
say "building chainserver and the example"
(cd "$bench_dir" && go build -o "$work/chainserver" ./cmd/chainserver)
(cd "$repo" && go build -o "$work/senfi" ./example)

# wait_for FILE PATTERN PID: wait until FILE holds PATTERN, failing if PID
# exits or 30 s pass.
wait_for() {
	local i
	for i in $(seq 300); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		kill -0 "$3" 2>/dev/null || { cat "$1" >&2; die "process $3 exited"; }
		sleep 0.1
	done
	cat "$1" >&2
	die "timed out waiting for '$2' in $1"
}

# ---- chainserver ----
bare_addr=127.0.0.1:$((port + 1))
senfi_addr=127.0.0.1:$((port + 2))
peers_addr=127.0.0.1:$((port + 3))
sqlite_addr=127.0.0.1:$((port + 4))
pprof_addr=127.0.0.1:$((port + 5))
example_addr=127.0.0.1:$((port + 6))
headers_addr=127.0.0.1:$((port + 7))
sqlite_flag=""
[ "$sqlite_chain" = 1 ] && sqlite_flag=$sqlite_addr
"$work/chainserver" -bare "$bare_addr" -senfi "$senfi_addr" -peers "$peers_addr" \
	-senfi-sqlite "$sqlite_flag" -headers "$headers_addr" -pprof "$pprof_addr" -origin "$origin" \
	-dir "$work/chainserver.d" -token-file "$work/chain.token" >"$work/chainserver.log" 2>&1 &
chain_pid=$!
pids+=("$chain_pid")
wait_for "$work/chainserver.log" "ready" "$chain_pid"
chain_token=$(cat "$work/chain.token")

# ---- the example ----
ex_env=(
	SENFI_ENV=development
	SENFI_ADDR="$example_addr"
	SENFI_DATA_DIR="$work/example"
	SENFI_DATABASE_URL="sqlite://$work/example/senfi.db"
	SENFI_SECRET_KEY="$(head -c 32 /dev/urandom | od -An -tx1 | tr -d ' \n')"
	SENFI_METRICS_ADDR=off
	SENFI_TRUSTED_PROXIES=127.0.0.1,::1
	SENFI_RATE_LOGIN=1000/m
	SENFI_RATE_SUBMIT=100000/m
)
if [ -n "$redis_url" ]; then
	ex_env+=(SENFI_REDIS_URL="$redis_url" SENFI_REDIS_PREFIX="$redis_prefix")
fi
email=load-test-admin@sharif.edu
password="$(head -c 12 /dev/urandom | od -An -tx1 | tr -d ' \n')"
mkdir -p "$work/example"
env "${ex_env[@]}" "$work/senfi" createsuperuser --email "$email" --password "$password" >"$work/createsuperuser.log" 2>&1 ||
	{ cat "$work/createsuperuser.log" >&2; die "createsuperuser failed"; }
env "${ex_env[@]}" "$work/senfi" serve >"$work/example.log" 2>&1 &
example_pid=$!
pids+=("$example_pid")
wait_for "$work/example.log" "serving on" "$example_pid"

# api METHOD PATH [JSON] [TOKEN]: call the example, print the body, fail
# unless the status is 2xx.
api() {
	local args=(-sS -o "$work/api.body" -w '%{http_code}' -X "$1" -H "Origin: $origin" -H 'Accept: application/json')
	[ -n "${3:-}" ] && args+=(-H 'Content-Type: application/json' --data "$3")
	[ -n "${4:-}" ] && args+=(-H "Authorization: Bearer $4")
	local code
	code=$(curl "${args[@]}" "http://$example_addr$2")
	case $code in
	2??) cat "$work/api.body" ;;
	*) cat "$work/api.body" >&2; die "$1 $2: status $code" ;;
	esac
}
login=$(jq -cn --arg e "$email" --arg p "$password" '{email: $e, password: $p}')
example_token=$(api POST /api/auth/login "$login" | jq -er .access_token)
say "seeding $campaigns approved campaigns"
for i in $(seq "$campaigns"); do
	body=$(jq -cn --arg t "Load test campaign $i" \
		'{title: $t, description: "A campaign created by bench/load.sh to give the list some rows.", end_datetime: "2099-12-31T23:59:00Z"}')
	id=$(api POST /api/campaigns/submit "$body" "$example_token" | jq -er .campaign_id)
	api POST /api/admin/campaigns/approve "{\"campaign_id\": $id, \"approved\": true}" "$example_token" >/dev/null
done
total=$(api GET /api/campaigns/approved | jq -er .total)
[ "$total" = "$campaigns" ] || die "the example lists $total approved campaigns, want $campaigns"

# ---- wrk ----
cat >"$work/load.lua" <<'LUA'
-- Requests for wrk: 10,000 pre-formatted GETs differing only in
-- X-Forwarded-For, each with Origin, Accept and (when a token is given as
-- the script's first argument) a Bearer token. done() prints one line
-- that load.sh parses.
local reqs, n, i = {}, 10000, 0
function init(args)
	local token, origin = args[1] or "", args[2] or "http://localhost:3000"
	for k = 0, n - 1 do
		local h = {
			["Accept"] = "application/json",
			["Origin"] = origin,
			["X-Forwarded-For"] = string.format("198.18.%d.%d", math.floor(k / 256), k % 256),
		}
		if token ~= "" then h["Authorization"] = "Bearer " .. token end
		reqs[k + 1] = wrk.format("GET", nil, h)
	end
end
function request()
	i = i % n + 1
	return reqs[i]
end
function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format("LOADRESULT requests=%d duration_us=%d p50_us=%d p99_us=%d status=%d connect=%d read=%d write=%d timeout=%d\n",
		summary.requests, summary.duration, latency:percentile(50), latency:percentile(99),
		e.status, e.connect, e.read, e.write, e.timeout))
end
LUA

ticks_per_second=$(getconf CLK_TCK)
# cpu_ticks PID: user+system CPU ticks the process has used.
cpu_ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; }

# field LINE NAME: the value of NAME=... in a LOADRESULT line.
field() { sed -n "s/.* $2=\([0-9]*\).*/\1/p" <<<"$1"; }

# run_wrk NAME PID URL TOKEN DURATION: one wrk run; prints a result row
# "name rps p50_us p99_us server_us_per_req wrk_us_per_req", fails on
# any error response.
run_wrk() {
	local name=$1 pid=$2 url=$3 token=$4 dur=$5 log="$out/wrk/$1-$(date +%H%M%S).txt"
	local before after wrk_cpu line
	before=$(cpu_ticks "$pid")
	TIMEFORMAT='%U %S'
	{ time wrk -t"$threads" -c"$connections" -d"$dur" -s "$work/load.lua" "$url" -- "$token" "$origin" >"$log" 2>"$log.err"; } 2>"$log.time"
	after=$(cpu_ticks "$pid")
	line=$(grep '^LOADRESULT' "$log") || { cat "$log" "$log.err" >&2; die "$name: wrk printed no result"; }
	local requests duration errors
	requests=$(field "$line" requests)
	duration=$(field "$line" duration_us)
	errors=$(($(field "$line" status) + $(field "$line" connect) + $(field "$line" read) + $(field "$line" write) + $(field "$line" timeout)))
	if [ "$errors" -ne 0 ] || [ "$requests" -eq 0 ]; then
		cat "$log" >&2
		die "$name: $errors error responses or socket errors in $requests requests: the figures would be false"
	fi
	wrk_cpu=$(tail -1 "$log.time" | awk '{print $1 + $2}')
	[ -s "$log.err" ] || rm -f "$log.err"
	awk -v n="$name" -v r="$requests" -v d="$duration" -v p50="$(field "$line" p50_us)" -v p99="$(field "$line" p99_us)" \
		-v t=$((after - before)) -v hz="$ticks_per_second" -v w="$wrk_cpu" \
		'BEGIN { printf "%s %.0f %d %d %.1f %.1f\n", n, r / d * 1e6, p50, p99, t / hz * 1e6 / r, w * 1e6 / r }'
}

targets=("bare $chain_pid http://$bare_addr/v1/items $chain_token"
	"headers $chain_pid http://$headers_addr/v1/items $chain_token"
	"senfi $chain_pid http://$senfi_addr/v1/items $chain_token"
	"peers $chain_pid http://$peers_addr/v1/items $chain_token")
[ "$sqlite_chain" = 1 ] && targets+=("senfi-sqlite $chain_pid http://$sqlite_addr/v1/items $chain_token")
targets+=("example-user $example_pid http://$example_addr/api/auth/user $example_token"
	"example-approved $example_pid http://$example_addr/api/campaigns/approved -")

# Check every target answers 200 to the request wrk will send.
for t in "${targets[@]}"; do
	read -r name _ url token <<<"$t"
	[ "$token" = - ] && token=""
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Origin: $origin" -H 'Accept: application/json' \
		-H 'X-Forwarded-For: 198.18.0.1' ${token:+-H "Authorization: Bearer $token"} "$url")
	[ "$code" = 200 ] || die "$name: $url answers $code"
done

# Check every N of the header-field sweep is one the headers target serves.
for n in $fields_sweep; do
	url="http://$headers_addr/v1/items"
	[ "$n" = all ] || url="$url?fields=$n"
	code=$(curl -sS -o /dev/null -w '%{http_code}' "$url")
	[ "$code" = 200 ] || die "LOAD_FIELDS: $n: $url answers $code (N must be from 0 to the number of fields, or all)"
done

say "machine: $(nproc) CPUs, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //'), $(go version | cut -d' ' -f3), load average $(cut -d' ' -f1-3 /proc/loadavg)"
say "wrk -t$threads -c$connections -d$duration, $rounds rounds (warm-up $warmup each first)"
for t in "${targets[@]}"; do
	read -r name pid url token <<<"$t"
	[ "$token" = - ] && token=""
	run_wrk "$name" "$pid" "$url" "$token" "$warmup" >/dev/null
done
results="$out/results.txt"
: >"$results"
for round in $(seq "$rounds"); do
	for t in "${targets[@]}"; do
		read -r name pid url token <<<"$t"
		[ "$token" = - ] && token=""
		row=$(run_wrk "$name" "$pid" "$url" "$token" "$duration")
		echo "$round $row" >>"$results"
		say "round $round: $row"
	done
done

echo
echo "wrk -t$threads -c$connections -d$duration; load average after: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "/bare CPU per req: bare's (server + wrk) CPU time per request over this target's, the req/s ratio"
echo "to expect when server and wrk alone saturate the machine (less sensitive to other load than req/s)"
awk '
	BEGIN {
		printf "%-5s %-17s %8s %8s %8s %7s %10s %9s %9s\n", "round", "target", "req/s", "p50", "p99", "/bare", "/bare CPU", "server", "wrk"
		printf "%-5s %-17s %8s %8s %8s %7s %10s %9s %9s\n", "", "", "", "", "", "req/s", "per req", "µs/req", "µs/req"
	}
	$2 == "bare" { bare[$1] = $3; bareCPU[$1] = $6 + $7 }
	{ row[NR] = $0 }
	END {
		for (i = 1; i <= NR; i++) {
			split(row[i], f, " ")
			printf "%-5s %-17s %8d %6.2fms %6.2fms %6.0f%% %9.0f%% %9.1f %9.1f\n", f[1], f[2], f[3], f[4] / 1000, f[5] / 1000,
				100 * f[3] / bare[f[1]], 100 * bareCPU[f[1]] / (f[6] + f[7]), f[6], f[7]
		}
	}' "$results" | tee "$out/summary.txt"

# ---- header-field sweep ----
# What net/http charges for each header field, whatever sets it: the headers
# target answering with the first N fields only. The first value of the
# sweep is the reference of the ratio column.
if [ -n "$fields_sweep" ]; then
	fields_results="$out/fields.txt"
	: >"$fields_results"
	echo
	say "header-field sweep: N = $fields_sweep"
	for round in $(seq "$rounds"); do
		for n in $fields_sweep; do
			url="http://$headers_addr/v1/items"
			[ "$n" = all ] || url="$url?fields=$n"
			row=$(run_wrk "fields-$n" "$chain_pid" "$url" "$chain_token" "$duration")
			echo "$round $row" >>"$fields_results"
			say "fields round $round: $row"
		done
	done
	echo
	echo "header fields added to bare's response (the headers target's first N, name order):"
	awk '
		BEGIN { printf "%-5s %-11s %8s %8s %9s %9s\n", "round", "fields", "req/s", "p50", "/first", "server" }
		!($1 in first) { first[$1] = $3 }
		{ printf "%-5s %-11s %8d %6.2fms %8.0f%% %6.1fµs\n", $1, substr($2, 8), $3, $4 / 1000, 100 * $3 / first[$1], $6 }
	' "$fields_results" | tee "$out/fields-summary.txt"
fi

# ---- CPU profile of the senfi chain ----
if [ "$profile_seconds" -gt 0 ]; then
	echo
	say "CPU profile of chainserver's senfi chain under load (${profile_seconds}s)"
	run_wrk senfi-profiled "$chain_pid" "http://$senfi_addr/v1/items" "$chain_token" "$((profile_seconds + 2))s" >"$work/profiled.row" &
	wrk_pid=$!
	sleep 1
	curl -sS -o "$out/senfi.pprof" "http://$pprof_addr/debug/pprof/profile?seconds=$profile_seconds"
	wait "$wrk_pid" || die "the profiled wrk run failed"
	cp "$work/chainserver" "$out/chainserver"
	echo "profiled run: $(cat "$work/profiled.row")"
	echo
	echo "flat (where the CPU time is spent):"
	go tool pprof -top -nodecount=15 "$out/chainserver" "$out/senfi.pprof" 2>/dev/null | sed -n '/flat%/,$p'
	echo
	echo "the kit's frames, by time spent in each and below (cum); a layer's own cost is its cum"
	echo "minus the next layer's; per request: divide by the requests of the profiled run's ${profile_seconds}s:"
	go tool pprof -top -cum -nodecount=400 "$out/chainserver" "$out/senfi.pprof" 2>/dev/null |
		awk '/flat%/ || /senfi-sharif\/senfi\// || /net\/http\.Header\.Clone|chunkWriter\)\.writeHeader$|runtime\.mallocgc$|gcBgMarkWorker$/' | head -40
	echo
	echo "profile: go tool pprof $out/chainserver $out/senfi.pprof"
fi

# The example's security log must hold every request, chain intact: stop
# the example (which writes a last checkpoint) and verify it against the
# checkpoints it printed.
kill -TERM "$example_pid"
wait "$example_pid" || true
cp "$work/example.log" "$out/"
verify=$(env "${ex_env[@]}" "$work/senfi" audit verify "$work/example/logs/security.log" \
	--checkpoints "$work/example.log" 2>&1) || { echo "$verify" >&2; die "the example's security log does not verify"; }
echo
echo "example security log: $(tail -1 <<<"$verify")"
kill -TERM "$chain_pid"
wait "$chain_pid" || { cat "$work/chainserver.log" >&2; die "chainserver failed at shutdown (its security log check)"; }
echo "results in $out"
