"""``file.write``: write the input (or any content) to a file of the data root,
atomically in ``overwrite`` mode; parent folders are created inside the root.
Paths are checked by ``engine.datafiles`` (nothing outside the root is written).
May import: pydantic, engine.context, engine.datafiles, engine.nodes.spec, stdlib.
"""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...context import NodeContext
from ...datafiles import write_file
from ..spec import NodeType, Port


class FileWriteConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    path: str = Field(
        ...,
        description="Path relative to the data root",
        json_schema_extra={"widget": "path", "placeholder": "output/result.json"},
    )
    format: Literal["text", "json", "jsonl", "csv", "bytes"] = Field(
        "json", description="csv writes a list of objects; bytes writes base64 text as bytes"
    )
    content: Any = Field(
        "{{ input }}", description="What to write", json_schema_extra={"widget": "json"}
    )
    mode: Literal["overwrite", "append"] = Field(
        "overwrite", description="overwrite replaces the file atomically"
    )


class FileWrite(NodeType):
    type_name = "file.write"
    title = "Write file"
    category = "Files"
    description = "Write data to a file in the data root."
    icon = "file-out"
    inputs = (Port("in", "The value written by default"),)
    outputs = (Port("out", "{path, bytes}"),)
    Config = FileWriteConfig

    async def execute(self, ctx: NodeContext, config: FileWriteConfig) -> Any:
        content = config.content
        if "content" not in ctx.node.config:
            content = ctx.input  # the default "{{ input }}" without a round trip
        cancelled = threading.Event()
        task = asyncio.ensure_future(
            asyncio.to_thread(
                write_file,
                ctx.data_root,
                config.path,
                config.format,
                content,
                config.mode,
                cancelled.is_set,
            )
        )
        try:
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            # The writing thread cannot be stopped: tell it not to replace (or
            # append to) the file, and wait for it, so that "cancelled" means
            # the file was left alone.
            cancelled.set()
            try:
                result = await task
            except Exception:  # noqa: BLE001 - the run is cancelled: its error is moot
                raise asyncio.CancelledError() from None
            if result.get("cancelled"):
                raise
            # The file was written before the cancel reached the thread: say
            # so (a "cancelled" node must mean an untouched file).
            return result
