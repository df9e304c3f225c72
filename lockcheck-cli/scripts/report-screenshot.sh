#!/bin/sh
# Takes the README's picture: the HTML report of the bank example, rendered by headless
# Chromium (Debian's `chromium` package, installed when absent), into lockcheck-cli/docs/report.png.
#
#   lockcheck-cli/scripts/report-screenshot.sh [OUT.png]
#
# Run it from the repository's root. The page is laid out 1280 px wide; the picture is tall
# enough to show the finding (cycle graph, interleaving, sites), the class graph, the
# contention table and both flamegraphs.
set -eu

out="${1:-lockcheck-cli/docs/report.png}"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

if ! command -v chromium >/dev/null 2>&1; then
    echo "installing chromium (Debian package)" >&2
    sudo=""
    [ "$(id -u)" -eq 0 ] || sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq chromium >/dev/null
fi

cargo build -q --release -p lockcheck-cli -p lockcheck-examples --bins
# The run's verdict is 1: the bank has a lock-order cycle, which is what the page shows.
target/release/lockcheck run --trace-dir "$work/traces" --html "$work/report.html" -- target/release/bank \
    >/dev/null 2>&1 || [ $? -eq 1 ]

chromium --headless --no-sandbox --disable-gpu --hide-scrollbars --window-size=1280,3150 \
    --screenshot="$out" "file://$work/report.html" 2>/dev/null
echo "wrote $out" >&2
