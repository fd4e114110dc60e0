"""The ``flowdesk`` command: the engine's commands (``run``, ``validate``,
``nodes``, ``history``, ``credentials``, from ``flowdesk.engine.cli``) plus
``edit``, which opens the editor. This module sits above both packages so that
the engine never imports the editor. With no command the editor opens.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import Any

from flowdesk.engine import cli as engine_cli

EXIT_INVALID = 2
GUI_MISSING = (
    "flowdesk: the editor needs PySide6 and qasync, which are not installed here ({missing}); "
    "install them with: pip install 'PySide6-Essentials>=6.8,<6.12' qasync "
    "(headless runs work without them: flowdesk run FLOW.json)"
)


def _add_edit(sub: Any) -> None:
    edit = sub.add_parser(
        "edit",
        help="open the editor (the default); 'flowdesk edit --help' lists its options",
        add_help=False,
    )
    edit.add_argument("flow", nargs="?", metavar="FLOW", help="a workflow file to open")
    edit.add_argument("rest", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)


def _run_edit(args: argparse.Namespace) -> int:
    return edit(([args.flow] if args.flow else []) + list(args.rest))


def edit(argv: list[str]) -> int:
    """Open the editor with ``argv`` (``FLOW``, ``--screenshot OUT.png``, ...).
    Without Qt installed: one line naming what to install, exit 2."""
    try:
        import PySide6  # noqa: F401
    except ImportError as exc:
        sys.stderr.write(GUI_MISSING.format(missing=exc.name or exc) + "\n")
        return EXIT_INVALID
    from flowdesk.editor.pyside_compat import fast_feature_check

    fast_feature_check()  # before the editor's imports: PySide checks each one
    try:
        import qasync  # noqa: F401
    except ImportError as exc:
        sys.stderr.write(GUI_MISSING.format(missing=exc.name or exc) + "\n")
        return EXIT_INVALID
    from flowdesk.editor.app import main as editor_main

    return int(editor_main(argv))


COMMANDS: dict[str, engine_cli.Command] = {"edit": (_add_edit, _run_edit)}


def main(argv: Sequence[str] | None = None) -> int:
    args = list(sys.argv[1:] if argv is None else argv)
    if args[:1] == ["edit"]:
        # the editor parses its own options (--screenshot, --theme, ...)
        return edit(args[1:])
    return engine_cli.main(args, extra=COMMANDS, default="edit")


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
