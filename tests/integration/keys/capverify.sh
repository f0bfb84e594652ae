#!/usr/bin/env bash
# tsmctl cap verify: a provider's detached CMS signature over a real CAP of
# ../shared/vectors (read in place). The CA, leaves and CRL are made here
# with the openssl CLI. A valid chain passes; expired, revoked, wrong usage,
# wrong anchor, tampered CAP and a stale-CRL-less revocation check each
# fail with their own reason.
set -euo pipefail
TSMCTL=$1 VEC=$2
d=$(mktemp -d /tmp/tsmkeys-cms.XXXXXX)
trap 'rm -rf "$d"' EXIT
cd "$d"
cap=$VEC/cap/kaoh_helloworld.cap
[ -f "$cap" ] || { echo "missing $cap"; exit 1; }
cat > ca.cnf <<CNF
[ca]
default_ca = c
[c]
database = index.txt
new_certs_dir = .
serial = serial
default_md = sha256
policy = p
default_crl_days = 30
[p]
commonName = supplied
CNF
: > index.txt
echo 01 > serial
ec() { openssl req -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -subj "/CN=$1" -keyout "$1.key" "${@:2}" 2>/dev/null; }
ec ca -x509 -days 30 -out ca.pem -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign
ec other -x509 -days 30 -out other.pem -addext basicConstraints=critical,CA:TRUE
leaf() { # name eku start end
	ec "$1" -out "$1.csr"
	printf 'extendedKeyUsage=%s\nkeyUsage=digitalSignature\n' "$2" > "$1.ext"
	openssl ca -batch -config ca.cnf -cert ca.pem -keyfile ca.key -in "$1.csr" -out "$1.pem" \
	    -startdate "$3" -enddate "$4" -extfile "$1.ext" -notext 2>/dev/null
	openssl cms -sign -binary -in "$cap" -signer "$1.pem" -inkey "$1.key" -outform DER -out "$1.p7s"
}
leaf good codeSigning 20240101000000Z 20991231000000Z
leaf old codeSigning 20200101000000Z 20210101000000Z
leaf tls serverAuth 20240101000000Z 20991231000000Z
leaf gone codeSigning 20240101000000Z 20991231000000Z
openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -revoke gone.pem 2>/dev/null
openssl ca -config ca.cnf -cert ca.pem -keyfile ca.key -gencrl -out crl.pem 2>/dev/null
cp "$cap" tampered.cap
printf '\x00' | dd of=tampered.cap bs=1 seek=100 conv=notrunc 2>/dev/null

pass=0 fail=0
check() { # want-rc want-text args...
	local want=$1 text=$2 out rc=0; shift 2
	out=$("$TSMCTL" cap verify "$@" 2>&1) || rc=$?
	if [ "$rc" = "$want" ] && grep -q -- "$text" <<<"$out"; then pass=$((pass + 1))
	else echo "FAIL: $* -> rc=$rc: $out (want $want, $text)"; fail=$((fail + 1)); fi
}
check 0 "verified" "$cap" good.p7s --anchor ca.pem
check 0 "verified" "$cap" good.p7s --anchor ca.pem --crl crl.pem
check 1 "refused: certificate expired" "$cap" old.p7s --anchor ca.pem
check 1 "refused: certificate revoked" "$cap" gone.p7s --anchor ca.pem --crl crl.pem
check 1 "refused: certificate lacks the codeSigning" "$cap" tls.p7s --anchor ca.pem
check 1 "refused: signer certificate does not chain" "$cap" good.p7s --anchor other.pem
check 1 "refused: signature does not match the file" tampered.cap good.p7s --anchor ca.pem
check 1 "refused: signature file unreadable" "$cap" ca.pem --anchor ca.pem
check 2 "usage" "$cap" good.p7s
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
