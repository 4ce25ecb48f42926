"""Exit 0 if the test PostgreSQL answers. Otherwise exit 1 after saying so; under CI=true an
unreachable PostgreSQL is a failure (exit 2), not a skipped run."""

import os
import sys

import psycopg

url = sys.argv[1]
try:
    psycopg.connect(url, connect_timeout=3).close()
except psycopg.OperationalError as exc:
    if os.environ.get("CI", "").lower() == "true":
        print(f"PostgreSQL at {url} is unreachable and CI=true: failing.\n{exc}", file=sys.stderr)
        sys.exit(2)
    print(f"SKIPPED the PostgreSQL run: {url} is unreachable ({exc}).", file=sys.stderr)
    sys.exit(1)
