#!/usr/bin/env bash
# The end-to-end demonstration with real processes (docs/e2e.md):
#
#   tsm-keyd on a fresh SoftHSMv2 token, a SQLite store, tsmd, pcscd with
#   the vsmartcard reader (vpcd), tsm-cardsim in that reader, tsm-agent on
#   the PC/SC link; one card batch imported, the card's key sets put in
#   the HSM by a key ceremony, operations queued with tsmctl and carried
#   out over the air, one card contact after the other; after each
#   contact the card's registry (GET STATUS through PC/SC) must equal the
#   store's view of the card.
#
#   e2e.sh [--cap FILE]... [--quiet] [--keep]
#
# Without --cap it uses the project's own demo CAP (tsmctl cap demo): it
# needs nothing outside this repository. Everything runs in a temporary
# directory and in private mount and network namespaces (so it needs root;
# it asks sudo when not root), and everything is stopped at the end.
# Binaries come from $TSM_BUILD (default: build/ of this repository).
# Exit 0 when the store and the card agree after every contact.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SELF=$(cd "$(dirname "$0")" && pwd)/$(basename "$0")

if [ "${1:-}" != "--inner" ]; then
	if [ "$(id -u)" -ne 0 ]; then
		exec sudo --preserve-env=TSM_BUILD,TSM_VECTORS bash "$SELF" "$@"
	fi
	exec unshare -m -n --propagation private bash "$SELF" --inner "$@"
fi
shift

B=${TSM_BUILD:-$ROOT/build}
B=$(cd "$B" && pwd)
TSMCTL=$B/tools/tsmctl/tsmctl
KEYD=$B/keys/tsm-keyd
TSMD=$B/tsm/tsmd/tsmd
AGENT=$B/agent/tsm-agent
CARDSIM=$B/tools/cardsim/tsm-cardsim
REGISTRY=$B/tests/integration/e2e/tsm-e2e-registry

caps=() quiet=0 keep=0 norotate=0
while [ $# -gt 0 ]; do
	case $1 in
	--cap) [ $# -ge 2 ] || { echo "e2e.sh: --cap needs a file" >&2; exit 2; }
	       caps+=("$(cd "$(dirname "$2")" && pwd)/$(basename "$2")"); shift 2 ;;
	--quiet) quiet=1; shift ;;
	--keep) keep=1; shift ;;
	--no-rotate) norotate=1; shift ;;
	*) echo "usage: e2e.sh [--cap FILE]... [--quiet] [--keep] [--no-rotate]" >&2; exit 2 ;;
	esac
done
for f in "$TSMCTL" "$KEYD" "$TSMD" "$AGENT" "$CARDSIM" "$REGISTRY"; do
	[ -x "$f" ] || { echo "e2e.sh: $f missing: build first (TSM_BUILD=$B)" >&2; exit 1; }
done
for f in "${caps[@]}"; do
	[ -r "$f" ] || { echo "e2e.sh: cannot read $f" >&2; exit 1; }
done

