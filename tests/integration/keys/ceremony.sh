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
# DAP / token key pairs: generated in the HSM, or imported from PEM
"$TSMCTL" keys generate dap 1 -a rsa -l 2048 -m none -r dap | grep -q '^generated dap/1: fingerprint [0-9A-F]\{6\}$' || fail "generate rsa pair"
"$TSMCTL" keys generate dapec 1 -a ec -l 256 -m none -r dap >/dev/null || fail "generate ec pair"
"$TSMCTL" keys pubkey dap 1 > "$d/dap.pub" || fail pubkey
openssl pkey -pubin -in "$d/dap.pub" -noout -text | grep -q "Public-Key: (2048 bit)" || fail "pubkey not RSA-2048"
openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$d/tok.pem" 2>/dev/null
fp=$(openssl pkey -in "$d/tok.pem" -pubout -outform DER | openssl dgst -sha256 -binary | head -c 3 | xxd -p | tr a-f A-F)
out=$("$TSMCTL" keys import-pair tok 1 -f "$d/tok.pem")
[ "$out" = "imported tok/1: fingerprint $fp" ] || fail "import-pair: $out, want $fp"
"$TSMCTL" keys pubkey tok 1 | cmp -s - <(openssl pkey -in "$d/tok.pem" -pubout) || fail "imported pubkey differs"
list=$("$TSMCTL" keys list)
echo "$list" | grep -q "^dap  *1 dap *none *rsa *32 " || fail "list rsa pair: $list"
echo "$list" | grep -q "^tok  *1 dap *none *ec *32 $fp\$" || fail "list ec pair: $list"
# no component, no private key ever reaches a log or the output
priv=$(openssl pkey -in "$d/tok.pem" -noout -text | sed -n '/^priv:/,/^pub:/{/^ /p}' | tr -d ' :\n')
[ ${#priv} -ge 60 ] || fail "could not read the test key's scalar"
! grep -q -i -e $c1 -e $c2 -e "$priv" "$d/audit" "$d/keyd.err" "$d/e" || fail "secret in a log"
echo "ceremony: 14 passed, 0 failed"
