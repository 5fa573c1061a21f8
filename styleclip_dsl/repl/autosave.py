"""Autosave of interactive REPL sessions: every accepted line is on disk at once.

Each interactive session writes one JSON file, ``<cache>/repl-sessions/
<start time>-<pid>.json`` (``<cache>`` as for the result cache:
``$STYLECLIP_CACHE``, else ``$XDG_CACHE_HOME/styleclip``, else
``~/.cache/styleclip``), rewritten atomically after every change of the
session (a line accepted, ``:undo``, ``:redo``), so a crash, a closed
terminal or ``kill -9`` loses nothing that was accepted. Leaving with
``:quit`` or Ctrl-D marks the file finished. ``styleclip repl --resume``
replays the newest saved session (``--resume-from FILE`` a given one); the
next interactive start names a session that did not finish. The newest
``KEEP`` files are kept.
"""
from __future__ import annotations

import json
import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

FOLDER_NAME = "repl-sessions"
KEEP = 20
FORMAT = 1


class SessionLike(Protocol):
    entries: list[str]
    redo_stack: list[str]
    base_dir: Path


@dataclass(frozen=True)
class SavedSession:
    """One autosave file, read back."""

    path: Path
    entries: tuple[str, ...]
    base_dir: str
    started: float
    finished: bool


class AutosaveError(ValueError):
    """An autosave file that cannot be read back (missing, not JSON, not ours)."""


def default_folder() -> Path:
    from styleclip_runtime.modelsets.registry import cache_root  # torch-free

    return cache_root() / FOLDER_NAME


class Autosave:
    """The autosave file of one running session (owned by the interactive loop)."""

    def __init__(self, folder: Path, started: float | None = None) -> None:
        self.folder = Path(folder)
        self.started = time.time() if started is None else started
        stamp = time.strftime("%Y%m%d-%H%M%S", time.localtime(self.started))
        self.path = self.folder / f"{stamp}-{os.getpid()}.json"
        self.last_error: OSError | None = None

    def write(self, session: SessionLike, finished: bool = False) -> bool:
        """Write the session's accepted entries atomically; False (and ``last_error``) when the disk refused."""
        data = {
            "format": FORMAT, "started": self.started, "saved": time.time(), "finished": finished,
            "base_dir": str(session.base_dir), "entries": list(session.entries),
        }
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
            tmp.write_text(json.dumps(data, ensure_ascii=True, indent=1), encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            self.last_error = exc
            return False
        self.last_error = None
        return True

    def finish(self, session: SessionLike) -> bool:
        """Mark the session as left on purpose (its lines stay available to ``--resume``)."""
        return self.write(session, finished=True)


def read_session(path: Path) -> SavedSession:
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AutosaveError(f"cannot read the saved session {path}: {exc}") from None
    entries = data.get("entries") if isinstance(data, dict) else None
    if not isinstance(entries, list) or data.get("format") != FORMAT or \
            not all(isinstance(e, str) for e in entries):
        raise AutosaveError(f"{path} is not a saved styleclip repl session")
    return SavedSession(Path(path), tuple(entries), str(data.get("base_dir", "")),
                        float(data.get("started", 0.0)), bool(data.get("finished", False)))


def saved_sessions(folder: Path) -> list[SavedSession]:
    """The readable autosave files in ``folder``, newest first (unreadable ones are skipped)."""
    found = []
    for path in sorted(Path(folder).glob("*.json"), reverse=True):
        try:
            found.append(read_session(path))
        except AutosaveError:
            continue
    return sorted(found, key=lambda s: s.started, reverse=True)


def latest(folder: Path, exclude: Path | None = None) -> SavedSession | None:
    """The newest saved session with at least one line (other than ``exclude``)."""
    for saved in saved_sessions(folder):
        if saved.entries and saved.path != exclude:
            return saved
    return None


def unfinished(folder: Path, exclude: Path | None = None) -> SavedSession | None:
    """The newest session that neither finished nor is empty nor still running: one that crashed
    or was killed."""
    newest = latest(folder, exclude)
    if newest is None or newest.finished or _running(newest.path):
        return None
    return newest


def _running(path: Path) -> bool:
    """Whether the process that writes ``path`` (its name ends in -PID) is alive."""
    pid = path.stem.rsplit("-", 1)[-1]
    if not pid.isdigit() or int(pid) == os.getpid():
        return False
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return False
    except (PermissionError, OSError):
        return True
    return True


def prune(folder: Path, keep: int = KEEP) -> None:
    """Remove all but the ``keep`` newest autosave files."""
    try:
        files = sorted(Path(folder).glob("*.json"), key=lambda p: p.stat().st_mtime, reverse=True)
        for path in files[keep:]:
            path.unlink(missing_ok=True)
    except OSError:
        pass
