"""``flowdesk credentials list|set|delete|test|login``: secrets in the OS keyring
(``login``: signing in with OAuth2, ``engine.cli_login``).

``set NAME`` reads the secret from standard input when it is not a terminal
(one line; the trailing newline is dropped), else from a no-echo prompt asked
twice — never from an argument. ``list`` shows names, kinds and where a secret
is (keyring, environment, missing; for a sign-in: signed in or not) — never a
secret. ``test NAME --url URL``
sends one GET with the credential applied (kind from ``--flow``, else bearer).
Exit codes: 0 done, 1 failed (no keyring, nothing to delete, request failed or
not 2xx), 2 usage error.
May import: every engine module.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import json
import sys
from typing import Any

from .cli_common import default_registry, load_checked
from .credentials import CredentialResolver, EnvSecretStore, env_var_name, tokens_key
from .errors import FlowdeskError
from .keyring_store import KeyringSecretStore, KeyringUnavailableError, default_secret_store
from .model.workflow import BearerCredential, CredentialRef

EXIT_OK, EXIT_FAILED, EXIT_INVALID = 0, 1, 2


def add_parser(subparsers: Any) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = subparsers.add_parser(
        "credentials", help="store, list, delete and test secrets in the OS keyring"
    )
    sub = parser.add_subparsers(dest="credentials_command", metavar="ACTION")
    sub.required = True
    listing = sub.add_parser("list", help="credentials stored here and those a workflow uses")
    listing.add_argument("--flow", metavar="FLOW", help="also list this workflow's credentials")
    listing.add_argument("--json", action="store_true")
    setting = sub.add_parser(
        "set", help="store a secret (read from standard input or a no-echo prompt)"
    )
    setting.add_argument("name", metavar="NAME")
    deleting = sub.add_parser("delete", help="delete a stored secret")
    deleting.add_argument("name", metavar="NAME")
    testing = sub.add_parser("test", help="send one GET request with the credential applied")
    testing.add_argument("name", metavar="NAME")
    testing.add_argument("--url", required=True, metavar="URL")
    testing.add_argument("--flow", metavar="FLOW", help="workflow declaring the credential")
    from .cli_login import add_login_parser

    add_login_parser(sub)
    return parser


def run(args: argparse.Namespace) -> int:
    action = args.credentials_command
    try:
        if action == "list":
            return _list(args)
        if action == "set":
            return _set(args.name)
        if action == "delete":
            return _delete(args.name)
        if action == "login":
            from .cli_login import run_login

            return run_login(args)
        return _test(args)
    except FlowdeskError as error:
        sys.stderr.write(f"flowdesk credentials {action}: {error.message}\n")
        if error.details.get("hint"):
            sys.stderr.write(f"{error.details['hint']}\n")
        return EXIT_FAILED


def _references(flow: str | None) -> dict[str, CredentialRef] | None:
    if flow is None:
        return {}
    workflow = load_checked(flow, default_registry(), sys.stderr)
    return None if workflow is None else dict(workflow.credentials)


def _list(args: argparse.Namespace) -> int:
    refs = _references(args.flow)
    if refs is None:
        return EXIT_INVALID
    store = KeyringSecretStore()
    problem = None
    try:
        stored = set(store.list_names())
    except KeyringUnavailableError as error:
        stored, problem = set(), error.message
    env = EnvSecretStore()
    rows = []
    for name in sorted(set(refs) | stored):
        if env.get_secret(name):
            where = "environment"
        elif name in stored or (name in refs and problem is None and store.has_secret(name)):
            where = "keyring"
        else:
            where = "missing"
        ref = refs.get(name)
        if ref is not None and ref.type == "oauth2_authorization_code" and problem is None:
            where = "signed in" if store.get_secret(tokens_key(name)) else "not signed in"
        rows.append(
            {
                "name": name,
                "kind": ref.type if ref is not None else None,
                "in_workflow": ref is not None,
                "secret": where,
            }
        )
    if args.json:
        sys.stdout.write(json.dumps({"credentials": rows, "keyring_error": problem}) + "\n")
    else:
        if problem:
            sys.stderr.write(f"Warning: {problem} Stored secrets cannot be listed.\n")
        if not rows:
            sys.stdout.write("No credentials stored on this computer.\n")
        else:
            sys.stdout.write(f"{'NAME':<24}  {'KIND':<26}  {'SECRET':<11}  WORKFLOW\n")
            for row in rows:
                sys.stdout.write(
                    f"{row['name']:<24}  {row['kind'] or '—':<26}  {row['secret']:<11}  "
                    f"{'yes' if row['in_workflow'] else 'no'}\n"
                )
    return EXIT_OK


def _read_secret(name: str) -> str | None:
    if not sys.stdin.isatty():
        text = sys.stdin.readline()
        return text.rstrip("\r\n")
    first = getpass.getpass(f"Secret for {name!r}: ")
    again = getpass.getpass("Again: ")
    if first != again:
        sys.stderr.write("flowdesk credentials set: the two entries differ; nothing stored\n")
        return None
    return first


def _set(name: str) -> int:
    store = KeyringSecretStore()
    store.backend(name)  # fail before asking for a secret that could not be stored
    secret = _read_secret(name)
    if secret is None:
        return EXIT_FAILED
    if not secret:
        sys.stderr.write("flowdesk credentials set: the secret is empty; nothing stored\n")
        return EXIT_FAILED
    store.set_secret(name, secret)
    sys.stdout.write(f"Stored the secret of {name!r} in the system keyring.\n")
    if EnvSecretStore().get_secret(name):
        sys.stdout.write(f"Note: {env_var_name(name)} is set and wins over the keyring.\n")
    return EXIT_OK


def _delete(name: str) -> int:
    if KeyringSecretStore().delete_secret(name):
        sys.stdout.write(f"Deleted the secret of {name!r}.\n")
        return EXIT_OK
    sys.stderr.write(f"flowdesk credentials delete: no secret stored for {name!r}\n")
    return EXIT_FAILED


def _test(args: argparse.Namespace) -> int:
    from .oauth2 import probe

    refs = _references(args.flow)
    if refs is None:
        return EXIT_INVALID
    if args.name not in refs:
        if args.flow is not None:
            sys.stderr.write(f"{args.flow}: no credential {args.name!r}\n")
            return EXIT_INVALID
        refs[args.name] = BearerCredential(type="bearer")
    resolver = CredentialResolver(refs, default_secret_store())
    status = asyncio.run(probe(resolver, args.name, args.url))
    shown = args.url.split("?", 1)[0]
    ok = 200 <= status <= 299
    sys.stdout.write(f"GET {shown} with {args.name!r}: HTTP {status}{'' if ok else ' (failed)'}\n")
    return EXIT_OK if ok else EXIT_FAILED
