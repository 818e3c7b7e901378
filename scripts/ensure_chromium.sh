#!/usr/bin/env bash
# Headless Chromium for the report's browser test (tests/test_report.py): installed from the
# system's Debian packages when missing and this user is root; otherwise the one command
# that installs it is printed, and the set-up goes on (only that test needs it).
set -euo pipefail
if command -v chromium >/dev/null 2>&1 || command -v chromium-browser >/dev/null 2>&1; then
    exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "installing headless Chromium (Debian package chromium) for the report's browser test" >&2
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
else
    echo "note: headless Chromium (for the report's browser test) is missing; install it" \
        "with: sudo apt-get update && sudo apt-get install -y chromium" >&2
fi
