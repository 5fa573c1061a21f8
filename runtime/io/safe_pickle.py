"""Unpickling with an allow-list: for the field's pickled numpy files
(StyleCLIP's ``S_mean_std``, ReStyle's latent dicts). Only numpy arrays,
dtypes and builtin containers can be built; anything else raises."""
from __future__ import annotations

import ast
import io
import pickle
import struct

_ALLOWED = {
    ("numpy.core.multiarray", "_reconstruct"),
    ("numpy._core.multiarray", "_reconstruct"),
    ("numpy", "ndarray"),
    ("numpy", "dtype"),
    ("numpy.core.multiarray", "scalar"),
    ("numpy._core.multiarray", "scalar"),
    ("builtins", "list"),
    ("builtins", "dict"),
    ("builtins", "tuple"),
    ("collections", "OrderedDict"),
    ("_codecs", "encode"),
}


class UnsafePickle(ValueError):
    pass


class _Restricted(pickle.Unpickler):
    def find_class(self, module: str, name: str):  # noqa: D401
        if (module, name) in _ALLOWED:
            return super().find_class(module, name)
        raise UnsafePickle(f"refusing to unpickle {module}.{name}: only numpy arrays and builtin containers are allowed")


def load_restricted(data: bytes, encoding: str = "latin1") -> object:
    """Unpickle ``data`` allowing only numpy arrays and builtin containers.
    A ``.npy`` file written by ``np.save`` of an object is unwrapped first.
    Anything malformed raises ``UnsafePickle`` (a ValueError) saying what."""
    try:
        if data[:6] == b"\x93NUMPY":
            import numpy as np

            buf = io.BytesIO(data)
            if _npy_dtype(buf).hasobject:
                return _Restricted(buf, encoding=encoding).load()
            return np.load(io.BytesIO(data), allow_pickle=False)
        return _Restricted(io.BytesIO(data), encoding=encoding).load()
    except UnsafePickle:
        raise
    except Exception as exc:  # truncated, or not a pickle / .npy at all
        raise UnsafePickle(f"not a readable pickle or .npy file ({exc.__class__.__name__}: "
                           f"{first_line(exc)})") from exc


def _npy_dtype(buf: io.BytesIO):
    """The dtype in a ``.npy`` header (format 1.0, 2.0 or 3.0), read with public numpy calls only;
    ``buf`` is left at the start of the data."""
    from numpy.lib import format as npformat

    magic = buf.read(8)
    major = magic[6]
    size_format = "<H" if major == 1 else "<I"
    (length,) = struct.unpack(size_format, buf.read(struct.calcsize(size_format)))
    header = ast.literal_eval(buf.read(length).decode("latin1" if major < 3 else "utf8"))
    if not isinstance(header, dict) or "descr" not in header:
        raise ValueError("malformed .npy header")
    return npformat.descr_to_dtype(header["descr"])


def first_line(exc: BaseException) -> str:
    """The first line of an exception's message, without advice to unpickle unsafely: torch's
    weights_only errors suggest ``weights_only=False``, which runs arbitrary code."""
    text = str(exc).strip()
    if "weights_only" in text or "Weights only load failed" in text:
        return "it holds objects other than tensors and plain containers, which are not loaded"
    return text.splitlines()[0][:300] if text else exc.__class__.__name__
