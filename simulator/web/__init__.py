"""``pasc serve``: a local web page over a workspace, in Vietnamese and English.

Needs the ``web`` extra (``pip install 'pasc[web]'``). ``create_app(workspace,
lang)`` returns the Starlette app; :mod:`simulator.cli.serve` runs it with
uvicorn on 127.0.0.1. See docs/web.md.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from starlette.applications import Starlette


def create_app(
    workspace: Any = ".", lang: str | None = None, *, allowed_hosts: list[str] | None = None
) -> Starlette:
    """The web app over ``workspace``; see :func:`simulator.web.app.create_app`."""
    from simulator.web.app import create_app as _create_app

    return _create_app(workspace, lang, allowed_hosts=allowed_hosts)


__all__ = ["create_app"]
