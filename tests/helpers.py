"""Small helpers every test package uses: the shipped examples (and copies of
them a test may change), a plug-in "installed" in a folder for a subprocess's
``PYTHONPATH``, a loopback port with nothing listening, and the living child
processes of the test process (for the ``no_orphans`` fixture
of tests/conftest.py)."""

from __future__ import annotations

import os
import resource
import shutil
import socket
import subprocess
import tempfile
import time
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


def plugin_site(site: Path, name: str, entry_points: str, module: str | None = None) -> Path:
    """A folder holding the distribution ``name`` as pip would install it:
    its ``entry_points.txt`` (``entry_points``: the file's text) and, when
    given, the source of its module ``name.replace("-", "_")``. Put ``site`` on
    a subprocess's ``PYTHONPATH`` and Flowdesk finds the plug-in there."""
    package = name.replace("-", "_")
    info = site / f"{package}-1.0.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text(entry_points)
    if module is not None:
        (site / f"{package}.py").write_text(module)
    return site


def free_port() -> int:
    """A loopback port nothing listens on (bound, then released): a server
    may start on it, and a connection to it is refused."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def children() -> set[int]:
    """Every living (not zombie) child process of this test process."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        try:
            text = (task / "children").read_text()
        except OSError:
            continue
        for pid in text.split():
            try:
                state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
            except OSError:
                continue
            if state != "Z":
                found.add(int(pid))
    return found


def run_measured(
    args: list[str], *, env: dict[str, str] | None = None, timeout: float = 120
) -> tuple[subprocess.CompletedProcess[str], resource.struct_rusage]:
    """Run ``args`` to its end; the result and what the process used
    (``ru_utime + ru_stime``: CPU seconds, ``ru_maxrss``: peak memory in KiB).
    Speed and size are checked on these, not on wall time: what the code
    costs, which other work on a busy machine does not inflate the way it
    stretches wall time (wall-clock figures live in bench/)."""
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        proc = subprocess.Popen(args, env=env, stdout=out, stderr=err, text=True)
        try:
            _, status, usage = _wait4(proc.pid, timeout)
        except BaseException:
            proc.kill()
            proc.wait()
            raise
        proc.returncode = os.waitstatus_to_exitcode(status)
        out.seek(0)
        err.seek(0)
        done = subprocess.CompletedProcess(args, proc.returncode, out.read(), err.read())
    return done, usage


def cpu_seconds(usage: resource.struct_rusage) -> float:
    return usage.ru_utime + usage.ru_stime


def _wait4(pid: int, timeout: float) -> tuple[int, int, resource.struct_rusage]:
    end = time.monotonic() + timeout
    while True:
        reaped, status, usage = os.wait4(pid, os.WNOHANG)
        if reaped:
            return reaped, status, usage
        if time.monotonic() > end:
            raise subprocess.TimeoutExpired(str(pid), timeout)
        time.sleep(0.01)
