"""`--ray [ADDRESS]` for `run` and `test`: a bare `--ray` means a Ray started for this run (`local`).

Typer has no options with an optional value (it ignores click's ``flag_value``), so the
commands that take ``--ray`` parse their arguments with ``RayCommand``, which gives a bare
``--ray`` its default address before typer reads them. ``--ray`` is bare when it is the last
argument, or when what follows is not an address: ``local``, ``auto``, ``ray://HOST:PORT`` or
``HOST:PORT`` (so ``styleclip run --ray big.sc`` runs ``big.sc`` on a local Ray).
``--ray=ADDRESS`` is always an address.
"""
from __future__ import annotations

import re
from typing import Any

from typer.core import TyperCommand

RAY_OPTION = "--ray"
LOCAL = "local"  # styleclip_runtime.cluster.driver.LOCAL: a Ray of this run's own
RAY_HELP = ("Ray address: 'local' (the default of a bare --ray), a Ray started for this run; 'auto', a running "
            "cluster; or ray://HOST:PORT")
_HOST_PORT = re.compile(r"[A-Za-z0-9_.\-\[\]:]+:\d+")


def is_address(token: str) -> bool:
    """Whether ``token``, after ``--ray``, is its address rather than the next argument."""
    return token in (LOCAL, "auto") or token.startswith("ray://") or _HOST_PORT.fullmatch(token) is not None


def with_ray_default(args: list[str]) -> list[str]:
    """``args`` with ``local`` after every bare ``--ray`` (nothing after ``--`` is touched)."""
    out: list[str] = []
    for i, arg in enumerate(args):
        out.append(arg)
        if arg == "--":
            out.extend(args[i + 1:])
            break
        if arg == RAY_OPTION and (i + 1 == len(args) or not is_address(args[i + 1])):
            out.append(LOCAL)
    return out


class RayCommand(TyperCommand):
    """A typer command whose ``--ray`` may come without its address (see the module's docstring)."""

    def parse_args(self, ctx: Any, args: list[str]) -> list[str]:
        return super().parse_args(ctx, with_ray_default(list(args)))
