#!/usr/bin/env bash
# The agent programs end to end against mock_tsmd, both started here in a
# temporary directory:
#   agent_it.sh sim  TSM-AGENT-SIM MOCK-TSMD MKCERTS
#       the in-process libcardsim link (--sim);
#   agent_it.sh pcsc TSM-AGENT MOCK-TSMD MKCERTS
#       the PC/SC link: run inside tests/integration/cardsim/harness.sh,
#       which provides pcscd + vpcd + tsm-cardsim ("TSM cardsim" reader).
# The agent must print the server's sentence for the cardholder, the mock
# must see a correct discovery session; then the agent's resident memory
# after the session is printed (-v). The mock names the card in its 204
# (X-Admin-Card); the second sim run gets that CSN back with --card-hint,
# as an app keeping the hint between runs would, and the mock checks that
# its first POST carries it.
set -euo pipefail
mode=$1 agent=$2 mock=$3 mkcerts=$4
T=$(mktemp -d /tmp/agent-it-XXXXXX)
mpid=
cleanup() {
	[ -n "$mpid" ] && kill "$mpid" 2>/dev/null || true
	[ -n "$mpid" ] && wait "$mpid" 2>/dev/null || true
	rm -rf "$T"
}
trap cleanup EXIT
sh "$mkcerts" "$T/pki"
sessions=1
[ "$mode" = sim ] && sessions=2
"$mock" "$T/pki" "$T/port" "$sessions" "$T/csn" > "$T/mock.out" 2>&1 &
mpid=$!
for _ in $(seq 100); do [ -s "$T/port" ] && break; sleep 0.05; done
port=$(cat "$T/port")
common=(--server "https://127.0.0.1:$port" --cert "$T/pki/agent.crt"
	--key "$T/pki/agent.key" --ca "$T/pki/ca.crt" --once -v)
if [ "$mode" = sim ]; then
	"$agent" "${common[@]}" --sim "scp03-aes128,$T/card.json" \
	    > "$T/agent.out" 2> "$T/agent.err"
	# The state file survives: a second run on the same card, with the
	# hint the first run was given.
	"$agent" "${common[@]}" --sim "scp03-aes128,$T/card.json" \
	    --card-hint "$(cat "$T/csn")" \
	    >> "$T/agent.out" 2>> "$T/agent.err"
	test -s "$T/card.json"
else
	"$agent" "${common[@]}" --reader "TSM cardsim" --wait 20000 \
	    > "$T/agent.out" 2> "$T/agent.err"
fi
rc=0
wait "$mpid" || rc=$?
mpid=
cat "$T/mock.out"
cat "$T/agent.out"
grep -E "VmRSS|VmHWM|RssAnon|RssFile|Pss|Private_" "$T/agent.err" | tail -7
if [ $rc -ne 0 ] || ! grep -q "Your card was checked: nothing to do." \
    "$T/agent.out"; then
	echo "--- agent stderr"; cat "$T/agent.err"
	exit 1
fi
echo "PASS: agent $mode session"
