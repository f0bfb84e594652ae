#!/usr/bin/env bash
# A stock PC/SC tool (OpenSC's opensc-tool) talks to the card: SELECT of
# the ISD and GET DATA CPLC must answer 90 00. Run inside harness.sh.
set -euo pipefail
for _ in $(seq 50); do
	opensc-tool -l 2>/dev/null | grep -q 'Yes.*TSM cardsim' && break
	sleep 0.2
done
out=$(opensc-tool -r 0 -s 00A4040008A000000151000000 -s 80CA9F7F00 2>&1)
echo "$out"
[ "$(echo "$out" | grep -c 'SW1=0x90, SW2=0x00')" -eq 2 ]
