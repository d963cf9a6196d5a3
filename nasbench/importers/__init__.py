"""Readers of official benchmark releases, and the importers that convert them into nasbench's
table format (``docs/benchmarks.md``). The importers subclass
:class:`nasbench.data.importers.Importer` and register through the
``nasbench_register_importers`` hook: ``nasbench data import nb101 FILE`` and
``nasbench data import nats_tss DIR`` run them.

Each reader parses its format itself, without the release's own package (TensorFlow for
NAS-Bench-101, ``nats_bench`` for NATS-Bench) and without running anything found in the files:
pickles go through :mod:`nasbench.importers.restricted_pickle` only.
"""
