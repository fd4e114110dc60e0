"""``flowdesk credentials login NAME [--flow FILE] [--no-browser] [--timeout S]``.

Signs in an ``oauth2_authorization_code`` credential (``engine.oauth2_login``)
and keeps its tokens in the system keyring. The credential comes from
``--flow``, else from the one ``*.flow.json`` in the current folder that
declares it. The browser opens on the authorization page; ``--no-browser``
prints the URL instead (SSH sessions, scripts, tests) — standard output,
flushed, one line starting with ``https://`` or ``http://``. The client secret
(optional) is the credential's secret (``flowdesk credentials set NAME`` or
``FLOWDESK_SECRET_<NAME>``). Exit codes: 0 signed in, 1 failed, 2 usage.
May import: every engine module.
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
from pathlib import Path
from typing import Any

from .cli_common import default_registry, load_checked
from .credentials import CredentialResolver, tokens_key
from .keyring_store import KeyringSecretStore, default_secret_store
from .model.workflow import OAuth2AuthorizationCode
from .oauth2_login import LOGIN_TIMEOUT_S, login

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def add_login_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "login", help="sign in an OAuth2 (authorization code) credential in the browser"
    )
    parser.add_argument("name", metavar="NAME")
    parser.add_argument("--flow", metavar="FLOW", help="workflow declaring the credential")
    parser.add_argument(
        "--no-browser", action="store_true", help="print the sign-in URL instead of opening it"
    )
    parser.add_argument(
        "--timeout",
        type=float,
        default=LOGIN_TIMEOUT_S,
        metavar="S",
        help=f"give up after S seconds (default {LOGIN_TIMEOUT_S:g})",
    )


def _find_reference(name: str, flow: str | None) -> OAuth2AuthorizationCode | None:
    if flow is not None:
        workflow = load_checked(flow, default_registry(), sys.stderr)
        if workflow is None:
            return None
        ref = workflow.credentials.get(name)
        if ref is None:
            sys.stderr.write(f"{flow}: no credential {name!r}\n")
            return None
        if not isinstance(ref, OAuth2AuthorizationCode):
            sys.stderr.write(
                f"{flow}: credential {name!r} is {ref.type}, not oauth2_authorization_code "
                "(only those sign in)\n"
            )
            return None
        return ref
    from .validate import check_file

    found = []
    for path in sorted(Path.cwd().glob("*.flow.json")):
        workflow, _issues = check_file(str(path), default_registry())
        ref = workflow.credentials.get(name) if workflow is not None else None
        if isinstance(ref, OAuth2AuthorizationCode):
            found.append((path, ref))
    if len(found) == 1:
        return found[0][1]
    where = "no workflow here" if not found else "several workflows here"
    sys.stderr.write(
        f"flowdesk credentials login: {where} declare{'s' if not found else ''} the "
        f"oauth2_authorization_code credential {name!r}: give --flow FILE\n"
    )
    return None


def run_login(args: argparse.Namespace) -> int:
    ref = _find_reference(args.name, args.flow)
    if ref is None:
        return EXIT_INVALID
    keyring = KeyringSecretStore()
    keyring.backend(args.name)  # fail before the browser opens when nothing could be kept
    resolver = CredentialResolver({args.name: ref}, default_secret_store())

    def announce(url: str) -> None:
        if args.no_browser:
            sys.stdout.write(f"Open this address in a browser to sign in {args.name!r}:\n{url}\n")
        else:
            import webbrowser

            opened = webbrowser.open(url)
            sys.stdout.write(
                "Your browser opened the sign-in page"
                if opened
                else "Could not open a browser; open this address to sign in"
            )
            sys.stdout.write(f" (waiting up to {args.timeout:g} s):\n{url}\n")
        sys.stdout.flush()

    async def go() -> Any:
        secret = await resolver.optional_secret_async(args.name)
        return await login(args.name, ref, secret, announce, timeout_s=args.timeout)

    record = asyncio.run(go())
    keyring.set_secret(tokens_key(args.name), record.to_json())
    left = ""
    if record.expires_at is not None:
        left = (
            f"; the access token is good for {max(0, record.expires_at - time.time()) / 60:.0f} min"
        )
    refresh = "with" if record.refresh_token else "without"
    sys.stdout.write(
        f"Signed in {args.name!r} ({refresh} a refresh token{left}); "
        "the tokens are in the system keyring.\n"
    )
    return EXIT_OK
