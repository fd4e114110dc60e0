"""Build the wheel and the sdist, install the wheel as a user would, use it.

    python3 packaging/check_wheel.py [--keep]

1. ``python -m build`` makes ``dist/py/flowdesk-VERSION.tar.gz`` and, from that
   sdist, ``flowdesk-VERSION-py3-none-any.whl`` (so the sdist is complete too);
   ``twine check`` passes on both.
2. The wheel installs nothing at the top level but ``flowdesk`` (and its
   dist-info), and carries the icons, themes and examples.
3. A fresh venv gets the wheel (not editable) and runs from a scratch folder
   with the repository off ``sys.path``: ``flowdesk --version``,
   ``python -m flowdesk --version``, ``flowdesk run`` on every example that
   needs no network or server, and ``flowdesk edit EXAMPLE --screenshot``
   (offscreen), checked to show the graph: not blank, and unlike a screenshot
   of an empty workflow.

Exit 0 when every check passes; each check prints one line. Tools (build,
twine) go into build/venv-wheel-tools; the app's venv is made anew each time.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import tempfile
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
DIST = REPO / "dist" / "py"
TOOLS = REPO / "build" / "venv-wheel-tools"
# node types that need a network peer (a server, an API key) to run
NEEDS_PEER = {
    "http.request",
    "ai.transform",
    "tool.call",
    "email.send",
    "gmail.send",
    "outlook.send",
    "trigger.webhook",
}
failures: list[str] = []


def check(ok: bool, what: str, detail: str = "") -> None:
    print(f"  {'ok  ' if ok else 'FAIL'} {what}" + (f": {detail}" if detail else ""), flush=True)
    if not ok:
        failures.append(what)


def run(cmd: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(cmd, capture_output=True, text=True, **kwargs)  # type: ignore[call-overload]


def venv(path: Path, *packages: str) -> Path:
    if not (path / "bin" / "python").exists():
        subprocess.run([sys.executable, "-m", "venv", str(path)], check=True)
    if packages:
        subprocess.run(
            [
                str(path / "bin" / "python"),
                "-m",
                "pip",
                "install",
                "-q",
                "--disable-pip-version-check",
                *packages,
            ],
            check=True,
        )
    return path / "bin"


def build() -> tuple[Path, Path]:
    print("== build the sdist and the wheel", flush=True)
    tools = venv(TOOLS, "build>=1.2", "twine>=5", "pipx>=1.5")
    shutil.rmtree(DIST, ignore_errors=True)
    done = run([str(tools / "python"), "-m", "build", "--outdir", str(DIST), str(REPO)])
    if done.returncode != 0:
        print(done.stdout[-3000:], done.stderr[-3000:])
        raise SystemExit("check_wheel: python -m build failed")
    sdist = next(DIST.glob("flowdesk-*.tar.gz"))
    wheel = next(DIST.glob("flowdesk-*-py3-none-any.whl"))
    check(True, "built", f"{sdist.name}, {wheel.name}")
    twine = run([str(tools / "twine"), "check", "--strict", str(sdist), str(wheel)])
    check(twine.returncode == 0, "twine check --strict (both)", twine.stdout.strip()[-400:])
    return sdist, wheel


def inspect_wheel(wheel: Path) -> None:
    names = zipfile.ZipFile(wheel).namelist()
    tops = sorted({name.split("/")[0] for name in names})
    stray = [top for top in tops if top != "flowdesk" and not top.startswith("flowdesk-")]
    check(not stray, "nothing but flowdesk at the top level", ", ".join(tops))
    for wanted in (
        "flowdesk/resources/icons/box.svg",
        "flowdesk/resources/themes/base.qss",
        "flowdesk/resources/examples/quickstart.flow.json",
        "flowdesk/resources/examples/data/orders.csv",
        "flowdesk/engine/py.typed",
    ):
        check(wanted in names, f"wheel carries {wanted}")


def offline_examples(examples: Path) -> list[Path]:
    chosen = []
    for path in sorted(examples.glob("*.flow.json")):
        raw = json.loads(path.read_text(encoding="utf-8"))
        types = {node.get("type") for node in raw.get("nodes", [])}
        if not (types & NEEDS_PEER) and not raw.get("sources"):
            chosen.append(path)
    return chosen


def use_installed(wheel: Path, scratch: Path) -> None:
    print("== install the wheel into a fresh venv and use it", flush=True)
    bin_dir = venv(scratch / "venv", str(wheel))
    work = scratch / "work"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "FLOWDESK_RESOURCES")}
    env.update(
        QT_QPA_PLATFORM="offscreen",
        HOME=str(scratch / "home"),
        FLOWDESK_DATA_DIR=str(scratch / "data"),
        XDG_DATA_HOME=str(scratch / "xdg"),
    )
    py = str(bin_dir / "python")
    where = run(
        [
            py,
            "-c",
            "import flowdesk, flowdesk.engine, flowdesk.resources as r; "
            "print(flowdesk.__file__); print(r.__file__)",
        ],
        cwd=work,
        env=env,
    )
    paths = where.stdout.split()
    check(
        where.returncode == 0 and all(str(REPO) not in p for p in paths),
        "flowdesk imports from the venv, not the repository",
        " ".join(paths) or where.stderr,
    )
    generic = run(
        [
            py,
            "-c",
            "import importlib.util as u; "
            "print([n for n in ('engine', 'editor', 'resources') if u.find_spec(n)])",
        ],
        cwd=work,
        env=env,
    )
    check(
        generic.stdout.strip() == "[]",
        "no top-level engine/editor/resources importable",
        generic.stdout.strip(),
    )
    version = run([str(bin_dir / "flowdesk"), "--version"], cwd=work, env=env)
    check(
        version.returncode == 0 and version.stdout.startswith("flowdesk "),
        "flowdesk --version",
        version.stdout.strip() or version.stderr.strip(),
    )
    module = run([py, "-m", "flowdesk", "--version"], cwd=work, env=env)
    check(module.stdout == version.stdout, "python -m flowdesk --version", module.stdout.strip())

    located = run(
        [
            py,
            "-c",
            "from importlib.resources import files; "
            "print(files('flowdesk.resources') / 'examples')",
        ],
        cwd=work,
        env=env,
    )
    examples = work / "examples"
    shutil.copytree(located.stdout.strip(), examples)
    chosen = offline_examples(examples)
    check(bool(chosen), "offline examples found", ", ".join(p.name for p in chosen))
    for flow in chosen:
        done = run(
            [str(bin_dir / "flowdesk"), "run", str(flow), "--json", "--no-history"],
            cwd=work,
            env=env,
            timeout=120,
        )
        status = ""
        try:
            status = json.loads(done.stdout).get("status", "")
        except ValueError:
            status = (done.stderr or done.stdout).strip()[-300:]
        check(done.returncode == 0 and status == "succeeded", f"flowdesk run {flow.name}", status)

    empty = work / "empty.flow.json"
    empty.write_text(
        json.dumps(
            {"format": "flowdesk/workflow", "version": 1, "name": "Empty", "nodes": [], "edges": []}
        )
    )
    shots = {}
    for flow in [empty, *chosen]:
        out = scratch / f"{flow.stem}.png"
        done = run(
            [str(bin_dir / "flowdesk"), "edit", str(flow), "--screenshot", str(out)],
            cwd=work,
            env=env,
            timeout=120,
        )
        check(
            done.returncode == 0 and out.is_file(),
            f"flowdesk edit {flow.name} --screenshot",
            done.stderr.strip()[-300:],
        )
        shots[flow] = out
    for flow in chosen:
        shown = run([py, str(REPO / "packaging" / "check_png.py"), str(shots[flow])], env=env)
        changed = differing_share(py, shots[empty], shots[flow], env)
        check(
            shown.returncode == 0 and changed >= 0.02,
            f"screenshot of {flow.name} shows the graph",
            f"{shown.stdout.strip()}; {changed:.1%} of pixels differ from an empty workflow",
        )


def pipx_install(wheel: Path, scratch: Path) -> None:
    print("== pipx install the wheel", flush=True)
    env = {k: v for k, v in os.environ.items() if k != "PYTHONPATH"}
    env.update(
        PIPX_HOME=str(scratch / "pipx"),
        PIPX_BIN_DIR=str(scratch / "pipx-bin"),
        PIPX_MAN_DIR=str(scratch / "pipx-man"),
        HOME=str(scratch / "home"),
        FLOWDESK_DATA_DIR=str(scratch / "data"),
    )
    done = run([str(TOOLS / "bin" / "pipx"), "install", str(wheel)], env=env, cwd=scratch)
    check(done.returncode == 0, "pipx install WHEEL", (done.stdout + done.stderr).strip()[-300:])
    flowdesk = scratch / "pipx-bin" / "flowdesk"
    version = run([str(flowdesk), "--version"], env=env, cwd=scratch)
    check(
        version.returncode == 0 and version.stdout.startswith("flowdesk "),
        "the pipx-installed flowdesk --version",
        version.stdout.strip() or version.stderr[-300:],
    )
    nodes = run([str(flowdesk), "nodes"], env=env, cwd=scratch)
    check(
        nodes.returncode == 0 and "data.transform" in nodes.stdout,
        "the pipx-installed flowdesk nodes lists the built-in types",
    )


def differing_share(py: str, a: Path, b: Path, env: dict[str, str]) -> float:
    code = (
        "import sys; from PySide6.QtGui import QImage\n"
        "a, b = (QImage(p).convertToFormat(QImage.Format.Format_RGB32) for p in sys.argv[1:])\n"
        "if a.size() != b.size(): print(1.0); raise SystemExit\n"
        "da, db = bytes(a.constBits()), bytes(b.constBits())\n"
        "n = len(da) // 4\n"
        "print(sum(da[i*4:i*4+4] != db[i*4:i*4+4] for i in range(n)) / n)\n"
    )
    done = run([py, "-c", code, str(a), str(b)], env=env)
    try:
        return float(done.stdout.strip())
    except ValueError:
        print(done.stderr[-500:])
        return 0.0


def main() -> int:
    keep = "--keep" in sys.argv[1:]
    _sdist, wheel = build()
    inspect_wheel(wheel)
    scratch = Path(tempfile.mkdtemp(prefix="flowdesk-wheel-"))
    try:
        use_installed(wheel, scratch)
        pipx_install(wheel, scratch)
    finally:
        if keep:
            print(f"kept {scratch}")
        else:
            shutil.rmtree(scratch, ignore_errors=True)
    if failures:
        print(f"check_wheel: {len(failures)} check(s) failed: {'; '.join(failures)}")
        return 1
    print("check_wheel: every check passed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
