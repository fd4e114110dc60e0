"""``file.read``: read a file of the data root as text, JSON, JSON lines, CSV
records or base64 bytes. Paths are checked by ``engine.datafiles`` (nothing
outside the root is read); the blocking work runs in a worker thread.
May import: pydantic, engine.context, engine.datafiles, engine.nodes.spec, stdlib.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from ...context import NodeContext
from ...datafiles import DEFAULT_MAX_READ_BYTES, read_file
from ..spec import NodeType, Port


class FileReadConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", defer_build=True)
    path: str = Field(
        ...,
        description="Path relative to the data root (the workflow's folder unless --root)",
        json_schema_extra={"widget": "path", "placeholder": "data/input.csv"},
    )
    format: Literal["text", "json", "jsonl", "csv", "bytes"] = Field(
        "text", description="csv: a list of objects by header row; bytes: base64 text"
    )
    max_bytes: int = Field(
        DEFAULT_MAX_READ_BYTES,
        gt=0,
        description="Largest file read, in bytes (default 50 MB); a larger one is a "
        "FILE_TOO_LARGE error before anything is read",
    )


class FileRead(NodeType):
    type_name = "file.read"
    title = "Read file"
    category = "Files"
    description = "Read a file from the data root."
    icon = "file-in"
    inputs = ()
    outputs = (Port("out", "The file's data"),)
    Config = FileReadConfig

    async def execute(self, ctx: NodeContext, config: FileReadConfig) -> Any:
        return await asyncio.to_thread(
            read_file, ctx.data_root, config.path, config.format, config.max_bytes
        )
