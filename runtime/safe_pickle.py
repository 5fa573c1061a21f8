"""Unpickling with an allow-list: for the field's pickled numpy files
(StyleCLIP's ``S_mean_std``, ReStyle's latent dicts). Only numpy arrays,
dtypes and builtin containers can be built; anything else raises."""
from __future__ import annotations

import io
import pickle

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
    A ``.npy`` file written by ``np.save`` of an object is unwrapped first."""
    if data[:6] == b"\x93NUMPY":
        import numpy as np
        from numpy.lib import format as npformat

        buf = io.BytesIO(data)
        version = npformat.read_magic(buf)
        npformat._check_version(version) if hasattr(npformat, "_check_version") else None
        shape, fortran, dtype = npformat._read_array_header(buf, version)
        if dtype.hasobject:
            return _Restricted(buf, encoding=encoding).load()
        return np.load(io.BytesIO(data), allow_pickle=False)
    return _Restricted(io.BytesIO(data), encoding=encoding).load()
