"""DeleteObjects answers 200 when it refuses some keys; the refusal must not pass unseen."""

from __future__ import annotations

from typing import Any

import pytest

from herokuify_buildpack.bucket.deletion import delete_keys
from herokuify_buildpack.errors import HerokuifyError


class _Answering:
    """A client whose DeleteObjects gives one fixed answer, as S3 shapes it."""

    def __init__(self, answer: dict[str, Any]) -> None:
        self.answer = answer
        self.asked: list[dict[str, Any]] = []

    def delete_objects(self, **request: Any) -> dict[str, Any]:
        self.asked.append(request)
        return self.answer


def test_a_delete_that_s3_accepted_whole_passes():
    client = _Answering({"ResponseMetadata": {"HTTPStatusCode": 200}})
    delete_keys(client, "bkt", ["a", "b"])
    assert client.asked[0]["Delete"]["Objects"] == [{"Key": "a"}, {"Key": "b"}]


def test_keys_refused_inside_a_200_answer_fail_in_one_line():
    refused = [{"Key": "static/a.css", "Code": "AccessDenied", "Message": "Access Denied"}]
    client = _Answering({"Errors": refused})
    with pytest.raises(HerokuifyError) as raised:
        delete_keys(client, "bkt", ["static/a.css", "static/b.css"])
    said = str(raised.value)
    assert "refused to delete 1 object(s), static/a.css among them (AccessDenied)" in said
    assert "\n" not in said
