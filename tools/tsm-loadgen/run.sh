#!/usr/bin/env bash
# tsm-loadgen end to end, all in a temporary directory torn down at exit:
# a SoftHSMv2 token and tsm-keyd with the cards' master key, a SQLite
# store migrated with tsmctl, an agent enrolled, a batch of N simulated
# cards imported and an install of the project's demo CAP queued for each
# (tsmctl op queue), tsmd on 127.0.0.1; then tsm-loadgen run, which prints
# the figures against the bars (docs/BENCHMARKS.md, "tsmd end to end").
#
#   tools/tsm-loadgen/run.sh [--bin-dir BUILD] [--cards N] [--idle N]
#       [--agents N] [--seconds S] [--loops N] [--workers N]
#       [--keyd-workers N] [--keep] [--smoke] [--phases LIST]
#
# --smoke checks the output (figures present, at most 3 exchanges per
# session) and fails otherwise; it never judges a timing. --keep leaves the
# directory (with tsmd.log) for a look.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
bin="$here/../../build"
# tsmd: an event loop and a worker thread per core (workers wait on
# SQLite and tsm-keyd only briefly; more threads than cores only add
# context switches: docs/BENCHMARKS.md, 2026-11-25).
cores=$(nproc)
cards=2000 idle=10000 agents=16 secs=3 loops=$cores workers=$cores keyd_workers=2
smoke=0 keep=0 phases=
while [ $# -gt 0 ]; do
	case "$1" in
	--bin-dir) bin=$2; shift 2 ;;
	--cards) cards=$2; shift 2 ;;
	--idle) idle=$2; shift 2 ;;
	--agents) agents=$2; shift 2 ;;
	--seconds) secs=$2; shift 2 ;;
	--loops) loops=$2; shift 2 ;;
	--workers) workers=$2; shift 2 ;;
	--keyd-workers) keyd_workers=$2; shift 2 ;;
	--phases) phases=$2; shift 2 ;;
	--smoke) smoke=1; shift ;;
	--keep) keep=1; shift ;;
	*) echo "run.sh: unknown argument $1" >&2; exit 2 ;;
	esac
done

keyd_bin="$bin/keys/tsm-keyd"
tsmd_bin="$bin/tsm/tsmd/tsmd"
tsmctl="$bin/tools/tsmctl/tsmctl"
loadgen="$bin/tools/tsm-loadgen/tsm-loadgen"
for b in "$keyd_bin" "$tsmd_bin" "$tsmctl" "$loadgen"; do
	[ -x "$b" ] || { echo "run.sh: $b: not built" >&2; exit 1; }
done
command -v softhsm2-util >/dev/null ||
	{ echo "run.sh: softhsm2-util not found" >&2; exit 1; }

dir=$(mktemp -d /tmp/tsm-loadgen.XXXXXX)
keyd_pid= tsmd_pid=
cleanup() {
	if [ -n "$tsmd_pid" ]; then
		kill -TERM "$tsmd_pid" 2>/dev/null || true
		wait "$tsmd_pid" 2>/dev/null || true
	fi
	if [ -n "$keyd_pid" ]; then
		kill -TERM "$keyd_pid" 2>/dev/null || true
		wait "$keyd_pid" 2>/dev/null || true
	fi
	if [ "$keep" = 1 ]; then
		echo "run.sh: kept $dir" >&2
	else
		rm -rf "$dir"
	fi
}
trap cleanup EXIT
ulimit -n "$(ulimit -Hn)" 2>/dev/null || true

# ---- tsm-keyd on a fresh SoftHSMv2 token ----
cat >"$dir/softhsm2.conf" <<EOF
directories.tokendir = $dir
objectstore.backend = file
log.level = ERROR
EOF
export SOFTHSM2_CONF="$dir/softhsm2.conf"
echo 1234 >"$dir/pin"
softhsm2-util --init-token --free --label tsm --pin 1234 \
	--so-pin 87654321 >/dev/null
"$keyd_bin" -s "$dir/keyd.sock" -P "$dir/pin" -a "$dir/audit.log" \
	-w "$keyd_workers" 2>"$dir/keyd.log" &
keyd_pid=$!
for _ in $(seq 200); do [ -S "$dir/keyd.sock" ] && break; sleep 0.05; done

# ---- store, agent, card batch, queued installs ----
export TSM_DB="sqlite:$dir/tsm.db"
t0=$(date +%s.%N)
"$tsmctl" db migrate >/dev/null
"$tsmctl" inventory product LOADGEN-SCP03 --gp 2.3.1 --scp 3 --i 70 \
	--div kdf3 >/dev/null
"$tsmctl" agent enrol --id loadgen-1 --ca-dir "$dir/ca" \
	--out "$dir/agent" >/dev/null
"$loadgen" prepare --keyd "$dir/keyd.sock" --csv "$dir/cards.csv" \
	--cards "$cards" --product LOADGEN-SCP03