T=$(mktemp -d /tmp/tsm-e2e.XXXXXX)
pids=()
cleanup() {
	local rc=$? p
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	if [ $keep -eq 1 ] || [ $rc -ne 0 ]; then
		echo "files kept in $T (logs: *.log)" >&2
	else
		rm -rf "$T"
	fi
	exit $rc
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# --- output: say() always, show() unless --quiet, detail() to the log.
say() { printf '%s\n' "$*"; }
show() { [ $quiet -eq 1 ] || printf '%s\n' "$*"; }
indent() { if [ $quiet -eq 1 ]; then cat > /dev/null; else sed 's/^/    /'; fi; }
fail() { say "FAIL: $*"; exit 1; }
# run CMD...: runs it with its output in $T/steps.log; on failure shows it.
run() {
	echo "+ $*" >> "$T/steps.log"
	if ! "$@" >> "$T/steps.log" 2>&1; then
		tail -15 "$T/steps.log" >&2
		fail "$* failed"
	fi
}

# The simulated card (tools/cardsim, profile scp03-aes128): born with the
# GlobalPlatform test keys 40..4F as key set 30 (SCP03 i=70, AES-128); its
# KDD and its CPLC (CSN = IC fabricator || IC type || IC serial || batch).
PROFILE=scp03-aes128
KDD=000054534D53494D0001
CSN=47905040494D00010000
TRANSPORT_KEYS=404142434445464748494A4B4C4D4E4F
TKV=48		# 0x30, the key version the new card answers with
MKV=49		# 0x31, the issuer's diversified (KDF3) key set
READER="TSM cardsim"
export TSM_DB="sqlite:$T/tsm.db"
export TSM_KEYD_SOCKET="$T/keyd.sock"

say "== TSM end to end: tsmd + tsm-keyd (SoftHSMv2) + SQLite + pcscd/vpcd + tsm-cardsim + tsm-agent"
show "   (work directory $T; private network: only this run sees its ports)"
ip link set lo up

# ---------------------------------------------------------------- 1. keys
say "-- 1. Key ceremony: SoftHSMv2 token, tsm-keyd, issuer master and transport keys"
mkdir -p "$T/hsm"
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' \
    "$T/hsm" > "$T/softhsm2.conf"
export SOFTHSM2_CONF=$T/softhsm2.conf
PIN=$(openssl rand -hex 4)
printf '%s\n' "$PIN" > "$T/pin"
chmod 600 "$T/pin"
softhsm2-util --init-token --free --label tsm --pin "$PIN" \
    --so-pin "$(openssl rand -hex 4)" >> "$T/steps.log" 2>&1 || fail "softhsm2-util --init-token"
"$KEYD" -s "$TSM_KEYD_SOCKET" -P "$T/pin" -a "$T/keyd-audit.log" > "$T/keyd.log" 2>&1 &
pids+=($!)
for _ in $(seq 100); do [ -S "$TSM_KEYD_SOCKET" ] && break; sleep 0.05; done
for _ in $(seq 50); do "$TSMCTL" keys list > /dev/null 2>&1 && break; sleep 0.1; done
# Issuer master (KDF3, AES-128), generated inside the HSM: nobody sees it.
"$TSMCTL" keys generate isd $MKV -a aes -l 16 -m kdf3 -r master > "$T/k.out" 2>&1 ||
    { cat "$T/k.out"; fail "master key generation"; }
show "   issuer master key isd/$MKV (KDF3, AES-128) generated inside the HSM: KCV $(awk '{print $NF}' "$T/k.out")"
# The card's transport key set (what the card is born with), entered by
# two custodians: component 1 = K xor R, component 2 = R, each with its KCV.
kcv() { printf '01010101010101010101010101010101' | xxd -r -p |
	openssl enc -aes-128-ecb -K "$1" -nopad | xxd -p | head -c 6 | tr a-f A-F; }
R=$(openssl rand -hex 16 | tr a-f A-F)
C1=
for i in $(seq 0 2 30); do
	C1+=$(printf '%02X' $(( 0x${TRANSPORT_KEYS:i:2} ^ 0x${R:i:2} )))
done
printf '%s\n%s\n' "$C1" "$(kcv "$C1")" > "$T/custodian1"
printf '%s\n%s\n' "$R" "$(kcv "$R")" > "$T/custodian2"
chmod 600 "$T/custodian1" "$T/custodian2"
for role in enc mac dek; do
	"$TSMCTL" keys import isd $TKV -n 2 -f "$T/custodian1,$T/custodian2" \
	    -a aes -l 16 -m none -r $role > "$T/k.out" 2>&1 ||
	    { cat "$T/k.out"; fail "transport key import ($role)"; }
done
rm -f "$T/custodian1" "$T/custodian2"
show "   transport key set isd/$TKV (ENC, MAC, DEK; AES-128), the card's birth keys, entered by 2 custodians: KCV $(awk '/^imported/ {print $NF}' "$T/k.out") (40..4F: $(kcv $TRANSPORT_KEYS))"
"$TSMCTL" keys list 2>&1 | indent

# --------------------------------------------------------------- 2. store
say "-- 2. Store: SQLite schema, card batch, agent enrolment"
run "$TSMCTL" db migrate
run "$TSMCTL" inventory product DEMO-JC304 --gp 2.3.1 --jc 3.0.4 --scp 3 --i 70 --div kdf3 \
    --key-versions $TKV,$MKV
cat > "$T/batch.csv" <<CSV
# one card: the simulated card's CSN (from its CPLC) and KDD
csn,kdd,product,batch,transport_key_version
$CSN,$KDD,DEMO-JC304,LOT-E2E-1,$TKV
CSV
run "$TSMCTL" inventory import "$T/batch.csv"
show "   imported batch LOT-E2E-1: card $CSN (KDD $KDD, transport keys version $TKV)"
run "$TSMCTL" agent init --ca-dir "$T/ca" --server-name tsm.e2e.local
run "$TSMCTL" agent enrol --id kiosk-e2e --ca-dir "$T/ca" --out "$T/agent"
show "   agent kiosk-e2e enrolled (client certificate $T/agent/agent.crt)"

# ---------------------------------------------------------------- 3. tsmd
say "-- 3. tsmd on https://127.0.0.1:8443"
cat > "$T/tsmd.conf" <<CONF
listen = 127.0.0.1:8443
metrics_listen = 127.0.0.1:9100
port_file = $T/ports
tls_cert = $T/ca/server.crt
tls_key = $T/ca/server.key
agent_ca = $T/ca/ca.crt
agent_crl = $T/ca/crl.pem
db = $TSM_DB
keyd = $TSM_KEYD_SOCKET
key_label = isd
loops = 2
workers = 2
log_level = info
CONF
"$TSMD" -c "$T/tsmd.conf" 2> "$T/tsmd.log" &
TSMD_PID=$!
pids+=($TSMD_PID)
for _ in $(seq 100); do [ -s "$T/ports" ] && break; sleep 0.05; done
[ -s "$T/ports" ] || { tail "$T/tsmd.log"; fail "tsmd did not start"; }

# --------------------------------------------------- 4. reader, card, agent
say "-- 4. pcscd with the vpcd reader, tsm-cardsim (profile $PROFILE) in it"
mkdir -p "$T/pcscd" "$T/reader.conf.d" /run/pcscd
mount --bind "$T/pcscd" /run/pcscd
cat > "$T/reader.conf.d/vpcd" <<CONF
FRIENDLYNAME "$READER"
DEVICENAME   /dev/null:0x8C7B
LIBPATH      /usr/lib/pcsc/drivers/serial/libifdvpcd.so
CHANNELID    0x8C7B
CONF
pcscd -f -c "$T/reader.conf.d" > "$T/pcscd.log" 2>&1 &
pids+=($!)
"$CARDSIM" -p $PROFILE -s "$T/card.json" -c 127.0.0.1:35963 2> "$T/cardsim.log" &
pids+=($!)
export PCSCLITE_CSOCK_NAME="$T/pcscd/pcscd.comm"
for _ in $(seq 100); do [ -S "$PCSCLITE_CSOCK_NAME" ] && break; sleep 0.1; done
for _ in $(seq 100); do grep -q connected "$T/cardsim.log" && break; sleep 0.1; done
grep -q connected "$T/cardsim.log" || fail "tsm-cardsim did not reach vpcd"

# ----------------------------------------------------------- the contacts
# card_registry FILE: the card's registry, read through PC/SC with session
# keys from tsm-keyd (tsm-e2e-registry), as "card STATE", "kvn HH",
# "app AID STATE", "elf AID STATE".
card_registry() {
	"$REGISTRY" -k "$TSM_KEYD_SOCKET" -r "$READER" > "$1" 2>> "$T/registry.err" ||
	    { cat "$T/registry.err"; fail "could not read the card's registry"; }
}
sql() { sqlite3 -readonly -noheader -separator ' ' "$T/tsm.db" "$1"; }
# The ROM load files the card was born with: not the TSM's business.
card_registry "$T/registry.0"
grep '^elf ' "$T/registry.0" | cut -d' ' -f2 > "$T/rom.elf" || true

ncontact=0
# contact WHAT: one card contact: tsm-agent runs a session with tsmd, then
# the registry is read and compared with the store (not when NOCHECK=1).
# The agent names the card (--card-hint), as a phone that kept the CSN of
# its last 204 would: tsmd pre-computes the whole job when the card's
# counter is the one it recorded (PRECOMPUTED=1 requires it: 2
# exchanges); the registry read by this script between contacts moves the
# counter, so the other contacts show the fallback (3 exchanges).
contact() {
	ncontact=$((ncontact + 1))
	say "-- contact $ncontact: $1"
	local msg end rc=0
	msg=$(timeout 30 "$AGENT" --server https://127.0.0.1:8443 \
	    --cert "$T/agent/agent.crt" --key "$T/agent/agent.key" \
	    --ca "$T/agent/ca.crt" --reader "$READER" --once --wait 10000 -v \
	    --card-hint "$CSN" 2>> "$T/agent.log") || rc=$?
	say "   cardholder sees: \"$msg\""
	[ $rc -eq 0 ] || fail "tsm-agent exited $rc (log $T/agent.log)"
	end=$(grep 'event=session.end' "$T/tsmd.log" | tail -1)
	sed 's/^.*event=session.end /tsmd: /' <<< "$end" | indent
	if [ "${PRECOMPUTED:-0}" = 1 ]; then
		grep -q 'exchanges=2 pre=1$' <<< "$end" ||
		    fail "contact $ncontact was not pre-computed in 2 exchanges"
		say "   pre-computed: the whole job in the first reply, 2 exchanges"
	fi
	show "   operations (tsmctl op list: id kind state attempts result):"
	"$TSMCTL" op list --card "$CSN" | indent
	[ "${NOCHECK:-0}" = 1 ] || check
}

# check: the card's registry (GET STATUS) against the store: every
# application instance with its life cycle, the load files of the
# installs done and not deleted, and the card's life cycle.
check() {
	local r=$T/registry.$ncontact
	card_registry "$r"
	show "   card registry (GET STATUS through PC/SC):"
	indent < "$r"
	grep '^app ' "$r" | cut -d' ' -f2,3 | sort > "$T/card.apps" || true
	sql "SELECT i.instance_aid, i.gp_state FROM app_instances i
	     JOIN cards c ON c.id = i.card_id WHERE c.csn = '$CSN'" |
	    sort > "$T/store.apps"
	grep '^elf ' "$r" | cut -d' ' -f2 | grep -vxF -f "$T/rom.elf" |
	    sort > "$T/card.elf" || true
	sql "SELECT DISTINCT a.package_aid FROM app_instances i
	     JOIN app_versions v ON v.id = i.version_id
	     JOIN applications a ON a.id = v.app_id
	     JOIN cards c ON c.id = i.card_id WHERE c.csn = '$CSN'" |
	    sort > "$T/store.elf"
	if ! diff -u --label store --label card "$T/store.apps" "$T/card.apps" > "$T/diff" ||
	   ! diff -u --label store --label card "$T/store.elf" "$T/card.elf" >> "$T/diff"; then
		say "   store (-) and card (+) differ:"
		sed 's/^/    /' "$T/diff"
		fail "store and card disagree after contact $ncontact"
	fi
	# The card's life cycle: tsmd records the one GET STATUS reports
	# (upper case), or nothing when the card reports no GP-defined value.
	local gps clc
	gps=$(sql "SELECT COALESCE(gp_state, '') FROM cards WHERE csn = '$CSN'")
	clc=$(sed -n 's/^card //p' "$r")
	case $clc in
	undefined-*) [ -z "$gps" ] ||
		fail "store says card life cycle '$gps', the card reports $clc" ;;
	*) [ "${gps,,}" = "$clc" ] ||
		fail "store says card life cycle '$gps', the card says '$clc'" ;;
	esac
	if { [ -s "$T/expect.apps" ] || [ "${expect_empty:-0}" = 1 ]; } && ! diff -u --label expected --label card "$T/expect.apps" "$T/card.apps" > "$T/diff"; then
		sed 's/^/    /' "$T/diff"
		fail "the card does not hold what was asked after contact $ncontact"
	fi
	say "   store and card agree: card ${clc}, $(wc -l < "$T/card.apps") application(s)$(tr '\n' ' ' < "$T/card.apps" | sed 's/^./: &/; s/ $//')"
}

