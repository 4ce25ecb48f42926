#!/bin/sh
# The container's entry point. `serve` (the default) first applies the migrations this version
# needs (safe to repeat; the worker's container waits for the web server to be healthy, so
# they never run twice at once), then replaces itself with the web server. Anything else is
# an `opsdesk` command: `worker`, `backup /var/lib/opsdesk/backups/`, `createsuperuser` ...
# OPSDESK_MIGRATE_ON_START=false leaves migrating to the operator (several web containers).
set -eu

[ "$#" -gt 0 ] || set -- serve
if [ "$1" = serve ]; then
    if [ "${OPSDESK_MIGRATE_ON_START:-true}" = true ]; then
        opsdesk migrate --noinput
    fi
fi
exec opsdesk "$@"
