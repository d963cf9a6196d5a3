"""The restricted reader builds the plain data official releases hold and nothing else."""

from __future__ import annotations

import collections
import pickle

import numpy as np
import pytest

from nasbench.importers.restricted_pickle import RestrictedPickleError, loads


@pytest.mark.parametrize("protocol", [2, 4, 5])
def test_plain_data_and_numeric_numpy_scalars_load(protocol: int) -> None:
    data = {"a": [1, 2.5, "x", None, True], ("cifar10", 777): {0: 1.0},
            "t": collections.OrderedDict([(0, 12.4)]), "s": {1, 2}, "b": b"\x00\xff",
            "p": np.float64(0.802426), "i": np.int64(-3), "f": frozenset({"x"})}
    out = loads(pickle.dumps(data, protocol=protocol))
    assert out == {**data, "p": 0.802426, "i": -3}
    assert type(out["p"]) is float and type(out["i"]) is int  # no NumPy object comes back


@pytest.mark.parametrize("payload", [
    np.array([1.0, 2.0]),                      # an array: numpy.core.multiarray._reconstruct
    np.array(["a"], dtype=object),             # an object array
    collections.Counter({"a": 1}),             # a class outside the allow-list
    pickle.PicklingError("x"),                 # an exception class
])
def test_other_globals_are_refused(payload) -> None:
    data = pickle.dumps({"x": payload})
    with pytest.raises(RestrictedPickleError, match="refused to load"):
        loads(data, source="f.pickle")


def test_a_malformed_pickle_is_a_clear_error() -> None:
    with pytest.raises(RestrictedPickleError, match=r"f\.pickle: not a readable pickle"):
        loads(b"\x80\x04garbage", source="f.pickle")


def test_tensors_are_refused_or_skipped_unread() -> None:
    import torch

    data = pickle.dumps({"w": torch.ones(3), "acc": 91.5})
    with pytest.raises(RestrictedPickleError, match="torch"):
        loads(data)
    assert loads(data, skip_weights=True) == {"w": None, "acc": 91.5}
