#!/usr/bin/env bash
# Installs what is missing (idempotent) and opens the viewer; with no argument it opens the
# bundled demo video with the bundled model. Any arguments go to `ifa view`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
exec target/release/ifa view "$@"
