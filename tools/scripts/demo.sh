#!/usr/bin/env bash
# The main job on embedded defaults: installs the Debian packages, builds
# the project, then
#   1. a quick look at the protocol core: an SCP03 session between libgp's
#      host and card roles over an in-memory link that loads and installs
#      the project's own demo CAP, with the APDU trace (tsmctl demo);
#   2. the whole system with real processes (tools/scripts/e2e.sh,
#      docs/e2e.md): tsm-keyd on SoftHSMv2, a SQLite store, tsmd, pcscd
#      with the vpcd reader, tsm-cardsim and tsm-agent; a card batch
#      imported, the demo CAP installed over the air, locked, unlocked and
#      deleted, the store checked against the card's registry after each
#      card contact.
# Needs nothing outside this repository. Step 2 runs in private
# namespaces: as root, or through sudo.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
mkdir -p out
./build/tools/tsmctl/tsmctl cap demo out/demo.cap
echo "=== 1. libgp host and card roles over memory (tsmctl demo)"
./build/tools/tsmctl/tsmctl demo out/demo.cap
echo
echo "=== 2. end to end with real processes (tools/scripts/e2e.sh)"
TSM_BUILD="$PWD/build" bash tools/scripts/e2e.sh "$@"
