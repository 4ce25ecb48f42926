"""The WSGI application as the production server runs it (``opsdesk serve``, Granian).

Each worker loads here what serving needs (Django, the URLconf with the API and its schemas,
the translation catalogues), then moves all of it out of the garbage collector's sight with
``gc.freeze()``. Otherwise every full collection, about every hundred requests, walks those
objects again: a 45–60 ms pause that made the slowest 1–5% of list requests 70 ms instead of
15 ms (bench/README.md). What the first requests load for good (compiled templates, the
configuration cache, the database connection) is frozen too, once ``WARM_REQUESTS`` have
been served: left in sight, it made a queue page's full collections take 9.5 ms, not 1.5.
Objects created while serving are collected as before.
"""

import gc
import itertools
from importlib import import_module
from typing import Any

from django.conf import settings
from django.core.signals import request_finished
from django.utils import translation

from opsdesk.wsgi import application

WARM_REQUESTS = 100

import_module(settings.ROOT_URLCONF)
for _code, _name in settings.LANGUAGES:
    translation.activate(_code)
translation.deactivate()
gc.collect()
gc.freeze()

_served = itertools.count(1)


def _freeze_when_warm(**_: Any) -> None:
    # Once, when the answer has gone: what is still alive after a collection stays.
    if next(_served) == WARM_REQUESTS:
        request_finished.disconnect(_freeze_when_warm)
        gc.collect()
        gc.freeze()


request_finished.connect(_freeze_when_warm)

__all__ = ["application"]
