"""Monitoring alerts: one ticket per fault, however often its monitoring system reports it.

``notices`` is the shape every source's payload is read into; ``alertmanager`` and ``zabbix``
read their source's payload into it (pure: no database); ``receivers`` turns a stored payload
of each source into tickets; ``deduplication`` decides, for a notice, whether it opens a ticket,
repeats or resolves a fault already open, or brings back a closed one.
"""
