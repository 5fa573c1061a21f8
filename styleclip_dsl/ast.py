"""The recipe AST: typed, frozen dataclasses that carry source spans.

Every node has a keyword-only ``span`` that is left out of equality, so two
trees compare equal when they say the same thing wherever they were written
(``parse(format(ast)) == ast``). Comments are kept on the ``Recipe`` for the
formatter and are likewise left out of equality.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal, Union

from .spans import NO_SPAN, Span


def _span() -> Span:
    return field(default=NO_SPAN, compare=False, repr=False, kw_only=True)


# ---------------------------------------------------------------- values


@dataclass(frozen=True)
class Number:
    value: int | float
    span: Span = _span()


@dataclass(frozen=True)
class Text:
    """A quoted string (single or double quotes, escapes resolved)."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Word:
    """A bare word used as a value (``space=wplus``, ``attribute(hair_style)``)."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Bool:
    value: bool
    span: Span = _span()


Scalar = Union[Number, Text, Word, Bool]


@dataclass(frozen=True)
class Range:
    """``start..stop`` with an optional ``step S`` or ``count N`` (a sweep)."""

    start: Number
    stop: Number
    step: Number | None = None
    count: Number | None = None
    span: Span = _span()


@dataclass(frozen=True)
class ListValue:
    """``[a, b, ...]`` (a sweep over the listed values)."""

    items: tuple[Scalar, ...]
    span: Span = _span()


Value = Union[Number, Text, Word, Bool, Range, ListValue]


@dataclass(frozen=True)
class Ident:
    """A name written in the recipe: an engine, a subject, a metric, a key."""

    name: str
    span: Span = _span()


@dataclass(frozen=True)
class Path:
    """A path or glob, bare or quoted (the quoting is not part of the meaning)."""

    value: str
    span: Span = _span()


@dataclass(frozen=True)
class Param:
    key: Ident
    value: Value
    span: Span = _span()


# ------------------------------------------------------------ statements


@dataclass(frozen=True)
class Unknown:
    """A statement that starts with a word the language does not know."""

    word: Ident
    rest: str = ""
    span: Span = _span()


@dataclass(frozen=True)
class Use:
    modelset: Ident
    span: Span = _span()


@dataclass(frozen=True)
class Seed:
    value: Number
    span: Span = _span()


@dataclass(frozen=True)
class Device:
    name: Ident
    span: Span = _span()


@dataclass(frozen=True)
class Invert:
    paths: tuple[Path, ...]
    alias: Ident | None = None
    span: Span = _span()
    params: tuple[Param, ...] = ()  # `face=N` (sets with `align: ffhq`)


@dataclass(frozen=True)
class Generate:
    params: tuple[Param, ...]
    alias: Ident | None = None
    span: Span = _span()


@dataclass(frozen=True)
class Load:
    path: Path
    alias: Ident | None = None
    span: Span = _span()


@dataclass(frozen=True)
class On:
    subject: Ident
    span: Span = _span()


EditForm = Literal["apply", "short"]


@dataclass(frozen=True)
class Edit:
    """``apply TEXT via ENGINE ...`` (form "apply") or ``ENGINE TEXT ...`` (form "short").

    ``chained`` is True for ``then EDIT``.
    """

    text: Text
    engine: Ident
    params: tuple[Param, ...] = ()
    chained: bool = False
    form: EditForm = "apply"
    span: Span = _span()


SaveMode = Literal["image", "grid", "animation", "aligned"]


@dataclass(frozen=True)
class Save:
    mode: SaveMode
    path: Path
    params: tuple[Param, ...] = ()   # `save animation` only: duration=, size=, labels=, pingpong=
    span: Span = _span()


@dataclass(frozen=True)
class Export:
    path: Path
    span: Span = _span()


@dataclass(frozen=True)
class Expect:
    metric: Ident
    args: tuple[Scalar, ...]
    kwargs: tuple[Param, ...]
    op: str
    value: Scalar
    span: Span = _span()


Statement = Union[Unknown, Use, Seed, Device, Invert, Generate, Load, On, Edit, Save, Export, Expect]


@dataclass(frozen=True)
class Comment:
    """``# text`` (``text`` includes the ``#``)."""

    text: str
    span: Span = _span()


@dataclass(frozen=True)
class Recipe:
    statements: tuple[Statement, ...]
    comments: tuple[Comment, ...] = field(default=(), compare=False, repr=False)
    span: Span = _span()
