"""Subjects and the current result: the state that both the checker and the compiler track.

A subject is created by ``invert`` / ``generate`` / ``load``. ``apply``
starts a branch from its source, ``then`` continues the branch, ``on NAME``
picks which subject the next statements act on. Handles are opaque to the
scope: the compiler uses step ids, the checker any key it likes.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass
class Subject:
    name: str
    source: str
    latest: str
    items: int | None = None
    edits: int = 0
    sweeps: tuple[str, ...] = ()
    line: int = 0

    @property
    def has_edit(self) -> bool:
        return self.edits > 0


class Scope:
    """The subjects of one recipe, in order, and the current one (owned by one pass)."""

    def __init__(self) -> None:
        self.subjects: dict[str, Subject] = {}
        self.current: Subject | None = None

    def define(self, subject: Subject) -> None:
        self.subjects[subject.name] = subject
        self.current = subject

    def get(self, name: str) -> Subject | None:
        return self.subjects.get(name)

    def select(self, name: str) -> Subject | None:
        subject = self.subjects.get(name)
        if subject is not None:
            self.current = subject
        return subject

    def start_branch(self, handle: str, swept: str | None) -> None:
        """An edit on the current subject's source (``apply``)."""
        assert self.current is not None
        self.current.latest = handle
        self.current.edits = 1
        self.current.sweeps = (swept,) if swept else ()

    def continue_branch(self, handle: str, swept: str | None) -> None:
        """An edit on the current subject's latest result (``then``)."""
        assert self.current is not None
        self.current.latest = handle
        self.current.edits += 1
        if swept and swept not in self.current.sweeps:
            self.current.sweeps += (swept,)
