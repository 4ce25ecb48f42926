#!/bin/sh
# Install the Debian packages that the tests drive for real (when they are missing).
# As root with apt-get: installs them. Otherwise: says what to install, and exits 0 (the
# tests that need a missing tool skip, except on CI where they fail). Quiet when all is there.
#
# One tool per line: the Debian package, then the commands that prove it is installed
# (any one of them, on PATH or in /usr/bin, /usr/sbin; or an absolute path that exists).
# Add a line to add a tool.
TOOLS='
prometheus-alertmanager prometheus-alertmanager alertmanager
chromium chromium
fonts-noto-cjk /usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc
dovecot-imapd dovecot
nodejs node
zabbix-server-pgsql zabbix_js
node-acorn acorn
'
set -eu

present() {
    for command in "$@"; do
        case "$command" in /*) [ -e "$command" ] && return 0; continue ;; esac
        if command -v "$command" >/dev/null 2>&1 \
            || [ -x "/usr/bin/$command" ] || [ -x "/usr/sbin/$command" ]; then
            return 0
        fi
    done
    return 1
}

missing=""
while read -r package commands; do
    [ -n "$package" ] || continue
    # shellcheck disable=SC2086  # the commands are words
    present $commands || missing="$missing $package"
done <<EOF_TOOLS
$TOOLS
EOF_TOOLS

[ -n "$missing" ] || exit 0

if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing the test tools:$missing"
    export DEBIAN_FRONTEND=noninteractive
    # shellcheck disable=SC2086
    if ! apt-get install -y -q --no-install-recommends $missing >/dev/null 2>&1; then
        apt-get update -q >/dev/null  # a fresh machine has no package lists yet
        # shellcheck disable=SC2086
        apt-get install -y -q --no-install-recommends $missing >/dev/null
    fi
else
    echo "Some tests need Debian packages that are not installed; they skip without them:"
    echo "    sudo apt-get install -y --no-install-recommends$missing"
fi
