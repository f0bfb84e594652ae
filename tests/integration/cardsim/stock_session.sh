#!/usr/bin/env bash
# A stock PC/SC tool with no cryptography (pcsc-tools' scriptor) runs whole
# GlobalPlatform secure-channel sessions prepared offline by
# `tsmctl offline-script` (Amendment D: the card's pseudo-random challenge
# follows from its sequence counter). Run inside harness.sh, on a fresh
# card of the profile:
#
#   stock_session.sh TSMCTL scp03|scp02 CAP
#
# 1. The KDD comes from the card (GET DATA CF, through scriptor), the
#    sequence counter from the card's records (its state file).
# 2. The prepared session (SELECT, INITIALIZE UPDATE, EXTERNAL
#    AUTHENTICATE, GET STATUS, INSTALL [for load], LOAD, INSTALL [for
#    install and make selectable], GET STATUS, DELETE, GET STATUS) must
#    give every expected SW, and INITIALIZE UPDATE must answer exactly
#    the predicted response.
# 3. The same script replayed must be refused (the counter moved on), and
#    a fresh script with one wrapped command altered must fail at that
#    command only: the check bites.
set -euo pipefail
tsmctl=$1 proto=$2 cap=$3
W=$(mktemp -d /tmp/stock-session-XXXXXX)
trap 'rm -rf "$W"' EXIT
state="$(dirname "$(dirname "$PCSCLITE_CSOCK_NAME")")/card.json"
keys=404142434445464748494A4B4C4D4E4F
aid=A000000151000000
case $proto in
scp03) args=(--proto 3 --i 70 --kvn 30 --level 03) ;;
scp02) args=(--proto 2 --i 55 --kvn 01 --level 03) ;;
*) echo "unknown protocol $proto"; exit 2 ;;
esac
command -v scriptor >/dev/null || { echo "FAIL: scriptor (pcsc-tools) missing"; exit 1; }
[ -r "$cap" ] || { echo "FAIL: $cap missing"; exit 1; }

for _ in $(seq 50); do
	opensc-tool -l 2>/dev/null | grep -q 'Yes.*TSM cardsim' && break
	sleep 0.2
done

# scriptor's output as one line per APDU answered: data and SW in hex.
answers() {
	awk '
	function done() { sub(/ : .*/, "", buf); gsub(/ /, "", buf)
		print buf; buf = ""; coll = 0 }
	/^< KO:/ { print "RESET-FAILED"; next }
	/^< OK:/ { next }
	/^< / { buf = substr($0, 3); coll = 1; if (buf ~ / : /) done(); next }
	coll { buf = buf $0; if (buf ~ / : /) done() }' "$1"
}

# check SCRIPTOR-OUTPUT EXPECT: every answer as expected, or the list of
# the APDUs that were not ("APDU N: ...") and a non-zero status.
check() {
	local n=0 bad=0 idx sw match what rsp rsw rdata
	mapfile -t got < <(answers "$1")
	while read -r idx sw match what; do
		case $idx in '#'*|'') continue ;; esac
		n=$((n + 1))
		if [ "$idx" != "$n" ]; then
			echo "APDU $n: expectations out of order"; return 1
		fi
		rsp=${got[$((n - 1))]:-}
		if [ ${#rsp} -lt 4 ]; then
			echo "APDU $n: no answer ($what)"; bad=1; continue
		fi
		rsw=${rsp: -4} rdata=${rsp:0:${#rsp}-4}
		if [ "$rsw" != "$sw" ]; then
			echo "APDU $n: SW $rsw, expected $sw ($what)"; bad=1
		fi
		case $match in
		'*') ;;
		=*) [ "$rdata" = "${match#=}" ] || {
			echo "APDU $n: answer $rdata, predicted ${match#=} ($what)"
			bad=1; } ;;
		~*) case $rdata in *"${match#\~}"*) ;; *)
			echo "APDU $n: answer lacks ${match#\~} ($what)"
			bad=1 ;; esac ;;
		*) echo "APDU $n: bad expectation $match"; return 1 ;;
		esac
	done < "$2"
	if [ "${#got[@]}" -ne "$n" ]; then
		echo "${#got[@]} answers for $n APDUs"; bad=1
	fi
	[ "$n" -gt 0 ] && [ $bad -eq 0 ]
}

