"""Readers of official benchmark releases, and the importers that convert them into nasbench's
table format (``FORMATS.md``; ``docs/official_releases.md``).

Each reader parses its format itself, without the release's own package (TensorFlow for
NAS-Bench-101, ``nats_bench`` for NATS-Bench) and without running anything found in the files:
pickles go through :mod:`nasbench.importers.restricted_pickle` only.
"""
