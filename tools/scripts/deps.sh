#!/usr/bin/env bash
# Installs the Debian 12 packages the build and the tests need, listed one
# per line in tools/scripts/deps.d/*.list (one list per component).
# Idempotent: does nothing when everything is present. Works as root; uses
# sudo only when not root.
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
mapfile -t PKGS < <(cat "$here"/deps.d/*.list | sed 's/#.*//' | tr -s ' \t' '\n' |
    grep -v '^$' | sort -u)

missing=()
for p in "${PKGS[@]}"; do
	if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null |
	    grep -q "install ok installed"; then
		missing+=("$p")
	fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

SUDO=
if [ "$(id -u)" -ne 0 ]; then
	SUDO=sudo
fi
echo "installing: ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -q
$SUDO apt-get install -y -q --no-install-recommends "${missing[@]}"