# The counter the card's next INITIALIZE UPDATE uses (docs/cardsim.md):
# SCP03 raises the recorded one first, SCP02 uses it and raises it when
# the session opens.
next_seq() {
	local s
	# One line of compact JSON; the first key set is the ISD's.
	s=$(sed -n 's/.*"keysets":\[{[^}]*"seq":\([0-9][0-9]*\).*/\1/p' "$state")
	[ -n "$s" ] || { echo "FAIL: no counter in $state" >&2; return 1; }
	if [ "$proto" = scp03 ]; then echo $((s + 1)); else echo "$s"; fi
}

# The KDD, as the card gives it (GET DATA CF: CF 0A KDD).
printf 'reset\n80 CA 00 CF 00\n' > "$W/kdd.scr"
scriptor "$W/kdd.scr" > "$W/kdd.out" 2>&1
kdd=$(answers "$W/kdd.out" | sed -n 's/^CF0A\(.\{20\}\)9000$/\1/p')
[ ${#kdd} -eq 20 ] || { echo "FAIL: no KDD from GET DATA CF"; cat "$W/kdd.out"; exit 1; }

seq0=$(next_seq)
[ "$seq0" -eq 1 ] || { echo "FAIL: a fresh card's next counter is $seq0, not 1"; exit 1; }
"$tsmctl" offline-script "${args[@]}" --keys $keys --kdd "$kdd" \
    --seq "$seq0" --sd-aid $aid --cap "$cap" --out "$W/s.scr"
grep -c '^[0-9A-F][0-9A-F] ' "$W/s.scr" | grep -qx "$(grep -c '^[0-9]' "$W/s.scr.expect")"
scriptor "$W/s.scr" > "$W/s.out" 2>&1
if ! check "$W/s.out" "$W/s.scr.expect"; then
	echo "FAIL: the prepared $proto session"; cat "$W/s.out"; exit 1
fi
n=$(grep -c '^[0-9]' "$W/s.scr.expect")
echo "prepared session: $n APDUs as expected (INITIALIZE UPDATE answer" \
    "predicted from counter $seq0)"
[ "$n" -ge 12 ] || { echo "FAIL: only $n APDUs"; exit 1; }
[ "$(next_seq)" -eq $((seq0 + 1)) ] || { echo "FAIL: counter did not move"; exit 1; }

# Replayed, the same script meets a card whose counter moved on.
scriptor "$W/s.scr" > "$W/r.out" 2>&1
if check "$W/r.out" "$W/s.scr.expect" > "$W/r.why"; then
	echo "FAIL: a replayed script was accepted"; exit 1
fi
grep -q '^APDU 2: answer' "$W/r.why" || { echo "FAIL: replay not caught at INITIALIZE UPDATE"; cat "$W/r.why"; exit 1; }
grep -q '^APDU 3: SW 6300' "$W/r.why" || { echo "FAIL: replay authenticated"; cat "$W/r.why"; exit 1; }
echo "replayed script: refused (INITIALIZE UPDATE answer differs, 6300)"

# A fresh script whose first wrapped command (GET STATUS) lost its MAC.
seq1=$(next_seq)
"$tsmctl" offline-script "${args[@]}" --keys $keys --kdd "$kdd" \
    --seq "$seq1" --sd-aid $aid --out "$W/t.scr"
awk '/^# 4:/ { mark = 1; print; next }
    mark { sub(/ ..$/, ""); n = split($0, b, " ")
	b[n] = b[n] == "00" ? "01" : "00"; line = b[1]
	for (k = 2; k <= n; k++) line = line " " b[k]
	print line " 00"; mark = 0; next } { print }' "$W/t.scr" > "$W/t2.scr"
! cmp -s "$W/t.scr" "$W/t2.scr" || { echo "FAIL: script not altered"; exit 1; }
scriptor "$W/t2.scr" > "$W/t.out" 2>&1
if check "$W/t.out" "$W/t.scr.expect" > "$W/t.why"; then
	echo "FAIL: an altered command was accepted"; exit 1
fi
if ! grep -qx 'APDU 4: SW 6982, expected 9000 (GET STATUS (the security domain))' \
    "$W/t.why" || grep -qv '^APDU 4: ' "$W/t.why"; then
	echo "FAIL: the altered command should fail alone"; cat "$W/t.why"; exit 1
fi
echo "altered MAC: refused at that APDU only (6982)"
echo "PASS: offline-prepared $proto session through scriptor"
