"""Secrets masked in every form they are printed in, in text and in a stream cut anywhere."""

import json
from urllib.parse import quote, quote_plus

import pytest

from herokuify_buildpack.redaction import MASK, Redactor, variants

PEM_LINES = [
    "MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQC7VJTUt9Us8cKj",
    "MZR0dGyBsKyRvOmxVxbyP9aWpUxQ0fHbZtkGmXoHV6XjSr8uYvLqzP0gmKd2BjVk",
    "r4d3Ut9Us8cKjMZR0dGyBsKyRvOmxVxbyP9aWpUxQ0fHbZtkGmXoHV6XjSr8uYvL",
]
PEM = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(PEM_LINES) + "\n-----END PRIVATE KEY-----\n"
QUOTED = 'it\'s a "quoted" back\\slash\tvalue'
DATABASE_URL = "postgres://user:p%40ss-w0rd%2Fx@db.example.com:5432/app"


def redactor(*values: str) -> Redactor:
    made = Redactor()
    made.add(values)
    return made


def streamed(masking: Redactor, pieces: list[bytes]) -> bytes:
    stream = masking.stream()
    return b"".join(stream.feed(piece) for piece in pieces) + stream.close()


@pytest.mark.parametrize(
    "printed",
    [
        QUOTED,
        repr(QUOTED)[1:-1],
        json.dumps(QUOTED)[1:-1],
        quote(QUOTED, safe=""),
        quote_plus(QUOTED),
        repr(QUOTED.encode())[2:-1],
    ],
)
def test_escaped_and_encoded_forms_are_masked(printed):
    assert redactor(QUOTED)(f"<{printed}>") == f"<{MASK}>"


def test_url_encoded_value_is_masked_decoded_and_its_password_both_ways():
    masking = redactor(DATABASE_URL, "caf%C3%A9-latte-token")
    assert masking("password p%40ss-w0rd%2Fx") == f"password {MASK}"
    assert masking("password p@ss-w0rd/x") == f"password {MASK}"
    assert masking("token café-latte-token") == f"token {MASK}"
    assert masking(f"url {DATABASE_URL}") == f"url {MASK}"
    assert "user" in masking(f"url {DATABASE_URL}".replace("p%40ss-w0rd%2Fx", "other"))


def test_a_multi_line_value_is_masked_whole_and_line_by_line():
    masking = redactor(PEM)
    assert masking(f"key: {PEM}end") == f"key: {MASK}end"
    prefixed = "".join(f"    | {line}\n" for line in PEM.splitlines())
    assert masking(prefixed) == "".join(f"    | {MASK}\n" for _ in PEM.splitlines())
    assert masking(f"repr: {PEM!r}") == f"repr: '{MASK}'"


def test_short_values_and_short_lines_are_not_secrets():
    assert variants("12345") == set()
    assert b"ab" not in variants("ab\nlong-enough-line")
    masking = redactor("ab\nlong-enough-line", "yes")
    assert masking("ab yes long-enough-line") == f"ab yes {MASK}"


def test_a_value_that_is_not_utf8_is_masked_as_its_bytes():
    value = b"secret-\xff\xfe-bytes".decode("utf-8", "surrogateescape")
    assert redactor(value).mask(b"got secret-\xff\xfe-bytes!") == b"got " + MASK.encode() + b"!"


def test_overlapping_secrets_are_masked_as_one():
    masking = redactor("abcdef12", "ef12ghij")
    assert masking("xx abcdef12ghij yy") == f"xx {MASK} yy"


OUTPUT = (
    f"settings loaded {PEM} with {QUOTED!r} and p@ss-w0rd/x;\n"
    + "".join(f"  > {line}\n" for line in PEM_LINES)
    + "abcdef12ghij and a near miss: p@ss-w0rd/y abcdef1\n"
).encode()
SECRETS = (PEM, QUOTED, DATABASE_URL, "abcdef12", "ef12ghij")


def test_a_stream_cut_at_every_byte_is_masked_as_the_whole():
    masking = redactor(*SECRETS)
    whole = masking.mask(OUTPUT)
    assert b"p@ss-w0rd/y abcdef1\n" in whole  # near misses are kept, in full
    planted = [*PEM_LINES, QUOTED, repr(QUOTED), "p@ss-w0rd/x", "abcdef12ghij"]
    for form in planted:
        assert form.encode() not in whole, form  # what the streams are compared with is masked
    for cut in range(len(OUTPUT) + 1):
        assert streamed(masking, [OUTPUT[:cut], OUTPUT[cut:]]) == whole, cut


def test_a_stream_one_byte_at_a_time_is_masked_as_the_whole():
    masking = redactor(*SECRETS)
    pieces = [OUTPUT[i : i + 1] for i in range(len(OUTPUT))]
    assert streamed(masking, pieces) == masking.mask(OUTPUT)


def test_a_stream_never_writes_a_secret_s_start_before_it_knows():
    masking = redactor("hunter2-secret")
    stream = masking.stream()
    assert stream.feed(b"password: hunter2-") == b"password: "
    assert stream.feed(b"secret\n") == MASK.encode() + b"\n"
    assert stream.feed(b"hunter") == b""
    assert stream.close() == b"hunter"  # the end of the stream: no secret after all


def test_a_mask_that_spans_chunks_is_written_once():
    masking = redactor("abcdef12", "ef12ghij")
    assert streamed(masking, [b"abcdef12g", b"hij."]) == MASK.encode() + b"."


def test_the_strings_inside_a_json_value_are_masked_as_an_app_prints_them():
    """A service account's JSON: the app prints its private key once parsed, with real
    newlines, in no form of the config var's own text."""
    key = (
        "-----BEGIN PRIVATE KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END PRIVATE KEY-----\n"
    )
    credentials = json.dumps({"type": "service_account", "private_key": key, "ids": ["zq81xk3"]})
    masking = redactor(credentials)
    printed = f"key:\n{key}id zq81xk3\n  MIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n".encode()
    masked = masking.mask(printed)
    assert b"MIIEvQIBADANBgkqhkiG9w0BAQEFAASC" not in masked
    assert b"zq81xk3" not in masked
    assert masked.startswith(b"key:\n")
