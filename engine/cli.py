"""The engine's commands of the ``flowdesk`` command line: run, validate, nodes,
history, credentials. Here: the parser, ``run``, ``validate`` and ``nodes``;
the run's printed lines are ``engine.cli_output``, the other commands
``engine.cli_*`` modules. ``flowdesk.cli`` (above the engine and the editor) adds
``edit`` and is the console script.

Exit codes of ``run``: 0 succeeded, 1 failed or cancelled, 2 the file could not
be loaded or is invalid (every problem on stderr with its location).
``validate``: 0 valid, 2 invalid. Ctrl+C cancels a run cleanly; a second one quits.
May import: every engine module; never the editor.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import logging
import os
import signal
import sys
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel

from . import __version__
from .bus import BUS, install_logging
from .cli_common import default_registry as _registry
from .cli_common import load_checked as _load
from .cli_common import parse_vars as _parse_vars
from .cli_common import print_problems as _print_problems
from .cli_output import EXIT_FAILED, EXIT_INVALID, EXIT_OK, LinePrinter, print_summary
from .credentials import redact
from .events import Event
from .executor import Engine
from .expressions import interrupt as interrupt_expressions
from .gcpause import paused_gc
from .history import HistoryStore
from .keyring_store import default_secret_store
from .model.workflow import Workflow
from .registry import NodeRegistry
from .results import RunResult
from .safe_output import json_text
from .validate import check_file


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse would exit 2 too; keep the message short
        self.print_usage(sys.stderr)
        self.exit(EXIT_INVALID, f"flowdesk: error: {message}\n")


Command = tuple[Callable[[Any], None], Callable[[argparse.Namespace], int]]
"""A command added from above the engine: (add its parser to the sub-parsers
action, run it with the parsed arguments)."""


#: the commands this module defines: parsing one of them needs no other
#: subcommand's module (a run imports no planner, MCP tools or service)
OWN_COMMANDS = ("run", "validate", "nodes")


def build_parser(
    extra: dict[str, Command] | None = None, *, own_only: bool = False
) -> argparse.ArgumentParser:
    """The ``flowdesk`` parser; with ``own_only``, without the subcommands of
    other modules (for parsing one of ``OWN_COMMANDS``: same result, fewer imports)."""
    parser = _Parser(
        prog="flowdesk",
        description="Flowdesk: build workflows visually, run them anywhere.",
    )
    parser.add_argument("--version", action="version", version=f"flowdesk {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)

    run = sub.add_parser("run", help="run a workflow headless")
    run.add_argument("flow", metavar="FLOW", help="workflow file (.flow.json)")
    run.add_argument("--json", action="store_true", help="print the run result as JSON")
    run.add_argument(
        "--var",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="override a variable (VALUE parsed as JSON, else a string); repeatable",
    )
    run.add_argument(
        "--root", metavar="DIR", help="data root for file nodes (default: the workflow's folder)"
    )
    part = run.add_mutually_exclusive_group()
    part.add_argument(
        "--only",
        metavar="NODE",
        help="run only NODE, reusing upstream "
        "outputs of this workflow's last run (running missing ones)",
    )
    part.add_argument("--up-to", metavar="NODE", help="run NODE and everything upstream of it")
    run.add_argument("--no-history", action="store_true", help="do not record the run")
    run.add_argument("-q", "--quiet", action="store_true", help="no per-node lines")
    run.add_argument(
        "--log-level",
        choices=("debug", "info", "warning", "error"),
        help="also log the run's events (auth, HTTP timings, …) to stderr at this level",
    )

    check = sub.add_parser("validate", help="check a workflow without running it")
    check.add_argument("flow", metavar="FLOW")
    check.add_argument("--json", action="store_true", help="print the problems as JSON")

    nodes = sub.add_parser("nodes", help="list the node types")
    nodes.add_argument("--json", action="store_true", help="ports and config JSON Schemas")

    if not own_only:
        from . import cli_credentials, cli_history, cli_plan, cli_service, cli_tools

        cli_history.add_parser(sub)
        cli_credentials.add_parser(sub)
        cli_tools.add_parser(sub)
        cli_plan.add_parser(sub)
        cli_service.add_parsers(sub)

    for add_parser, _ in (extra or {}).values():
        add_parser(sub)
    return parser


def main(
    argv: Sequence[str] | None = None,
    *,
    extra: dict[str, Command] | None = None,
    default: str | None = None,
) -> int:
    """Run one command. ``extra`` adds commands defined above the engine (the
    editor's ``edit``); ``default`` is the command run when none is given
    (without one, the usage is printed and the exit code is 2)."""
    args_list = list(sys.argv[1:] if argv is None else argv)
    _utf8_streams()
    if not args_list and default is not None:
        args_list = [default]
    command_given = args_list[0] if args_list else None
    parser = build_parser(extra, own_only=command_given in OWN_COMMANDS)
    args = parser.parse_args(args_list)
    command = args.command
    if command is None:
        parser.print_usage(sys.stderr)
        return EXIT_INVALID
    handlers: dict[str, Callable[[argparse.Namespace], int]] = {
        "run": _run,
        "validate": _validate,
        "nodes": _nodes,
        "history": _history,
        "credentials": _credentials,
        "tools": _tools,
        "plan": _plan,
        "serve": _serve,
        "worker": _worker,
    }
    handlers.update({name: handle for name, (_, handle) in (extra or {}).items()})
    return handlers[command](args)


def _utf8_streams() -> None:
    for stream in (sys.stdout, sys.stderr):
        reconfigure = getattr(stream, "reconfigure", None)
        if reconfigure is not None:
            try:
                reconfigure(errors="replace")
            except (ValueError, OSError):
                pass


# ------------------------------------------------------------------- run
@dataclass(frozen=True, slots=True)
class RunOptions:
    """What ``flowdesk run`` settled before the run starts: built once by
    ``_run`` from the parsed arguments (once they are checked and the
    workflow is loaded) and handed down to ``_run_async`` and ``_run_handle``."""

    workflow: Workflow
    registry: NodeRegistry
    #: the configs validated while loading: the run does not validate them again
    configs: dict[str, BaseModel]
    #: ``--var`` overrides
    variables: dict[str, Any]
    #: ``--root``, else the workflow's folder
    root: Path
    #: ``--only`` / ``--up-to``: the node the run is limited to
    only: str | None
    up_to: str | None
    #: ``--log-level``: also log the run's events to stderr at this level
    log_level: str | None
    #: the workflow file, resolved: the run's key in the history
    flow_path: str
    #: None with ``--no-history``
    history: HistoryStore | None
    #: the workflow's last recorded run (for ``--only``), else None
    previous: RunResult | None
    #: the live per-node lines; None with ``--quiet`` or ``--json`` (unless stderr is a terminal)
    printer: LinePrinter | None


def _run(args: argparse.Namespace) -> int:
    try:
        variables = _parse_vars(args.var)
    except ValueError as exc:
        sys.stderr.write(f"flowdesk: error: {exc}\n")
        return EXIT_INVALID
    # the configs validated while loading: the run does not validate them again
    configs: dict[str, BaseModel] = {}
    with paused_gc():
        registry = _registry()
        workflow = _load(args.flow, registry, sys.stderr, configs=configs)
        # The loaded workflow lives for the whole run: keep it out of every
        # garbage collection pass (for a 10,000-node flow this halves the
        # engine's time).
        gc.freeze()
    if workflow is None:
        return EXIT_INVALID
    for target in (args.only, args.up_to):
        if target is not None and workflow.node(target) is None:
            sys.stderr.write(f"{args.flow}: no node {target!r}\n")
            return EXIT_INVALID
    root = Path(args.root) if args.root else Path(args.flow).resolve().parent
    if not root.is_dir():
        sys.stderr.write(f"flowdesk: error: --root {args.root!r} is not a folder\n")
        return EXIT_INVALID
    flow_path = str(Path(args.flow).resolve())
    history = None if args.no_history else HistoryStore()
    live = sys.stderr if args.json else sys.stdout
    show_lines = not args.quiet and (not args.json or sys.stderr.isatty())
    options = RunOptions(
        workflow=workflow,
        registry=registry,
        configs=configs,
        variables=variables,
        root=root,
        only=args.only,
        up_to=args.up_to,
        log_level=args.log_level,
        flow_path=flow_path,
        history=history,
        previous=history.latest_result(flow_path) if history and args.only else None,
        printer=LinePrinter(live, workflow) if show_lines else None,
    )
    result, secrets = asyncio.run(_run_async(options))
    if args.json:
        data = redact(result.to_json(), sorted(secrets, key=len, reverse=True))
        sys.stdout.write(json_text(data) + "\n")
    elif not args.quiet:
        print_summary(result, sys.stdout)
    # The command ends the process: leave the run's objects to the operating
    # system rather than to one last garbage collection pass at exit (for a
    # 10,000-node run, that pass took longer than printing the result).
    gc.freeze()
    return EXIT_OK if result.status == "succeeded" else EXIT_FAILED


async def _run_async(options: RunOptions) -> tuple[RunResult, list[str]]:
    """The run's result, and the secret values to redact from what is printed."""
    engine = Engine(options.registry, secrets=default_secret_store())
    run_id = uuid.uuid4().hex
    unsubscribe: list[Callable[[], None]] = []
    printer = options.printer
    if printer is not None:
        # The live lines are a subscriber of the process's event bus like any other.
        def live(event: Event) -> None:
            if getattr(event, "run_id", None) == run_id:  # signals may have none
                printer(event)

        unsubscribe.append(BUS.subscribe("*", live))
    if options.log_level:
        unsubscribe.append(_log_to_stderr(options.log_level))
    try:
        return await _run_handle(engine, run_id, options)
    finally:
        for stop in unsubscribe:
            stop()


def _log_to_stderr(level: str) -> Callable[[], None]:
    """Events through ``logging`` to stderr at ``level`` and above."""
    logger = logging.getLogger("flowdesk.events")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(logging.Formatter("%(levelname)s %(name)s: %(message)s"))
    logger.addHandler(handler)
    logger.setLevel(level.upper())
    logger.propagate = False
    uninstall = install_logging(logger)

    def stop() -> None:
        uninstall()
        logger.removeHandler(handler)

    return stop


async def _run_handle(
    engine: Engine, run_id: str, options: RunOptions
) -> tuple[RunResult, list[str]]:
    workflow, history, flow_path = options.workflow, options.history, options.flow_path
    handle = engine.start(
        workflow,
        variables=options.variables,
        data_root=options.root,
        only=options.only,
        up_to=options.up_to,
        previous=options.previous,
        check=False,
        run_id=run_id,
        configs=options.configs,
    )
    if options.printer is not None:
        options.printer.secrets = handle.secrets_used
    # History writes run in a worker thread: a locked or slow database must
    # not hold the event loop (nor add its wait to the run's duration).
    recorded_start = (
        asyncio.ensure_future(
            asyncio.to_thread(
                _try,
                lambda: history.record_start(
                    handle.run_id, workflow.name, handle.started_at, workflow_path=flow_path
                ),
            )
        )
        if history is not None
        else None
    )
    loop = asyncio.get_running_loop()
    interrupts = 0

    def on_interrupt(signum: int, frame: Any) -> None:
        # A plain signal handler, not the loop's: it runs between two steps
        # of whatever holds the event loop (a long expression included).
        nonlocal interrupts
        interrupts += 1
        if interrupts == 1:
            _write_now("\ncancelling the run… (Ctrl+C again to quit at once)\n")
            interrupt_expressions()  # an expression in progress stops at its next step
            loop.call_soon_threadsafe(handle.cancel)
        else:
            _write_now("quitting at once (the run was not recorded as finished)\n")
            os._exit(130)

    previous_handlers: dict[signal.Signals, Any] = {}
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            previous_handlers[sig] = signal.signal(sig, on_interrupt)
        except (ValueError, OSError):  # pragma: no cover - not the main thread
            pass
    try:
        result = await handle.wait()
    finally:
        for sig, previous_handler in previous_handlers.items():
            try:
                signal.signal(sig, previous_handler)
            except (ValueError, OSError, TypeError):  # pragma: no cover
                pass
    if history is not None and recorded_start is not None:
        await recorded_start
        secrets = handle.secrets_used()
        await asyncio.to_thread(
            _try, lambda: history.record_result(result, workflow_path=flow_path, secrets=secrets)
        )
    return result, handle.secrets_used()


def _write_now(text: str) -> None:
    """Write to stderr from a signal handler (no buffered stream involved)."""
    try:
        os.write(2, text.encode("utf-8", "replace"))
    except OSError:
        pass


def _try(action: Callable[[], None]) -> None:
    """History problems are reported but never fail a run."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001
        sys.stderr.write(f"warning: could not record the run in the history: {exc}\n")


# -------------------------------------------------------------- validate
def _validate(args: argparse.Namespace) -> int:
    registry = _registry()
    workflow, issues = check_file(args.flow, registry)
    problems = [
        {"location": i.location, "message": i.message, "node": i.node_id, "path": list(i.path)}
        for i in issues
    ]
    if args.json:
        sys.stdout.write(json.dumps({"valid": not problems, "problems": problems}) + "\n")
    elif problems:
        lines = [str(issue) for issue in issues]
        _print_problems(args.flow, lines, sys.stderr)
    else:
        assert workflow is not None
        sys.stdout.write(
            f"{args.flow}: valid ({len(workflow.nodes)} nodes, {len(workflow.edges)} edges)\n"
        )
    return EXIT_INVALID if problems else EXIT_OK


# ----------------------------------------------------------------- nodes
def _nodes(args: argparse.Namespace) -> int:
    registry = _registry()
    if args.json:
        sys.stdout.write(json.dumps([t.describe() for t in registry], indent=2) + "\n")
        return EXIT_OK
    for category, types in registry.categories().items():
        sys.stdout.write(f"{category}\n")
        for node_type in types:
            ins = ", ".join(p.name + ("*" if p.multiple else "") for p in node_type.inputs)
            outs = ", ".join(p.name for p in node_type.outputs)
            sys.stdout.write(
                f"  {node_type.type_name:<16} {node_type.title:<16} {ins or '—'} → {outs or '—'}\n"
            )
            if node_type.description:
                sys.stdout.write(f"  {'':<16} {node_type.description}\n")
            fields = list(node_type.Config.model_fields)
            if fields:
                sys.stdout.write(f"  {'':<16} config: {', '.join(fields)}\n")
    sys.stdout.write("\n* takes several edges.  'flowdesk nodes --json' gives the JSON Schemas.\n")
    return EXIT_OK


# --------------------------------------------------------------- history
def _history(args: argparse.Namespace) -> int:
    from .cli_history import run

    return run(args)


# ----------------------------------------------------------- credentials
def _credentials(args: argparse.Namespace) -> int:
    from . import cli_credentials

    return cli_credentials.run(args)


def _tools(args: argparse.Namespace) -> int:
    from . import cli_tools

    return cli_tools.run(args)


def _plan(args: argparse.Namespace) -> int:
    from . import cli_plan

    return cli_plan.run(args, main)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())


def _serve(args: argparse.Namespace) -> int:
    from . import cli_service

    return cli_service.serve(args)


def _worker(args: argparse.Namespace) -> int:
    from . import cli_service

    return cli_service.worker(args)
