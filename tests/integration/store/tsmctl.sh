#!/usr/bin/env bash
# tsmctl's store commands end to end: migrate, product, import (good and
# malformed), list/show, transitions (legal, illegal, idempotent), card
# history and audit verify, in human and --json output.
# usage: tsmctl.sh TSMCTL sqlite | TSMCTL URL-TEMPLATE-with-%s
set -u
T=$1
d=$(mktemp -d)
trap 'rm -rf "$d"' EXIT
if [ "$2" = sqlite ]; then
	export TSM_DB="sqlite:$d/cli.db"
else
	export TSM_DB=${2//%s/cli$$}
fi
export TSM_KEY_FILE_ARG="--key-file $d/cli.kek"
fail() { echo "FAIL: $*"; exit 1; }
t() { "$T" "$@" $TSM_KEY_FILE_ARG; }

t inventory list >/dev/null 2>&1 && fail "list before migrate should fail"
# Every migration compiled in (status: none pending), and only once.
t db migrate | grep -qE "applied [1-9][0-9]* migration" || fail "migrate"
t db migrate | grep -q "applied 0 migration" || fail "migrate twice"
t db status --json | grep -q '"pending":	0' || fail "status json"
t inventory product P1 --gp 2.3.1 --scp 3 --i 70 >/dev/null || fail product
printf 'csn,iin,cin,kdd,product,batch,tkv\n0102030405060708,42,45,AABB,P1,B1,255\n0102030405060709,42,45,AABB,P1,B1,255\n' >"$d/ok.csv"
t inventory import "$d/ok.csv" | grep -q "2 imported" || fail import
printf 'csn,product,batch\nAAAAAAAA,P1,B2\nZZ,P1,B2\n' >"$d/bad.csv"
out=$(t inventory import "$d/bad.csv" 2>&1) && fail "bad import succeeded"
echo "$out" | grep -q "bad.csv:3: csn: wrong length" || fail "bad row line: $out"
t inventory import "$d/bad.csv" --json | grep -q '"line":	3' || fail "json bad row"
t inventory show AAAAAAAA >/dev/null 2>&1 && fail "bad file was partly imported"
t inventory list --json | grep -c '"csn"' | grep -qx 2 || fail "list json"
t inventory transition 0102030405060708 in_stock --location depot | grep -q in_stock || fail t1
t inventory transition 0102030405060708 in_stock --location depot | grep -q "nothing changed" || fail idem
out=$(t inventory transition 0102030405060708 active 2>&1) && fail "illegal accepted"
echo "$out" | grep -q "in_stock -> active is not a lifecycle edge" || fail "reason: $out"
t inventory transition 0102030405060708 allocated --location br1 >/dev/null || fail t2
t inventory transition 0102030405060708 issued --holder-name "Ann Example" >/dev/null || fail t3
t inventory show 0102030405060708 --json | grep -q '"state":	"issued"' || fail show
t card history 0102030405060708 | grep -c -- "->" | grep -qx 3 || fail history
t card history 0102030405060708 --json | grep -q '"to":	"issued"' || fail history-json
t audit verify | grep -q "intact: 5 record" || fail "audit verify"
t audit verify --json | grep -q '"ok":	true' || fail "audit json"
echo "tsmctl store commands: ok"
