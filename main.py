"""Portal Desk: `python main.py [--demo] [--portal URL] [--smoke DIR] [--theme light|dark|system]`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()
# Hidden first argument: in a frozen build `sys.executable` is this app, not a Python, so the demo
# launcher starts the bundled server as `<app> --run-server serve --demo ...` (see demo_server.py).
RUN_SERVER = "--run-server"
# Likewise the PDF render child: `<app> --run-pdf-renderer` (see app/services/pdf_renderer.py).
RUN_PDF_RENDERER = "--run-pdf-renderer"
# How long a thread running Python keeps the GIL once another wants it (Python's default: 5 ms).
# A worker sorting or searching 60,000 rows keeps it that long each time the GUI thread asks, and
# the GUI thread asks again for every Python call a repaint makes into the delegates and models:
# a sort's repaints waited 40-110 ms in all. A shorter turn costs the worker little. Set once at
# start, with the GUI thread's cycle collector, so no timing depends on what ran first.
GIL_TURN_S = 0.001


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python main.py", description="Portal Desk customer portal app")
    parser.add_argument("--demo", action="store_true", help="start the bundled demo company and sign in to it")
    parser.add_argument("--portal", metavar="URL", help="open the sign-in dialog for this portal address")
    parser.add_argument("--smoke", metavar="DIR", type=Path, help="with --demo: load every tab, save PNGs, exit")
    parser.add_argument(
        "--theme",
        choices=("system", "light", "dark"),
        default=None,
        help="colour scheme for this run; default: the Appearance chosen in the app (first: 'system')",
    )
    args = parser.parse_args(argv)
    if args.smoke and not args.demo:
        parser.error("--smoke needs --demo")
    return args


def _ensure_output_streams() -> None:
    """A windowed build may start without standard streams, and logging writes to them."""
    import os

    for name in ("stdout", "stderr"):
        if getattr(sys, name) is None:
            setattr(sys, name, open(os.devnull, "w", encoding="utf-8"))  # noqa: SIM115 - lives as long as the process


def run_server(argv: list[str]) -> int:
    """The bundled portal server inside a frozen app."""
    _ensure_output_streams()
    from server.cli import main as server_main

    return server_main(argv)


def run_pdf_renderer() -> int:
    """The PDF render child inside a frozen app; it talks over its stdin and stdout pipes."""
    _ensure_output_streams()
    from app.pdf_render_child import main as renderer_main

    return renderer_main()


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    if argv[:1] == [RUN_SERVER]:
        return run_server(argv[1:])
    if argv[:1] == [RUN_PDF_RENDERER]:
        return run_pdf_renderer()
    args = parse_args(argv)

    from PySide6.QtWidgets import QApplication

    from app import __version__
    from app.services.accounts import Accounts
    from app.services.demo_server import DemoServer
    from app.services.gui_gc import GuiThreadCollector
    from app.services.logs import configure_logging
    from app.services.paths import APP_NAME, ORG_NAME
    from app.services.settings import AppSettings
    from app.views.theme import apply_theme

    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    app = QApplication(sys.argv[:1])
    GuiThreadCollector(app)
    sys.setswitchinterval(GIL_TURN_S)
    configure_logging()

    if args.smoke:  # the user's settings stay out of the smoke run: its look is what --theme says
        from app.smoke import run_smoke

        apply_theme(app, args.theme or "system")
        return run_smoke(app, args.smoke, STARTED)

    from app.views.shell import AppShell

    settings = AppSettings()
    apply_theme(app, args.theme or settings.appearance())
    shell = AppShell(app, Accounts(settings), DemoServer(), args.portal)
    shell.start(straight_to_demo=args.demo)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
