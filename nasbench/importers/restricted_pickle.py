"""A pickle reader that builds plain data only, for official releases shipped as pickles.

``pickle.load`` on a file runs whatever callables the file names (a pickle's ``__reduce__`` can
name ``os.system``), so a planted or tampered release file could run code on the user's
machine. Python's documentation ("Restricting Globals", https://docs.python.org/3/library/
pickle.html#restricting-globals) gives the remedy used here: an ``Unpickler`` whose
``find_class`` returns only an allow-list of harmless constructors and refuses everything else.

Pickle opcodes build ``dict``, ``list``, ``tuple``, ``str``, ``bytes``, ``int``, ``float``,
``bool``, ``None`` and ``set`` without naming a global. The NATS-Bench / NAS-Bench-201 files also
name these globals (checked on the release's sample files, ``fake_torch_dir/`` of
https://github.com/D-X-Y/NATS-Bench):

* ``collections.OrderedDict`` (per-epoch times);
* ``_codecs.encode``: how pickle protocol 2 (``torch.save``'s, so in the ``.pth`` release)
  writes ``bytes``; replaced by a function that only turns a string into latin-1 bytes;
* ``numpy.dtype`` and ``numpy.core.multiarray.scalar`` (a parameter count or latency stored as
  a NumPy float). These are replaced by functions that accept only numeric dtypes and return
  plain Python numbers, so no NumPy object with behaviour reaches the caller.

Anything else (a class, a function, a persistent id such as a tensor storage) is refused with
:class:`RestrictedPickleError` naming the global and the file.

Trained weights. The NATS-Bench ``-full`` archive stores each run's trained weights beside its
records; a tensor pickled with ``pickle`` names ``torch._utils._rebuild_tensor_v2``,
``torch._utils._rebuild_parameter`` and ``torch.storage._load_from_bytes``, and the last one
calls ``torch.load`` without restriction on bytes from the file. With ``skip_weights=True``
those names map to a stub that ignores its arguments and returns ``None``: the weights are
dropped unread and no torch code runs.
"""

from __future__ import annotations

import collections
import io
import pickle
import re
from typing import Any

from nasbench.errors import UserError


class RestrictedPickleError(UserError):
    """The pickle names something that is not plain data."""


_DTYPE = re.compile(r"^[<>=|]?[biufc][1-9][0-9]?$")


def _safe_dtype(spec: Any, align: Any = False, copy: Any = True) -> Any:
    import numpy as np

    if not isinstance(spec, str) or not _DTYPE.match(spec):
        raise pickle.UnpicklingError(f"numpy.dtype({spec!r}) is not a plain numeric type")
    return np.dtype(spec)


def _safe_scalar(dtype: Any, data: Any = None) -> int | float | complex | bool:
    import numpy as np

    if not isinstance(dtype, np.dtype) or dtype.kind not in "biufc":
        raise pickle.UnpicklingError(f"numpy scalar of dtype {dtype!r} is not plain data")
    if not isinstance(data, bytes) or len(data) != dtype.itemsize:
        raise pickle.UnpicklingError("numpy scalar with malformed data")
    return np.frombuffer(data, dtype=dtype)[0].item()


def _safe_latin1(text: Any, encoding: Any = "latin1") -> bytes:
    if not isinstance(text, str) or encoding not in ("latin1", "latin-1"):
        raise pickle.UnpicklingError("_codecs.encode is allowed for latin-1 bytes only")
    return text.encode("latin-1")


_ALLOWED: dict[tuple[str, str], Any] = {
    ("_codecs", "encode"): _safe_latin1,
    ("collections", "OrderedDict"): collections.OrderedDict,
    ("builtins", "set"): set,
    ("builtins", "frozenset"): frozenset,
    ("__builtin__", "set"): set,  # protocol 2 names Python 2's module
    ("__builtin__", "frozenset"): frozenset,
    ("numpy", "dtype"): _safe_dtype,
    ("numpy.core.multiarray", "scalar"): _safe_scalar,
    ("numpy._core.multiarray", "scalar"): _safe_scalar,
}
"""The only globals a pickle may name, and what each becomes."""


def _skipped(*args: Any, **kwargs: Any) -> None:
    """Stands for a tensor or storage that is not read (its arguments are ignored)."""
    return None


_WEIGHTS: frozenset[tuple[str, str]] = frozenset({
    ("torch._utils", "_rebuild_tensor"),
    ("torch._utils", "_rebuild_tensor_v2"),
    ("torch._utils", "_rebuild_parameter"),
    ("torch._utils", "_rebuild_parameter_with_state"),
    ("torch.storage", "_load_from_bytes"),
})
"""The globals a pickled tensor names; with ``skip_weights`` they become :func:`_skipped`."""


class RestrictedUnpickler(pickle.Unpickler):
    """Builds plain data; refuses every global outside :data:`_ALLOWED` (and, when
    ``skip_weights``, turns the tensor-rebuilding ones into ``None``)."""

    def __init__(self, file: Any, *, source: str = "<pickle>", skip_weights: bool = False
                 ) -> None:
        super().__init__(file)
        self.source = source
        self.skip_weights = skip_weights

    def find_class(self, module: str, name: str) -> Any:
        if self.skip_weights and (module, name) in _WEIGHTS:
            return _skipped
        try:
            return _ALLOWED[(module, name)]
        except KeyError:
            raise RestrictedPickleError(
                f"{self.source}: refused to load '{module}.{name}': this file is read as plain "
                "data only (dicts, lists, numbers, strings), and this global is not one of "
                "the few the official release contains. The file is not the official "
                "release, or it was altered; nothing from it was run."
            ) from None

    def persistent_load(self, pid: Any) -> Any:
        if self.skip_weights:  # a tensor storage of torch.save's format: not read
            return None
        raise RestrictedPickleError(
            f"{self.source}: refused a persistent object (such as a tensor storage): the "
            "release's records are plain data, and nothing else is read"
        )


def loads(data: bytes, *, source: str = "<pickle>", skip_weights: bool = False) -> Any:
    """Unpickle ``data`` as plain data (see the module docstring).

    Raises:
        RestrictedPickleError: when the pickle names a forbidden global, or is malformed.
    """
    try:
        return RestrictedUnpickler(io.BytesIO(data), source=source,
                                   skip_weights=skip_weights).load()
    except RestrictedPickleError:
        raise
    except Exception as exc:  # a malformed pickle raises many kinds of errors
        raise RestrictedPickleError(f"{source}: not a readable pickle ({exc})") from None


def load_stream(stream: Any, *, source: str = "<pickle>", skip_weights: bool = False) -> Any:
    """Unpickle one object from an open binary stream (see :func:`loads`)."""
    try:
        return RestrictedUnpickler(stream, source=source, skip_weights=skip_weights).load()
    except (RestrictedPickleError, OSError, EOFError):
        raise  # the stream's own errors (a bad compressed file) are the caller's to report
    except Exception as exc:
        raise RestrictedPickleError(f"{source}: not a readable pickle ({exc})") from None
