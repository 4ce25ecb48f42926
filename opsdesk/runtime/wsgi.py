"""The WSGI application as the production server runs it (``opsdesk serve``, Granian).

Each worker loads here what serving needs (Django, the URLconf with the API and its schemas,
the translation catalogues), then moves all of it out of the garbage collector's sight with
``gc.freeze()``. Otherwise every full collection, about every hundred requests, walks those
objects again: a 45–60 ms pause that made the slowest 1–5% of list requests 70 ms instead of
15 ms (bench/README.md). Objects created while serving are collected as before.
"""

import gc
from importlib import import_module

from django.conf import settings
from django.utils import translation

from opsdesk.wsgi import application

import_module(settings.ROOT_URLCONF)
for _code, _name in settings.LANGUAGES:
    translation.activate(_code)
translation.deactivate()
gc.collect()
gc.freeze()

__all__ = ["application"]
