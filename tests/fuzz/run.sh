#!/usr/bin/env bash
# Runs every fuzz harness of a TSM_FUZZ build for FUZZ_SECONDS each (default
# 20), seeded from the known-answer vectors. Long runs:
#   FUZZ_SECONDS=3600 bash tests/fuzz/run.sh build-fuzz fuzz_tlv
# Corpora persist in build-fuzz/corpus/<harness>; crashes are written to
# build-fuzz/crashes and fail the run.
set -euo pipefail
bdir=${1:?usage: run.sh BUILD_DIR [HARNESS...]}
shift || true
secs=${FUZZ_SECONDS:-20}
vec=${TSM_VECTORS:-$(cd "$(dirname "$0")/../../.." && pwd)/shared/vectors}
here=$(cd "$(dirname "$0")" && pwd)
mkdir -p "$bdir/crashes"

# seed DIR KEYREGEX: one file per hex value of matching keys in the vectors.
seed() {
	local out=$1 re=$2
	mkdir -p "$out"
	[ -d "$vec" ] || return 0
	find "$vec" -name '*.vec' -print0 | xargs -0 cat |
	    grep -E "^($re)=" | cut -d= -f2- | grep -E '^([0-9A-Fa-f]{2})+$' |
	    OUT="$out" perl -ne 'chomp; open(my $f, ">", "$ENV{OUT}/seed$."); binmode $f; print $f pack("H*", $_); close $f;'
}

harnesses=("$@")
if [ ${#harnesses[@]} -eq 0 ]; then
	for f in "$here"/fuzz_*.c; do harnesses+=("$(basename "$f" .c)"); done
fi
for h in "${harnesses[@]}"; do
	bin="$bdir/tests/fuzz/$h"
	[ -x "$bin" ] || { echo "missing harness $bin"; exit 1; }
	corpus="$bdir/corpus/$h"
	case "$h" in
	fuzz_cap)	# mode byte 00: the rest is a whole CAP file
		mkdir -p "$corpus"
		for f in "$vec"/cap/*.cap; do
			[ -f "$f" ] || continue
			{ printf '\000'; cat "$f"; } > "$corpus/$(basename "$f")"
		done ;;
	fuzz_import)	# mode byte: even = CSV, odd = JSON
		mkdir -p "$corpus"
		printf '\000csn,iin,cin,kdd,product,batch,transport_key_version\n4790000000000001,42,4501,0000AABBCCDD,EMV-JC304,LOT-1,255\n' > "$corpus/seed-csv"
		printf '\001[{"csn":"4790000000000002","iin":"42","cin":"4502","kdd":"0000AABBCCDE","product":"EMV-JC304","batch":"LOT-1","transport_key_version":255}]' > "$corpus/seed-json" ;;
	fuzz_scp_card) seed "$corpus" 'step\.[0-9]+\.wire|expect\.ext_auth|expect\.init_update' ;;
	fuzz_rapdu) seed "$corpus" 'step\.[0-9]+\.rsp\.wire|input' ;;
	fuzz_script)	# the vectors' scripts, and command scripts with the
		# DF 20 expected R-APDU extension (first, after, repeated, 1 byte)
		seed "$corpus" 'step\.[0-9]+\.plain|input'
		for x in AA0CDF20029000220580CA9F7F00 \
		    AA11220580CA9F7F00DF20029000DF20029000 \
		    AA0B220580CA9F7F00DF200190 \
		    AA0E220580CA9F7F00DF200401026310; do
			perl -e 'print pack("H*", $ARGV[0])' "$x" > "$corpus/df20-$x"
		done ;;
	*) seed "$corpus" 'input|init_update\.rsp|step\.[0-9]+\.rsp\.plain' ;;
	esac
	echo "-- $h ($secs s, $(ls "$corpus" | wc -l) seeds)"
	"$bin" -max_total_time="$secs" -rss_limit_mb=2048 -timeout=10 \
	    -artifact_prefix="$bdir/crashes/$h-" -print_final_stats=1 \
	    "$corpus" 2>&1 | grep -E '^(stat::number_of_executed_units|#[0-9]+ +DONE)|ERROR|SUMMARY' || true
	if ls "$bdir/crashes/$h-"* >/dev/null 2>&1; then
		echo "$h: crash found"; exit 1
	fi
done
