"""Plain data between the grader and an exercise process: JSON, with arrays as raw bytes.

What a student's function returns crosses from the exercise process to the grader's process
as data, never as an object: numbers, strings, lists, tuples, ``None`` and numeric numpy arrays
(dtype, shape and raw bytes, no pickle). Anything else travels as the name of its type only,
so nothing the student defines (an object whose ``__eq__`` is always True, a numpy subclass
with its own comparison) can reach the grader. The grader's inputs travel the same way.

:func:`decode` is strict: the grader runs it on bytes written by the student's process, which
may be anything, so every size, depth, dtype and shape is checked.

This module imports only the standard library and numpy: it is copied next to the exercise
harness, where nothing of the grader may be importable.
"""

from __future__ import annotations

import base64
import math

import numpy as np

#: Array dtypes that may cross: booleans, integers and real floats, 8 bytes at most.
ARRAY_KINDS = "biuf"
#: Limits on what :func:`decode` accepts.
MAX_BYTES = 64 * 1024 * 1024
MAX_ITEMS = 100_000
MAX_DEPTH = 6
MAX_STRING = 10_000


class PlainError(ValueError):
    """A payload is not plain data as this module writes it."""


class Opaque:
    """Stands for a value that did not cross: only its type's name did.

    Compares equal to nothing, not even itself.
    """

    __slots__ = ("type_name",)

    def __init__(self, type_name):
        self.type_name = type_name

    def __eq__(self, other):
        return False

    __hash__ = None

    def __repr__(self):
        return f"<a {self.type_name} object>"


def _type_name(value):
    t = type(value)
    module = getattr(t, "__module__", "") or ""
    name = getattr(t, "__qualname__", None) or getattr(t, "__name__", "object")
    full = name if module in ("builtins", "") else f"{module}.{name}"
    return str(full)[:200]


def encode(value, _depth=0):
    """Turn ``value`` into JSON-able plain data (see the module docstring).

    Never calls a method the value's class defines (no ``__eq__``, ``__len__``, ``__iter__``
    of a user class): numpy arrays, subclasses included, are read as their base class.
    """
    if _depth > MAX_DEPTH:
        return {"object": "nested too deeply"}
    t = type(value)
    if value is None or t is bool or t is str:
        return value if t is not str else value[:MAX_STRING]
    if t is int:
        return {"int": str(value)} if abs(value) >= 2 ** 53 else value
    if t is float:
        return value if math.isfinite(value) else {"float": repr(value)}
    if t in (list, tuple):
        items = list.__iter__(value) if t is list else tuple.__iter__(value)
        out = []
        for item in items:
            if len(out) >= MAX_ITEMS:
                return {"object": f"{t.__name__} with more than {MAX_ITEMS} items"}
            out.append(encode(item, _depth + 1))
        return {t.__name__: out}
    if isinstance(value, (np.ndarray, np.generic)):
        # The base class's own methods: a subclass's overrides are never called.
        arr = np.ndarray.view(value, np.ndarray) if isinstance(value, np.ndarray) else np.asarray(value)
        arr = np.array(arr, order="C", copy=True)
        if arr.dtype.kind not in ARRAY_KINDS or arr.dtype.itemsize > 8:
            return {"object": f"numpy array of dtype {arr.dtype}"}
        if arr.nbytes > MAX_BYTES:
            return {"object": f"numpy array of {arr.nbytes} bytes"}
        arr = arr.astype(arr.dtype.newbyteorder("<"), copy=False)
        return {"array": {"dtype": arr.dtype.str, "shape": list(arr.shape),
                          "data": base64.b64encode(arr.tobytes()).decode("ascii"),
                          "scalar": isinstance(value, np.generic)}}
    return {"object": _type_name(value)}


def decode(data, _depth=0):
    """Rebuild the value :func:`encode` described; raise :class:`PlainError` on anything else.

    Returns plain Python values, :class:`numpy.ndarray` (base class, a fresh copy), numpy
    scalars, and :class:`Opaque` for values that did not cross.
    """
    if _depth > MAX_DEPTH + 1:
        raise PlainError("nested too deeply")
    if data is None or isinstance(data, bool):
        return data
    if isinstance(data, int):
        return int(data)
    if isinstance(data, float):
        return float(data)
    if isinstance(data, str):
        if len(data) > MAX_STRING:
            raise PlainError("string too long")
        return str(data)
    if not isinstance(data, dict) or len(data) != 1:
        raise PlainError(f"unexpected {type(data).__name__}")
    (key, body), = data.items()
    if key == "int":
        if not isinstance(body, str) or len(body) > 400:
            raise PlainError("bad int")
        return int(body)
    if key == "float":
        if body not in ("nan", "inf", "-inf"):
            raise PlainError("bad float")
        return float(body)
    if key in ("list", "tuple"):
        if not isinstance(body, list) or len(body) > MAX_ITEMS:
            raise PlainError(f"bad {key}")
        items = [decode(item, _depth + 1) for item in body]
        return items if key == "list" else tuple(items)
    if key == "object":
        if not isinstance(body, str):
            raise PlainError("bad object")
        return Opaque(body[:200])
    if key == "array":
        return _decode_array(body)
    raise PlainError(f"unknown kind {key!r}")


def _decode_array(body):
    if not isinstance(body, dict) or set(body) != {"dtype", "shape", "data", "scalar"}:
        raise PlainError("bad array")
    try:
        dtype = np.dtype(body["dtype"]) if isinstance(body["dtype"], str) else None
    except TypeError:
        dtype = None
    if dtype is None or dtype.kind not in ARRAY_KINDS or dtype.itemsize > 8 or dtype.fields:
        raise PlainError("bad array dtype")
    shape = body["shape"]
    if (not isinstance(shape, list) or len(shape) > 32
            or not all(type(n) is int and 0 <= n <= MAX_BYTES for n in shape)):
        raise PlainError("bad array shape")
    if not isinstance(body["data"], str) or len(body["data"]) > MAX_BYTES * 4 // 3 + 4:
        raise PlainError("bad array data")
    try:
        raw = base64.b64decode(body["data"], validate=True)
    except ValueError:
        raise PlainError("bad array data") from None
    if math.prod(shape) * dtype.itemsize != len(raw):
        raise PlainError("array data does not match its shape")
    arr = np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    if body["scalar"] is True and arr.shape == ():
        return arr[()]
    if body["scalar"] is not False:
        raise PlainError("bad array scalar flag")
    return arr
