"""The bucket policy statement each app's `doctor --apply` owns, by its Sid."""

from __future__ import annotations

from herokuify_buildpack.bucket.rules import RULE_ID, statement_id


def test_the_bucket_root_s_app_keeps_the_plain_sid():
    assert statement_id("static") == RULE_ID


def test_prefixes_that_read_alike_get_sids_of_their_own():
    """--apply replaces only the statement with its own Sid: apps must never share one."""
    prefixes = ["my-app", "myapp", "MyApp", "my.app", "my/app", "team/my-app"]
    sids = [statement_id(f"{prefix}/static") for prefix in prefixes]
    assert len(set(sids)) == len(prefixes), sids
    assert all(sid.isalnum() and sid.startswith(RULE_ID) for sid in sids)
    assert statement_id("my-app/static") == statement_id("my-app/static")
