#!/usr/bin/env bash
# Proves the vector runner can fail: copies the vectors to a temporary
# directory (never into the repository), flips one hex digit of the first
# hex-valued expect* key of every vector, and requires that exactly those
# vectors fail.  Usage: tamper.sh TSMCTL VECTORS_DIR
set -euo pipefail
tsmctl=$1 src=$2
[ -d "$src" ] || { echo "vectors directory $src missing"; exit 1; }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
cp -r "$src"/. "$tmp"/
count=0
while IFS= read -r -d '' f; do
	n=$(perl -i -ne '
		BEGIN { $n = 0; $done = 1; }
		if (/^\[/) { $done = 0; }
		if (!$done && /^(expect[^=]*)=((?:[0-9A-F]{2})+)$/) {
			my ($k, $v) = ($1, $2);
			my $last = substr($v, -1);
			substr($v, -1) = $last eq "0" ? "1" : "0";
			$_ = "$k=$v\n"; $done = 1; $n++;
		}
		print;
		END { print STDERR "$n\n"; }' "$f" 2>&1 >/dev/null)
	count=$((count + n))
done < <(find "$tmp" -name '*.vec' -print0)
out=$("$tsmctl" vectors "$tmp" || true)
last=$(printf '%s\n' "$out" | tail -n 1)
failed=$(printf '%s\n' "$last" | sed -n 's/.* \([0-9]*\) failed.*/\1/p')
echo "tampered $count vectors; runner: $last"
[ "$count" -gt 0 ] && [ "$failed" = "$count" ]
