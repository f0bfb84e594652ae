#!/usr/bin/env bash
# Key ceremony through tsmctl keys against a tsm-keyd on a SoftHSMv2 token
# in a temporary directory: dual-control import (a wrong KCV refused, the
# combined KCV right, computed here with the openssl CLI), three
# components, generate, rotate to version N+1, list.
set -euo pipefail
KEYD=$1 TSMCTL=$2
d=$(mktemp -d /tmp/tsmkeys-cer.XXXXXX)
pid=
cleanup() { [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null; rm -rf "$d"; }
trap cleanup EXIT
printf 'directories.tokendir = %s\nobjectstore.backend = file\nlog.level = ERROR\n' "$d" > "$d/s.conf"
export SOFTHSM2_CONF=$d/s.conf
softhsm2-util --init-token --free --label tsm --pin 1234 --so-pin 87654321 >/dev/null
echo 1234 > "$d/pin"
setsid "$KEYD" -s "$d/k.sock" -P "$d/pin" -a "$d/audit" 2>"$d/keyd.err" &
pid=$!
for _ in $(seq 100); do [ -S "$d/k.sock" ] && break; sleep 0.05; done
export TSM_KEYD_SOCKET=$d/k.sock

kcv() { printf 0000000000000000 | xxd -r -p | openssl enc -des-ede-ecb -nopad -K "$1" | xxd -p | cut -c1-6 | tr a-f A-F; }
xor() { local a=$1 b=$2 o= i; for ((i = 0; i < ${#a}; i += 2)); do
	o+=$(printf %02X $((16#${a:i:2} ^ 16#${b:i:2}))); done; echo "$o"; }
c1=0123456789ABCDEFFEDCBA9876543210
c2=0F1E2D3C4B5A69788796A5B4C3D2E1F0
c3=1111111122222222333333334444444A
printf '%s\n%s\n' $c1 "$(kcv $c1)" > "$d/f1"
printf '%s\n%s\n' $c2 "$(kcv $c2)" > "$d/f2"
printf '%s\n%s\n' $c3 "$(kcv $c3)" > "$d/f3"
printf '%s\n000000\n' $c2 > "$d/bad"
fail() { echo "FAIL: $*"; exit 1; }

# custodian 2 with a wrong KCV: refused before anything reaches keyd
if "$TSMCTL" keys import isd 1 -n 2 -f "$d/f1,$d/bad" -a des3 -m emv -r master 2>"$d/e"; then
	fail "wrong KCV accepted"; fi
grep -q "component 2: KCV does not match" "$d/e" || fail "no KCV refusal message"
want=$(kcv "$(xor $c1 $c2)")
out=$("$TSMCTL" keys import isd 1 -n 2 -f "$d/f1,$d/f2" -a des3 -m emv -r master)
[ "$out" = "imported isd/1: combined KCV $want" ] || fail "combined KCV: $out, want $want"
want3=$(kcv "$(xor "$(xor $c1 $c2)" $c3)")
out=$("$TSMCTL" keys import isd3 1 -n 3 -f "$d/f1,$d/f2,$d/f3" -a des3 -m visa2 -r master)
[ "$out" = "imported isd3/1: combined KCV $want3" ] || fail "3 components: $out"
# components from stdin (the terminal path without echo is the same reader)
out=$(printf '%s\n%s\n' $c1 "$(kcv $c1)" $c2 "$(kcv $c2)" | "$TSMCTL" keys import viaio 1 -n 2 -a des3 -m emv -r master 2>/dev/null)
[ "$out" = "imported viaio/1: combined KCV $want" ] || fail "stdin import: $out"
"$TSMCTL" keys generate kdf 1 -a aes -l 16 -m kdf3 -r master | grep -q '^generated kdf/1: KCV [0-9A-F]\{6\}$' || fail generate
"$TSMCTL" keys rotate kdf | grep -q '^generated kdf/2: KCV' || fail rotate
list=$("$TSMCTL" keys list)
echo "$list" | grep -q "^isd  *1 master *emv *des3 *16 $want\$" || fail "list: $list"
echo "$list" | grep -q "^kdf  *2 master *kdf3 *aes *16 " || fail "list v2: $list"
# no component ever reaches a log or the output
! grep -q -i -e $c1 -e $c2 "$d/audit" "$d/keyd.err" "$d/e" || fail "component in a log"
echo "ceremony: 8 passed, 0 failed"
