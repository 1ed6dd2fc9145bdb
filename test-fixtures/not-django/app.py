"""A WSGI hello world with no framework, for checking the buildpack leaves non-Django apps alone."""

from collections.abc import Callable, Iterable

StartResponse = Callable[[str, list[tuple[str, str]]], object]


def app(environ: dict[str, object], start_response: StartResponse) -> Iterable[bytes]:
    body = b"hello from a plain WSGI app\n"
    start_response(
        "200 OK",
        [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))],
    )
    return [body]
