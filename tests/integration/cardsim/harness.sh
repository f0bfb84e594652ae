#!/usr/bin/env bash
# The cardsim integration harness: a real pcscd with the vpcd driver and
# tsm-cardsim, each run in its own mount and network namespaces (no
# systemd, nothing shared with the host or another run): /run/pcscd is a
# bind of a temporary directory, the network has only a private loopback,
# so vpcd's port is reachable from nowhere else and two runs cannot clash.
#
#   harness.sh TSM-CARDSIM PROFILE CLIENT-COMMAND...
# Inside, the client finds pcscd through PCSCLITE_CSOCK_NAME.
set -euo pipefail

if [ "${1:-}" != "--inner" ]; then
	exec unshare -m -n --propagation private bash "$0" --inner "$@"
fi
shift
sim=$1 profile=$2
shift 2
T=$(mktemp -d /tmp/cardsim-it-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	rm -rf "$T"
}
trap cleanup EXIT

ip link set lo up
mkdir -p "$T/run" "$T/conf" /run/pcscd
mount --bind "$T/run" /run/pcscd
cat > "$T/conf/vpcd" <<CONF
FRIENDLYNAME "TSM cardsim"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
CONF
pcscd -f -c "$T/conf" > "$T/pcscd.log" 2>&1 &
pids+=($!)
"$sim" -p "$profile" -s "$T/card.json" -c 127.0.0.1:35963 \
    2> "$T/sim.log" &
pids+=($!)
export PCSCLITE_CSOCK_NAME="$T/run/pcscd.comm"
for _ in $(seq 100); do [ -S "$PCSCLITE_CSOCK_NAME" ] && break; sleep 0.1; done
rc=0
"$@" || rc=$?
if [ $rc -ne 0 ]; then
	echo "--- pcscd log"; tail -20 "$T/pcscd.log"
	echo "--- tsm-cardsim log"; cat "$T/sim.log"
fi
exit $rc
