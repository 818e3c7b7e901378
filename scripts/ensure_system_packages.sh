#!/usr/bin/env bash
# The two Debian packages some tests need, installed from the system's packages when missing
# and this user is root; otherwise the one command that installs each is printed, and the
# set-up goes on (only those tests need them):
# - headless Chromium, for the report's browser test (tests/test_report.py);
# - R with lme4, for `cli.py confirm` and the mixed-model tests (tests/test_mixed_model.py).
set -euo pipefail

ensure() {
    local present="$1" package="$2" why="$3"
    if eval "$present" >/dev/null 2>&1; then
        return 0
    fi
    if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
        echo "installing $why (Debian package $package)" >&2
        apt-get update -qq
        DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$package" >/dev/null
    else
        echo "note: $why is missing; install it" \
            "with: sudo apt-get update && sudo apt-get install -y $package" >&2
    fi
}

ensure "command -v chromium || command -v chromium-browser" chromium \
    "headless Chromium (for the report's browser test)"
ensure "Rscript -e 'library(lme4)'" r-cran-lme4 "R with lme4 (for cli.py confirm and its tests)"
