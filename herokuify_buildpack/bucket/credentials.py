"""Which credentials the S3 clients sign with, and where they came from.

The config vars AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY, with AWS_SESSION_TOKEN for
temporary ones, come as a pair (config.py checks). Without them, botocore's default chain finds
credentials as boto3 and django-storages do on a dyno: in the environment, the shared credentials
and config files, web identity, a container's role (ECS) or the instance's (EC2 metadata). The
chain runs once per process, and its session makes every client of the process, so that botocore
refreshes temporary credentials before they expire.

botocore reads the environment itself, never a mapping: a build's process, whose platform hands
it the config vars in a folder, sets them in its environment first (``use_config_vars``), so that
the chain sees what it would see on a dyno.
"""

from __future__ import annotations

import functools
import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from herokuify_buildpack import config, errors
from herokuify_buildpack.config import S3Config
from herokuify_buildpack.errors import HerokuifyError

_KEYS = ("access_key", "secret_key", "session_token")


@dataclass(frozen=True)
class Source:
    said: str  # where the credentials came from, for one line of output
    values: tuple[str, ...]  # their values, to mask


def use_config_vars(env: Mapping[str, str]) -> None:
    """Sets the config vars in this process's environment, where the chain reads its own
    (AWS_PROFILE, AWS_ROLE_ARN, AWS_CONTAINER_CREDENTIALS_FULL_URI...), as on a dyno."""
    os.environ.update(env)


def source(s3: S3Config, env: Mapping[str, str]) -> Source:
    """Where the credentials for ``s3`` come from (``env``: the config vars it was read from).
    Raises the catalogued error if the chain finds none, or fails."""
    if s3.access_key is not None:
        access, secret, token = (config.name_set(env, key) for key in _KEYS)
        said = f"config vars {access} and {secret}" + (f" with {token}" if token else "")
        values = (s3.access_key, s3.secret_key, s3.session_token)
        return Source(said, tuple(value for value in values if value))
    found = chain_session().get_credentials()
    return Source(f"boto3's default chain: {found.method}", _values(found))


def chain_values(env: Mapping[str, str]) -> tuple[str, ...]:
    """What the chain finds where the config vars ``env`` name no credentials: for a build to
    mask before anything is printed. Nothing where they do, or where botocore is missing or the
    chain fails: the build says which next."""
    if any(config.is_set(env, key) for key in _KEYS):
        return ()
    use_config_vars(env)
    if importlib.util.find_spec("botocore") is None:
        return ()
    session, problem = _chain()
    return () if problem else _values(session.get_credentials())


def chain_session() -> Any:
    """The process's botocore session, holding what the chain found: clients made from it sign
    with those credentials, refreshed as they near their expiry."""
    session, problem = _chain()
    if problem:
        raise HerokuifyError(problem)
    return session


@functools.cache
def _chain() -> tuple[Any, str]:
    """The session, and what went wrong ("" for nothing): each caller raises it anew."""
    import botocore.session

    session = botocore.session.get_session()
    try:
        found = session.get_credentials()
    # Whatever the providers raise, fed by endpoints and files outside the app: botocore's
    # errors, but also a ValueError for a container URL on a host it refuses, or a KeyError for
    # an answer that lacks a field. Each is the chain failing, which the user can act on.
    except Exception as exc:
        failure = f"{type(exc).__name__}: {exc}".rstrip(".")
        return session, str(errors.CREDENTIALS_FAILED(failure=failure))
    return session, "" if found else str(errors.NO_CREDENTIALS())


def _values(found: Any) -> tuple[str, ...]:
    frozen = found.get_frozen_credentials()
    return tuple(value for value in (frozen.access_key, frozen.secret_key, frozen.token) if value)
