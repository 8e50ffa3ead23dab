#!/bin/sh
# The main job: build measured and run the demo of the chain on the
# embedded defaults (swtpm, SQLite).  Installs what it needs first.
set -eu
cd "$(dirname "$0")/.."
sh scripts/deps.sh
make -j"$(nproc 2>/dev/null || echo 2)" >/dev/null
sh scripts/demo-tour.sh
if [ -x scripts/demo-boot.sh ]; then
	sh scripts/demo-boot.sh
fi