# queue ARGS...: tsmctl op queue for the card, shown.
queue() {
	local out
	out=$("$TSMCTL" op queue --card "$CSN" "$@" 2>&1) || { echo "$out"; fail "op queue $*"; }
	show "   tsmctl: $out"
}
# offered KIND: whether this build's `tsmctl op queue` (and so tsmd)
# has operation KIND (rotation, personalisation, suspend / resume and
# refresh came after install, lock, unlock and delete).
OPHELP=$("$TSMCTL" op 2>&1 || true)
offered() { grep -qE "CSN ([a-z|]*\|)?$1( |\||\$)" <<< "$OPHELP"; }

# The CAPs and their applets (instance AID = module AID).
if [ ${#caps[@]} -eq 0 ]; then
	run "$TSMCTL" cap demo "$T/demo.cap"
	caps=("$T/demo.cap")
	show "   CAP: the project's own demo CAP (tsmctl cap demo)"
fi
pkgs=() apps=()
for f in "${caps[@]}"; do
	"$TSMCTL" cap info "$f" > "$T/cap.info" || fail "$f is not a CAP file"
	pkg=$(awk '/^package AID:/ {print $3}' "$T/cap.info")
	pkgs+=("$pkg")
	mapfile -t a < <(awk '/^applets:/ {on=1; next} on && /^  / {print $1; next} {on=0}' "$T/cap.info")
	apps+=("${a[@]}")
	show "   CAP $(basename "$f"): $(awk '/^path:/ {print $2}' "$T/cap.info"), package $pkg, applet(s) ${a[*]}"
done
expect() { for a in "${apps[@]}"; do echo "$a $1"; done | sort > "$T/expect.apps"; }
: > "$T/expect.apps"

# Contact 1: first contact: key rotation (when offered) and install.
rotated=0
if [ $norotate -eq 1 ]; then
	show "   (key rotation: left out (--no-rotate); the card keeps its transport keys, version $(printf %02X $TKV))"
elif offered rotate; then
	queue rotate --version $MKV --label isd
	rotated=1
else
	show "   (key rotation: not offered by this tsmd; the card keeps its transport keys, version $(printf %02X $TKV))"
fi
for f in "${caps[@]}"; do queue install "$f"; done
expect selectable
cp "$T/expect.apps" "$T/base.apps"
contact "first contact: $([ $rotated = 1 ] && echo "rotate the keys, ")install $(for f in "${caps[@]}"; do basename "$f"; done | tr '\n' ' ')"
rotation_gap=
if [ $rotated -eq 1 ]; then
	rs=$(sql "SELECT o.state || ' ' || COALESCE(o.result, '') FROM operations o
	     JOIN cards c ON c.id = o.card_id WHERE c.csn = '$CSN' AND o.kind = 'rotate'")
	if [ "${rs%% *}" = done ]; then
		grep -qx "kvn $(printf %02X $MKV)" "$T/registry.$ncontact" ||
		    fail "rotation done in the store, but the card answers with key version $(sed -n 's/^kvn //p' "$T/registry.$ncontact")"
		say "   the card now answers with key set $(printf %02X $MKV): its own keys, diversified from the issuer master in the HSM"
	else
		# Known gap: the store must still agree with the card (key
		# version unchanged); the operation stays queued.
		grep -qx "kvn $(printf %02X $TKV)" "$T/registry.$ncontact" ||
		    fail "rotation not done in the store ($rs), but the card changed its key version"
		rotation_gap="tsm-keyd answered PUT KEY $(grep 'req=putkey' "$T/keyd-audit.log" | tail -1 | sed 's/^.*req=putkey //')"
		say "   NOT DONE: key rotation ($rotation_gap); the card keeps key set $(printf %02X $TKV)"
	fi
fi

# Personalisation: one clear DGI and one sensitive DGI (8xxx: encrypted
# under the card's DEK by tsm-keyd) per instance.
if offered personalise; then
	cat > "$T/perso.dgi" <<DGI
# demo personalisation: a clear DGI and a sensitive one
0101=5A08${CSN:0:16}5F2403301231
8010=00112233445566778899AABBCCDDEEFF
DGI
	for a in "${apps[@]}"; do queue personalise "$a" "$T/perso.dgi"; done
	: > "$T/expect.apps"	# the personalised state is the applet's own
	contact "personalise"
	grep -q selectable "$T/card.apps" && fail "personalisation left an instance selectable"
	cp "$T/card.apps" "$T/base.apps"
else
	show "   (personalisation: not offered by this tsmd)"
fi

for a in "${apps[@]}"; do queue lock "$a"; done
expect locked
contact "lock"

for a in "${apps[@]}"; do queue unlock "$a"; done
cp "$T/base.apps" "$T/expect.apps"	# back to the state before the lock
contact "unlock"

# Card suspend and resume (CARD_LOCKED and back), when offered.
if offered suspend; then
	queue suspend
	# No registry read after this one: the next contact is predicted.
	NOCHECK=1 contact "suspend the card"
	queue resume
	PRECOMPUTED=1 contact "resume the card (pre-computed: no registry read since the last session)"
else
	show "   (card suspend / resume: not offered by this tsmd)"
fi

for p in "${pkgs[@]}"; do queue delete "$p" --related; done
: > "$T/expect.apps"
expect_empty=1
contact "delete"

# Nothing new to do: the agent's next session says so, and still agrees.
contact "no new operation"
# The TSM re-reads the card's registry into the store, when offered.
if offered refresh; then
	queue refresh
	contact "refresh the registry"
fi

say "-- summary"
ops() { sql "SELECT count(*) FROM operations o JOIN cards c ON c.id = o.card_id
	     WHERE c.csn = '$CSN' AND $1"; }
say "   operations: $(ops "o.state = 'done'") done, $(ops "o.state <> 'done'") not done"
# Every operation must be done. Known gaps of the components being built
# (docs/e2e.md) are reported, never hidden: a key rotation tsm-keyd
# refuses, a registry refresh tsmd runs but does not mark done.
bad=0 gaps=0
while read -r id kind state; do
	case $kind in
	rotate) gaps=$((gaps + 1)); say "   NOT DONE (known gap): op $id rotate is $state: ${rotation_gap:-?}" ;;
	refresh) gaps=$((gaps + 1)); say "   NOT DONE (known gap): op $id refresh is $state: tsmd read the registry but did not record the operation" ;;
	*) say "   NOT DONE: op $id $kind is $state"; bad=$((bad + 1)) ;;
	esac
done < <(sql "SELECT o.id, o.kind, o.state FROM operations o JOIN cards c ON c.id = o.card_id
	     WHERE c.csn = '$CSN' AND o.state <> 'done' ORDER BY o.id")
[ $bad -eq 0 ] || fail "$bad operation(s) not done"
"$TSMCTL" audit verify 2>&1 | indent
run "$TSMCTL" audit verify
# tsmd stops by draining (SIGTERM): exit 0, no error and no sanitizer
# report in its log.
kill -TERM $TSMD_PID
rc=0
wait $TSMD_PID || rc=$?
[ $rc -eq 0 ] || fail "tsmd exited $rc on SIGTERM (log $T/tsmd.log)"
if grep -E 'level=error|Sanitizer|runtime error' "$T/tsmd.log"; then
	fail "tsmd logged errors"
fi
# The agent's memory after each contact (-v), for docs/BENCHMARKS.md.
mem=$(awk '/VmHWM:/ { if ($3 > hwm) hwm = $3 }
     /VmRSS:/ { n++; if (!min || $3 < min) min = $3; if ($3 > max) max = $3 }
     /Pss:/ { if ($3 > pss) pss = $3 }
     END { if (n) printf "tsm-agent after each of %d contacts: VmRSS %d-%d kB, Pss at most %d kB, peak (VmHWM) %d kB", n, min, max, pss, hwm }' \
    "$T/agent.log")
[ -z "$mem" ] || say "   $mem"
say "PASS: store and card agree after each of $ncontact contacts (${#caps[@]} CAP(s), ${#apps[@]} applet(s))$([ $gaps -eq 0 ] || echo "; $gaps known gap(s) above")"
