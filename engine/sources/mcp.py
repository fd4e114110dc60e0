"""MCP servers as tool sources (``{"type": "mcp", ...}``), with the official
``mcp`` SDK as the client.

- stdio: ``command`` (a list, or one string), optional ``args``, ``cwd``
  (relative to the workflow folder), ``env`` (names of variables passed
  through from the user's environment; besides them the server only gets the
  SDK's minimal default set: HOME, PATH, USER, ...).
- Streamable HTTP: ``url``, ``credential`` (bearer/basic/api_key header),
  ``headers``.

One server process (or HTTP session) per source per run, started on first
use, closed by the run's ``SourceManager`` at run end (also on failure or
cancel) — or kept warm across runs by the editor's ``SourcePool`` (``warm``):
a dead server is noticed (``check``: a ping) and restarted on the next use.
The session lives in its own task (the SDK's anyio contexts must be entered
and left in one task); calls from any node go through it.

State changes go to ``env.on_state`` (starting, ready with N tools, failed
with the reason, tools_changed, closed); the server's stderr goes to a
temporary file (its last lines name a failure) and, when ``env.on_stderr`` is
set, line by line to it as it comes.

May import: mcp, pydantic, engine.errors, engine.credentials, engine.compat, stdlib.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from ..compat.mcp_fast import next_request_id
from ..errors import (
    MCP_PROCESS_DIED,
    SOURCE_UNAVAILABLE,
    TOOL_ERROR,
    FlowdeskError,
)
from .base import SourceEnv, SourceType, ToolInfo, ToolSource
from .schema import normalise

log = logging.getLogger(__name__)

STDERR_LINES = 12
#: how often the stderr file is read for ``env.on_stderr`` (seconds)
STDERR_POLL_S = 0.2
#: a server answers ``initialize`` within this long, or it failed to start
#: (generous: ``npx -y`` may download the server first)
START_TIMEOUT_S = 60.0
#: a warm session answers a ping within this long, or it is restarted
PING_TIMEOUT_S = 5.0


class McpConfig(BaseModel):
    model_config = ConfigDict(extra="forbid")

    command: list[str] | str | None = Field(
        None, description='The server\'s command (stdio), e.g. ["mcp-server-time"]'
    )
    args: list[str] = Field(default_factory=list, description="Arguments after the command")
    cwd: str | None = Field(None, description="Working folder, relative to the workflow's")
    env: list[str] = Field(
        default_factory=list, description="Names of environment variables passed to the server"
    )
    url: str | None = Field(None, description="A Streamable HTTP server's URL")
    credential: str | None = Field(None, description="A credential sent with every request")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra HTTP headers")

    @model_validator(mode="after")
    def _one_transport(self) -> McpConfig:
        if (self.command is None) == (self.url is None):
            raise ValueError('give either "command" (stdio server) or "url" (HTTP server)')
        if isinstance(self.command, list) and not self.command:
            raise ValueError('"command" is empty')
        return self

    def argv(self) -> list[str]:
        command = [self.command] if isinstance(self.command, str) else list(self.command or [])
        return command + list(self.args)


def _unavailable(message: str, *, category: str = "CONNECTION") -> FlowdeskError:
    return FlowdeskError(message, code=SOURCE_UNAVAILABLE, category=category, retryable=True)


def _content_json(part: Any) -> dict[str, Any]:
    data: dict[str, Any] = part.model_dump(mode="json", exclude_none=True, by_alias=True)
    return data


class McpSource(ToolSource):
    """One live MCP session (a child process for stdio)."""

    def __init__(self, name: str, config: McpConfig, env: SourceEnv) -> None:
        self.name = name
        self.config = config
        self.env = env
        self._session: Any = None
        self._runner: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._stop = asyncio.Event()
        self._dead = asyncio.Event()
        self._start_error: BaseException | None = None
        self._tools: list[ToolInfo] | None = None
        self._start_lock = asyncio.Lock()
        self._errlog: Any = None
        self._err_offset = 0
        self._err_partial = ""
        self._follower: asyncio.Task[None] | None = None
        self.state = "idle"  # idle, starting, ready, failed, closed
        self.reason = ""

    def _set_state(self, state: str, detail: str = "") -> None:
        self.state = state
        self.reason = detail
        try:
            self.env.on_state(self.name, state, detail)
        except Exception:
            log.exception("source state observer failed")

    # -- life cycle ---------------------------------------------------------

    def describe(self) -> str:
        if self.config.url:
            return self.config.url
        return " ".join(self.config.argv())

    def stderr_tail(self) -> str:
        if self._errlog is None:
            return ""
        try:
            self._errlog.flush()
            text = Path(self._errlog.name).read_text(errors="replace")
        except OSError:
            return ""
        lines = [line for line in text.splitlines() if line.strip()]
        return "\n".join(lines[-STDERR_LINES:])

    async def _ensure(self) -> Any:
        if self._session is not None and not self._dead.is_set():
            return self._session
        async with self._start_lock:
            if self._session is not None and not self._dead.is_set():
                return self._session
            if self._runner is not None:  # a dead session: start a new one
                await self._shutdown()
                self._drop_errlog()
                self._ready = asyncio.Event()
                self._stop = asyncio.Event()
                self._dead = asyncio.Event()
                self._start_error = None
                self._tools = None
                self.tools_version += 1
            self._set_state("starting", self.describe())
            self.env.log(f"source {self.name}: starting MCP server {self.describe()}", "info")
            self._runner = asyncio.create_task(self._run(), name=f"mcp:{self.name}")
            try:
                await asyncio.wait_for(self._ready.wait(), START_TIMEOUT_S)
            except TimeoutError:
                self._runner.cancel()  # (the SDK stops the process)
                with contextlib.suppress(BaseException):
                    await self._runner
                tail = self.stderr_tail()
                self._start_error = _unavailable(
                    f"MCP server {self.describe()!r} of source {self.name!r} did not answer "
                    f"within {START_TIMEOUT_S:g} s of starting"
                    + (f"\nlast lines of its stderr:\n{tail}" if tail else "")
                )
            if self._start_error is not None or self._session is None:
                error = self._start_failure()
                self._set_state("failed", self.reason)
                raise error
            self._set_state("ready", "connected")
            return self._session

    async def check(self) -> None:
        """A warm session about to serve a new run: a ping; no answer (a killed
        server) marks it dead, so that the next use starts a new one."""
        session = self._session
        if session is None or self._dead.is_set():
            return
        try:
            await asyncio.wait_for(self._guarded(session.send_ping(), "a ping"), PING_TIMEOUT_S)
        except asyncio.CancelledError:
            raise
        except Exception:  # noqa: BLE001 - any failure: restart on next use
            self._dead.set()
            self.env.log(f"source {self.name}: the MCP server stopped; restarting it", "warning")

    def invalidate(self) -> None:
        self._tools = None
        self.tools_version += 1

    def _start_failure(self) -> FlowdeskError:
        error = self._start_error
        if isinstance(error, FlowdeskError):
            self.reason = error.message if hasattr(error, "message") else str(error)
            return error
        what = f"MCP server {self.describe()!r} of source {self.name!r} could not start"
        if error is not None:
            detail = _describe_exception(error)
            if detail:
                what += f": {detail}"
        tail = self.stderr_tail()
        if tail:
            what += f"\nlast lines of its stderr:\n{tail}"
        self.reason = what
        return _unavailable(what)

    # -- stderr -------------------------------------------------------------

    def _read_stderr(self, final: bool = False) -> None:
        """Hand the stderr lines written since the last read to ``on_stderr``."""
        handler, errlog = self.env.on_stderr, self._errlog
        if handler is None or errlog is None:
            return
        try:
            with open(errlog.name, "rb") as fh:
                fh.seek(self._err_offset)
                data = fh.read()
        except OSError:
            return
        if not data:
            return
        self._err_offset += len(data)
        lines = (self._err_partial + data.decode("utf-8", errors="replace")).split("\n")
        self._err_partial = "" if final else lines.pop()
        for line in lines:
            line = line.rstrip("\r")
            if line.strip():
                try:
                    handler(self.name, line)
                except Exception:
                    log.exception("stderr observer failed")

    async def _follow_stderr(self) -> None:
        while True:
            await asyncio.sleep(STDERR_POLL_S)
            self._read_stderr()

    def _drop_errlog(self) -> None:
        self._read_stderr(final=True)
        if self._errlog is not None:
            with contextlib.suppress(OSError):
                self._errlog.close()
                os.unlink(self._errlog.name)
            self._errlog = None
        self._err_offset = 0
        self._err_partial = ""

    async def _run(self) -> None:
        from mcp import ClientSession

        try:
            async with contextlib.AsyncExitStack() as stack:
                if self.config.url:
                    read, write = await stack.enter_async_context(self._http_transport())
                else:
                    transport = self._stdio_transport()
                    if self.env.on_stderr is not None:
                        self._follower = asyncio.create_task(self._follow_stderr())
                    read, write = await stack.enter_async_context(transport)
                session = await stack.enter_async_context(
                    ClientSession(read, write, message_handler=self._on_message)
                )
                await session.initialize()
                self._session = session
                self._ready.set()
                await self._stop.wait()
        except BaseException as exc:
            if not self._ready.is_set():
                self._start_error = exc
            if isinstance(exc, asyncio.CancelledError):
                raise
        finally:
            follower, self._follower = self._follower, None
            if follower is not None:
                follower.cancel()
            self._read_stderr()
            self._dead.set()
            self._ready.set()

    def _stdio_transport(self) -> Any:
        from mcp import StdioServerParameters
        from mcp.client.stdio import get_default_environment, stdio_client

        argv = self.config.argv()
        program = argv[0]
        if shutil.which(program) is None and not Path(program).exists():
            raise _unavailable(
                f"source {self.name!r}: MCP server command {program!r} not found on PATH",
                category="CONFIG",
            )
        cwd: Path | None = None
        base = self.env.workflow_dir or self.env.data_root
        if self.config.cwd:
            cwd = Path(self.config.cwd)
            if not cwd.is_absolute() and base is not None:
                cwd = base / cwd
            if not cwd.is_dir():
                raise _unavailable(
                    f"sources.{self.name}.cwd: folder {str(cwd)!r} does not exist",
                    category="CONFIG",
                )
        elif base is not None and Path(base).is_dir():
            cwd = Path(base)
        environ = dict(get_default_environment())
        for key in self.config.env:
            value = self.env.environ.get(key, os.environ.get(key) if not self.env.environ else None)
            if value is not None:
                environ[key] = value
        self._errlog = tempfile.NamedTemporaryFile(  # noqa: SIM115 - closed in aclose
            "w+", prefix=f"flowdesk-mcp-{self.name}-", suffix=".log", delete=False
        )
        params = StdioServerParameters(command=program, args=argv[1:], env=environ, cwd=cwd)
        return stdio_client(params, errlog=self._errlog)

    def _http_transport(self) -> Any:
        from ..compat.mcp_http import streamable_http

        headers = dict(self.config.headers)
        if self.config.credential and self.env.credentials is not None:
            from ..credentials import http_credential

            headers.update(http_credential(self.env.credentials, self.config.credential).headers)
        return streamable_http(self.config.url or "", headers)

    async def _on_message(self, message: Any) -> None:
        from mcp import types

        if isinstance(message, types.ServerNotification) and isinstance(
            message.root, types.ToolListChangedNotification
        ):
            self._tools = None
            self.tools_version += 1
            self.env.log(f"source {self.name}: the server's tool list changed", "info")
            self._set_state("tools_changed", "")

    async def _shutdown(self) -> None:
        self._stop.set()
        runner, self._runner = self._runner, None
        self._session = None
        if runner is not None and not runner.done():
            try:
                await asyncio.wait_for(asyncio.shield(runner), 5)
            except (TimeoutError, asyncio.CancelledError, Exception):  # noqa: BLE001
                runner.cancel()
                with contextlib.suppress(BaseException):
                    await runner

    async def aclose(self) -> None:
        await self._shutdown()
        self._drop_errlog()
        if self.state != "closed":
            self._set_state("closed")

    # -- tools --------------------------------------------------------------

    async def list_tools(self) -> list[ToolInfo]:
        if self._tools is not None and not self._dead.is_set():
            return self._tools
        session = await self._ensure()
        tools: list[ToolInfo] = []
        cursor: str | None = None
        while True:
            result = await self._guarded(session.list_tools(cursor=cursor), "tools/list")
            for tool in result.tools:
                schema, _ = normalise(dict(tool.inputSchema or {"type": "object"}))
                annotations = tool.annotations
                tools.append(
                    ToolInfo(
                        name=tool.name,
                        title=(
                            tool.title or (annotations.title if annotations else None) or tool.name
                        ),
                        description=tool.description or "",
                        input_schema=schema,
                        read_only=annotations.readOnlyHint if annotations else None,
                        output_schema=tool.outputSchema,
                    )
                )
            cursor = result.nextCursor
            if not cursor:
                break
        self._tools = tools
        count = f"{len(tools)} tool{'s' if len(tools) != 1 else ''}"
        self._set_state("ready", count)
        self.env.log(f"source {self.name}: ready with {count}", "info")
        return tools

    async def _guarded(self, awaitable: Any, what: str) -> Any:
        """Await a request, failing with MCP_PROCESS_DIED when the session dies."""
        task = asyncio.ensure_future(awaitable)
        dead = asyncio.ensure_future(self._dead.wait())
        try:
            done, _ = await asyncio.wait({task, dead}, return_when=asyncio.FIRST_COMPLETED)
        except asyncio.CancelledError:
            task.cancel()
            raise
        finally:
            dead.cancel()
        if task in done:
            try:
                return task.result()
            except FlowdeskError:
                raise
            except Exception as exc:  # noqa: BLE001 - the SDK raises McpError and transport errors
                if self._dead.is_set() or "closed" in str(exc).lower():
                    raise self._died(what) from None
                raise FlowdeskError(
                    f"source {self.name!r}: {what} failed: {_describe_exception(exc)}",
                    code=TOOL_ERROR,
                    category="EXECUTION",
                ) from None
        task.cancel()
        with contextlib.suppress(BaseException):
            await task
        raise self._died(what)

    def _died(self, what: str) -> FlowdeskError:
        message = f"MCP server of source {self.name!r} ({self.describe()}) died during {what}"
        tail = self.stderr_tail()
        if tail:
            message += f"\nlast lines of its stderr:\n{tail}"
        self._dead.set()  # the next use starts a new server
        self._set_state("failed", message)
        return FlowdeskError(message, code=MCP_PROCESS_DIED, category="CONNECTION", retryable=True)

    async def call(self, tool: ToolInfo, arguments: dict[str, Any], ctx: Any) -> dict[str, Any]:
        from mcp import types

        session = await self._ensure()
        request_id = next_request_id(session)  # (the id of the call below)
        try:
            result = await self._guarded(session.call_tool(tool.name, arguments), "a call")
        except asyncio.CancelledError:
            # timeout or cancelled run: tell the server to stop working on it
            if request_id is not None and not self._dead.is_set():
                with contextlib.suppress(Exception):
                    await asyncio.shield(
                        session.send_notification(
                            types.ClientNotification(
                                types.CancelledNotification(
                                    method="notifications/cancelled",
                                    params=types.CancelledNotificationParams(
                                        requestId=request_id, reason="cancelled by Flowdesk"
                                    ),
                                )
                            )
                        )
                    )
            raise
        content = [_content_json(part) for part in result.content]
        text = "\n".join(
            part.text for part in result.content if isinstance(part, types.TextContent)
        )
        if result.isError:
            raise FlowdeskError(
                f"tool {tool.name!r} of source {self.name!r} failed: {text or 'no message'}",
                code=TOOL_ERROR,
                category="EXECUTION",
                details={"content": content},
            )
        return {"structured": result.structuredContent, "text": text, "content": content}


def _describe_exception(exc: BaseException) -> str:
    if isinstance(exc, BaseExceptionGroup):
        return "; ".join(_describe_exception(inner) for inner in exc.exceptions)
    text = str(exc).strip()
    if isinstance(exc, FileNotFoundError):
        return f"command not found ({text})"
    return text or type(exc).__name__


class McpSourceType(SourceType):
    type = "mcp"
    title = "MCP server"
    config_model = McpConfig
    credential_kinds = ("bearer", "basic", "api_key")
    warm = True

    def open(self, name: str, config: BaseModel, env: SourceEnv) -> ToolSource:
        assert isinstance(config, McpConfig)
        return McpSource(name, config, env)
