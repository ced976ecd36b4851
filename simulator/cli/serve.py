"""``pasc serve``: the local web page over a workspace folder (see docs/web.md)."""

from __future__ import annotations

import ipaddress
import threading
import webbrowser
from pathlib import Path

import click

from simulator.cli.common import BadInput

LOOPBACK = "127.0.0.1"


def is_loopback(host: str) -> bool:
    """True for 127.0.0.0/8, ::1 and ``localhost``: reachable from this computer only."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@click.command()
@click.argument("workspace", required=False, default=".", type=click.Path(file_okay=False))
@click.option("--port", type=click.IntRange(0, 65535), default=8000, show_default=True)
@click.option(
    "--host",
    default=None,
    help=f"Address to listen on (default {LOOPBACK}: this computer only). Any other "
    "address lets other computers open the page: there is no login.",
)
@click.option("--open", "open_browser", is_flag=True, help="Open the page in the web browser.")
@click.option(
    "--lang",
    type=click.Choice(["vi", "en"]),
    help="Language of the pages (default: the browser's).",
)
def serve(
    workspace: str, port: int, host: str | None, open_browser: bool, lang: str | None
) -> None:
    """The local web page over WORKSPACE (default: this folder): its scenarios/ and results/.

    Planners edit, run, size and compare scenarios in the browser, in Vietnamese
    or English. Reads and writes only inside WORKSPACE. Stop with Ctrl-C.
    """
    try:
        import uvicorn

        from simulator.web import create_app
    except ImportError as exc:
        raise BadInput(
            f"pasc serve needs the web extra ({exc.name} is missing): pip install 'pasc[web]'"
        ) from None
    folder = Path(workspace)
    if not folder.is_dir():
        raise BadInput(f"WORKSPACE: expected a folder, found {workspace!r} (no such folder)")
    if host is None:
        host = LOOPBACK
    elif not is_loopback(host):
        click.echo(
            f"pasc: warning: listening on {host}: other computers on the network can open "
            "this page, read the workspace and start runs (there is no login).",
            err=True,
        )
    # On loopback, only requests naming this computer are served (no DNS rebinding).
    hosts = ["127.0.0.1", "localhost", "[::1]", "::1", host] if is_loopback(host) else None
    app = create_app(folder, lang, allowed_hosts=hosts)
    shown = f"[{host}]" if ":" in host else host
    url = f"http://{'127.0.0.1' if host in ('0.0.0.0', '::') else shown}:{port}/"
    click.echo(f"pasc: serving {folder.resolve()} at {url} (Ctrl-C stops)", err=True)
    if open_browser:
        threading.Timer(1.0, webbrowser.open, args=(url,)).start()
    uvicorn.run(app, host=host, port=port, log_level="warning")
