"""opsdesk benchmarks: ``make bench`` (``python -m bench``). Never part of ``make test``.

The harness builds a throw-away opsdesk (its own data folder, database, users and token), runs
the production server against it, measures it from one sequential keep-alive HTTP client, and
records the figures in ``bench/README.md``. See that file for what each figure means.
"""
