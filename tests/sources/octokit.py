"""GitHub's REST description from the npm registry (``@octokit/openapi``),
installed once into a cache folder by the tests and the benchmark — or a
clear reason why not (npm absent, no network).

``github_spec() -> (path or None, reason)``. The version is pinned so that the
figures stay comparable; ``FLOWDESK_NPM_CACHE`` moves the cache.
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

OCTOKIT_OPENAPI = "@octokit/openapi@23.0.2"
_RELATIVE = Path("node_modules/@octokit/openapi/generated/api.github.com.json")


def _cache() -> Path:
    default = Path.home() / ".cache" / "flowdesk-tests" / "npm"
    return Path(os.environ.get("FLOWDESK_NPM_CACHE", default)) / "octokit-openapi-23.0.2"


def github_spec() -> tuple[Path | None, str]:
    folder = _cache()
    target = folder / _RELATIVE
    if target.is_file():
        return target, ""
    npm = shutil.which("npm")
    if npm is None:
        return None, f"npm is not installed: GitHub's REST description ({OCTOKIT_OPENAPI}) needs it"
    folder.mkdir(parents=True, exist_ok=True)
    try:
        done = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(folder),
                "--no-save",
                "--no-audit",
                "--no-fund",
                "--ignore-scripts",
                OCTOKIT_OPENAPI,
            ],
            capture_output=True,
            text=True,
            timeout=600,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        return None, f"npm install {OCTOKIT_OPENAPI} failed: {exc}"
    if done.returncode != 0 or not target.is_file():
        tail = (done.stderr or done.stdout).strip().splitlines()[-3:]
        return None, f"npm install {OCTOKIT_OPENAPI} failed: {' / '.join(tail)}"
    return target, ""
