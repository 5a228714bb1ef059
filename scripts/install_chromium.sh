#!/usr/bin/env bash
# Installs Debian's Chromium (/usr/bin/chromium), which tests/test_review_browser.py drives through
# the Python package playwright (a dev extra) to check OUT/report.html, and a small Chinese font so
# that its screenshots show characters rather than boxes. Playwright's own browser download is never
# used (it cannot be fetched here): the test launches /usr/bin/chromium itself.
# Idempotent: installs only what is missing and prints one line of what it did. Needs root or sudo.
set -euo pipefail

FONT=fonts-wqy-microhei
want=()
[ -x /usr/bin/chromium ] || want+=(chromium)
dpkg-query -W -f='${Status}' "$FONT" 2>/dev/null | grep -q "install ok installed" || want+=("$FONT")

if [ "${#want[@]}" -eq 0 ]; then
    echo "install_chromium: nothing to do, $(/usr/bin/chromium --version 2>/dev/null || echo chromium) and $FONT present"
    exit 0
fi

if [ "$(id -u)" -eq 0 ]; then
    SUDO=()
elif command -v sudo >/dev/null 2>&1; then
    SUDO=(sudo -n)
else
    echo "install_chromium: ${want[*]} missing, and this is neither root nor has sudo" >&2
    exit 1
fi

# apt's chatter goes to a log that is shown only if a step fails. `apt-get update` first: a new
# machine's package lists may be missing or stale.
LOG="$(mktemp)"
trap 'rm -f "$LOG"' EXIT
apt() {
    if ! "${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get "$@" >"$LOG" 2>&1; then
        cat "$LOG" >&2
        echo "install_chromium: apt-get $* failed" >&2
        exit 1
    fi
}
apt update -qq
apt install -y -qq --no-install-recommends "${want[@]}"
echo "install_chromium: installed ${want[*]} ($(/usr/bin/chromium --version 2>/dev/null || echo 'chromium version unknown'))"