"$tsmctl" inventory import "$dir/cards.csv" >/dev/null
"$tsmctl" cap demo "$dir/demo.cap" >/dev/null
tail -n +2 "$dir/cards.csv" | cut -d, -f1 | while read -r csn; do
	"$tsmctl" op queue --db "$TSM_DB" --card "$csn" install \
		"$dir/demo.cap" >/dev/null
done
printf 'setup     %s cards imported, %s installs of the demo CAP (%s bytes) queued in %.1f s\n' \
	"$cards" "$cards" "$(stat -c %s "$dir/demo.cap")" \
	"$(echo "$(date +%s.%N) - $t0" | bc)"

# ---- tsmd ----
crl=
[ -f "$dir/ca/crl.pem" ] && crl="agent_crl = $dir/ca/crl.pem"
cat >"$dir/tsmd.conf" <<EOF
listen = 127.0.0.1:0
metrics_listen = 127.0.0.1:0
port_file = $dir/ports
tls_cert = $dir/ca/server.crt
tls_key = $dir/ca/server.key
agent_ca = $dir/ca/ca.crt
$crl
db = $TSM_DB
keyd = $dir/keyd.sock
key_label = isd
loops = $loops
workers = $workers
log_level = warn
EOF
# TSMD_WRAP: a command tsmd runs under, for a profile (README.md).
${TSMD_WRAP:-} "$tsmd_bin" -c "$dir/tsmd.conf" 2>"$dir/tsmd.log" &
tsmd_pid=$!
for _ in $(seq 250); do [ -s "$dir/ports" ] && break; sleep 0.02; done
read -r port mport <"$dir/ports" ||
	{ echo "run.sh: tsmd did not start:" >&2; cat "$dir/tsmd.log" >&2; exit 1; }
echo "setup     tsmd pid $tsmd_pid ($loops loops, $workers workers), tsm-keyd $keyd_workers workers, SQLite, $(nproc) cores, load average $(cut -d' ' -f1-3 /proc/loadavg)"

# ---- the run ----
rc=0
${LOADGEN_WRAP:-} "$loadgen" run --port "$port" --metrics-port "$mport" --pid "$tsmd_pid" \
	--keyd-pid "$keyd_pid" ${phases:+--phases "$phases"} \
	--keyd "$dir/keyd.sock" --ca-dir "$dir/ca" --agent "$dir/agent" \
	--cards "$cards" --agents "$agents" --idle "$idle" --seconds "$secs" \
	--keyd-clients "$workers" --loops "$loops" | tee "$dir/out.txt" || rc=$?

# A sample of the store: the first card's install is done.
first=$(sed -n 2p "$dir/cards.csv" | cut -d, -f1)
state=$("$tsmctl" op list --db "$TSM_DB" --card "$first" | cut -f3)
echo "store     card $first: install $state"

kill -TERM "$tsmd_pid"
wait "$tsmd_pid" || { echo "run.sh: tsmd did not exit cleanly" >&2; rc=1; }
tsmd_pid=
if grep -q -E 'Sanitizer|runtime error' "$dir/tsmd.log"; then
	echo "run.sh: sanitizer report in tsmd's log:" >&2
	grep -E 'Sanitizer|runtime error' "$dir/tsmd.log" >&2
	rc=1
fi

if [ "$smoke" = 1 ]; then
	out="$dir/out.txt"
	for fig in '^keyd .* openings/s' '^bare-tls .* loops/s' \
	    '^sessions reconnect .* sessions/s' '^sessions keep .* sessions/s' \
	    '^idle .* KB per idle agent' '^result +all figures produced'; do
		grep -q -E "$fig" "$out" ||
			{ echo "run.sh: smoke: no line $fig" >&2; rc=1; }
	done
	# Exchanges per session: at most 3, in both modes.
	grep -E '^sessions (reconnect|keep)' "$out" |
		sed -n 's/.*exchanges\/session [0-9.]* (max \([0-9]*\)).*/\1/p' |
		while read -r m; do [ "$m" -le 3 ] || exit 1; done ||
		{ echo "run.sh: smoke: a session took more than 3 exchanges" >&2; rc=1; }
	[ "$state" = done ] ||
		{ echo "run.sh: smoke: the first card's install is $state" >&2; rc=1; }
	# The allocator the build chose (TSM_EXPECT_MALLOC, set by ctest):
	# a link that silently lost jemalloc would change every figure.
	[ -z "${TSM_EXPECT_MALLOC:-}" ] ||
		grep -q "malloc: tsmd $TSM_EXPECT_MALLOC, tsm-loadgen and its echo server $TSM_EXPECT_MALLOC\$" "$out" ||
		{ echo "run.sh: smoke: not both on $TSM_EXPECT_MALLOC:" \
		    "$(grep -o 'malloc: .*' "$out")" >&2; rc=1; }
fi
exit "$rc"
