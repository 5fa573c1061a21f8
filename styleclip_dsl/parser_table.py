"""The LALR parser's tables as JSON in the user cache: a process loads them (about 5 ms) instead of
building them from the grammar (60-90 ms, a quarter of ``styleclip check``).

Lark's own ``cache=True`` pickles the tables, and nothing here unpickles. What is written is
lark's ``memo_serialize`` data (str, int, bool and None in dicts, lists and tuples), as JSON with
two tags for what JSON lacks: tuples, and dicts whose keys are not strings. It is read back with
lark's loader (``Lark._load_from_dict``, what ``Lark.load`` calls after its unpickling). The file
name is a hash of the grammar text, lark's version, the parser options and ``FORMAT``: a changed
grammar or lark reads other tables; a file that does not load is built again and rewritten; a
cache folder that cannot be written only costs the build.
"""
from __future__ import annotations

import hashlib
import json
import os
import tempfile
from pathlib import Path
from typing import Any

from lark import Lark
from lark import __version__ as LARK_VERSION
from lark.grammar import Rule
from lark.lexer import TerminalDef

FORMAT = "styleclip-lark-tables-1"
TUPLE, DICT = "\u0000tuple", "\u0000dict"  # tags no grammar name or option can start with


def table_key(grammar: str, options: dict[str, Any]) -> str:
    """What the tables are a function of."""
    text = json.dumps([FORMAT, LARK_VERSION, grammar, options], sort_keys=True)
    return hashlib.sha256(text.encode()).hexdigest()[:24]


def table_path(key: str, env: dict[str, str] | None = None) -> Path:
    """``<cache>/parser/<key>.json`` (the cache folder of ``docs/models.md``)."""
    from styleclip_runtime.modelsets.registry import cache_root  # torch-free

    return cache_root(env) / "parser" / f"{key}.json"


def encode(value: Any) -> Any:
    """JSON-able form of lark's serialized data (tuples and non-string-keyed dicts tagged)."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            return {k: encode(v) for k, v in value.items()}
        return {DICT: [[encode(k), encode(v)] for k, v in value.items()]}
    if isinstance(value, tuple):
        return {TUPLE: [encode(v) for v in value]}
    if isinstance(value, list):
        return [encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot keep a {type(value).__name__} in the parser's tables")


def decode(value: Any) -> Any:
    """The inverse of ``encode``."""
    if isinstance(value, dict):
        if DICT in value:
            return {decode(k): decode(v) for k, v in value[DICT]}
        if TUPLE in value:
            return tuple(decode(v) for v in value[TUPLE])
        return {k: decode(v) for k, v in value.items()}
    if isinstance(value, list):
        return [decode(v) for v in value]
    return value


def dump(parser: Lark, key: str) -> bytes:
    data, memo = parser.memo_serialize([TerminalDef, Rule])
    data["options"] = {k: v for k, v in data["options"].items() if k != "transformer"}  # given at load
    return json.dumps({"format": FORMAT, "key": key, "data": encode(data), "memo": encode(memo)},
                      separators=(",", ":")).encode()


def load(path: Path, key: str, transformer: object | None = None) -> Lark | None:
    """The parser from the tables at ``path``; None when there are none or they do not load."""
    try:
        stored = json.loads(path.read_bytes())
        if stored.get("format") != FORMAT or stored.get("key") != key:
            return None
        return Lark._load_from_dict(decode(stored["data"]), decode(stored["memo"]), transformer=transformer)
    except Exception:  # absent, damaged, or written by something else: build instead
        return None


def store(path: Path, parser: Lark, key: str) -> None:
    """Write the tables atomically (a temporary file renamed into place); never fails the caller."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".tables-", dir=path.parent)
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(dump(parser, key))
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
    except (OSError, TypeError):
        pass
