"""Small helpers every test package uses: the shipped examples (and copies of
them a test may change), and a loopback port with nothing listening."""

from __future__ import annotations

import shutil
import socket
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
#: the examples shipped with the app (``resources/examples``)
EXAMPLES = ROOT / "resources" / "examples"


def example(name: str) -> Path:
    """The shipped example ``name`` (``"quickstart"`` or ``"quickstart.flow.json"``)."""
    return EXAMPLES / (name if name.endswith(".flow.json") else f"{name}.flow.json")


def copy_example(name: str, folder: Path, *, data: bool = True) -> Path:
    """A copy of the shipped example ``name`` in ``folder`` (created), with the
    examples' ``data`` folder beside it unless ``data=False``; its path."""
    source = example(name)
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / source.name
    shutil.copy(source, target)
    if data:
        shutil.copytree(EXAMPLES / "data", folder / "data", dirs_exist_ok=True)
    return target


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): a server
    may start on it, and a connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
