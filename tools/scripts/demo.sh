#!/usr/bin/env bash
# The main job on embedded defaults: builds the project and runs the core
# demonstration (an SCP03 session between libgp's host and card roles over
# an in-memory link that loads and installs the project's own demo CAP,
# with the APDU trace). Needs nothing outside this repository.
set -euo pipefail
cd "$(dirname "$0")/../.."
bash tools/scripts/deps.sh
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
mkdir -p out
./build/tools/tsmctl/tsmctl cap demo out/demo.cap
./build/tools/tsmctl/tsmctl demo out/demo.cap
