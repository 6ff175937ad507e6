"""Serving the lab on this machine: bind a local port, open the browser, stop on Ctrl+C.

:func:`start` builds the app (:func:`viralsim.lab.app.make_app`) for a
scenario name or file and binds it to ``127.0.0.1`` (a threaded werkzeug
server, returned unstarted: tests run it in a thread); :func:`serve` starts
it, says where, opens the browser and serves until interrupted. dash is
imported here on first use only; without it, :class:`LabError` says which
extra to install. Everything wrong with the input is a :class:`LabError`.
"""

from __future__ import annotations

import logging
import socket
import threading
import webbrowser
from collections.abc import Callable
from pathlib import Path
from typing import Any

from viralsim.lab.runs import LabError, resolve

__all__ = ["DEFAULT_PORT", "LabServer", "serve", "start"]

#: The port tried first when none is given (then any free one).
DEFAULT_PORT = 8050
HOST = "127.0.0.1"
#: What the ``lab`` extra brings: a missing one is bad set-up (one line), any other import error a bug.
_LAB_DEPENDENCIES = {"dash", "flask", "werkzeug", "plotly"}


class LabServer:
    """A bound, not yet serving, lab: ``url``, ``serve_forever()``, ``shutdown()``."""

    def __init__(self, server: Any, app: Any) -> None:
        self._server, self.app = server, app

    @property
    def url(self) -> str:
        return f"http://{HOST}:{self._server.server_port}/"

    def serve_forever(self) -> None:
        self._server.serve_forever()

    def shutdown(self) -> None:
        self._server.shutdown()
        self._server.server_close()


def _free(port: int) -> bool:
    """Whether ``port`` can be bound on the local host (werkzeug exits the process when it cannot)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError:
            return False
    return True


def _bind(app: Any, port: int | None) -> Any:
    from werkzeug.serving import make_server

    if port is None:
        port = DEFAULT_PORT if _free(DEFAULT_PORT) else 0
    elif port and not _free(port):
        raise LabError(f"port {port} is in use: pick another with --port")
    return make_server(HOST, port, app.server, threaded=True)


def start(name: str | None, folder: Path | None, port: int | None = None) -> LabServer:
    """The lab for scenario ``name`` (bundled name or file; ``None``: bees_bike), bound to a local port.

    Raises
    ------
    LabError
        Unknown scenario, invalid file, busy port, or dash not installed.
    """
    path = resolve(name, folder)
    try:
        from viralsim.lab.app import make_app
    except ModuleNotFoundError as err:
        if (err.name or "").split(".")[0] not in _LAB_DEPENDENCIES:
            raise
        raise LabError(f"the lab needs dash ({err.name} is missing): pip install 'viralsim[lab]'") from None
    app = make_app(path, folder)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request in the terminal
    return LabServer(_bind(app, port), app)


def serve(
    name: str | None,
    folder: Path | None,
    *,
    port: int | None = None,
    browser: bool = True,
    say: Callable[[str], None] = lambda _: None,
) -> None:
    """Start the lab, tell ``say`` its address, open the browser (unless ``browser=False``), serve until Ctrl+C."""
    lab = start(name, folder, port)
    say(f"viralsim lab: {lab.url}  (Ctrl+C to stop)")
    if browser:
        threading.Thread(target=webbrowser.open, args=(lab.url,), daemon=True).start()
    try:
        lab.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        lab.shutdown()
