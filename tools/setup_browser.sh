#!/usr/bin/env bash
# Install Debian's Chromium, which the test suite uses to open analysis reports in a real headless
# browser. Without root or apt-get it only says so: that one test then skips with the reason.
set -euo pipefail

if command -v chromium >/dev/null || command -v chromium-browser >/dev/null; then
    exit 0
fi
if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    echo "browser: installing Debian's chromium (for the report test)"
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends chromium >/dev/null
else
    echo "browser: chromium is not installed and cannot be installed here (needs root and apt-get);" \
         "the test that opens reports in a browser will be skipped" >&2
fi
