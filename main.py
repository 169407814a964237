"""Portal Desk: `python main.py [--demo] [--portal URL] [--smoke DIR]`."""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

STARTED = time.perf_counter()


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python main.py", description="Portal Desk customer portal app")
    parser.add_argument("--demo", action="store_true", help="start the bundled demo company and sign in to it")
    parser.add_argument("--portal", metavar="URL", help="open the sign-in dialog for this portal address")
    parser.add_argument("--smoke", metavar="DIR", type=Path, help="with --demo: load every tab, save PNGs, exit")
    args = parser.parse_args(argv)
    if args.smoke and not args.demo:
        parser.error("--smoke needs --demo")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)

    from PySide6.QtWidgets import QApplication

    from app import __version__
    from app.services.accounts import Accounts
    from app.services.demo_server import DemoServer
    from app.services.logs import configure_logging
    from app.services.paths import APP_NAME, ORG_NAME
    from app.services.settings import AppSettings
    from app.views.theme import apply_theme

    QApplication.setOrganizationName(ORG_NAME)
    QApplication.setApplicationName(APP_NAME)
    QApplication.setApplicationVersion(__version__)
    app = QApplication(sys.argv[:1])
    apply_theme(app)
    configure_logging()

    if args.smoke:
        from app.smoke import run_smoke

        return run_smoke(app, args.smoke, STARTED)

    from app.views.shell import AppShell

    shell = AppShell(app, Accounts(AppSettings()), DemoServer(), args.portal)
    shell.start(straight_to_demo=args.demo)
    return app.exec()


if __name__ == "__main__":
    raise SystemExit(main())
