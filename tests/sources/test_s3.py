"""s3:// inputs against a real S3 endpoint (moto's server on loopback): what a URL names, and date pruning.

Globs and prefixes are checked against the local expansion of the same tree (`expand_inputs` on a
folder or glob); pruning is checked against the folders' dates as the test itself computes them,
and by the list calls botocore sent.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from aiobs.errors import InputError, UsageError
from aiobs.sources import s3, s3_listing
from aiobs.sources.base import SkippedFile
from aiobs.sources.paths import expand_inputs
from aiobs.sources.s3_keys import KeyPattern, split_key
from aiobs.sources.s3_objects import S3Source
from conftest import S3Bucket

pytestmark = pytest.mark.s3

LINE = b'{"request_id":"r","event":"llm","ts":"2026-11-28T10:00:00Z"}\n'

#: A tree with log and non-log objects at several depths (mirrored locally for the glob reference).
TREE = [
    "top.jsonl",
    "notes.txt",
    "app/a.jsonl",
    "app/b.ndjson.gz",
    "app/README.md",
    "app/2026/11/27/part-0.jsonl.gz",
    "app/2026/11/28/part-0.jsonl.gz",
    "app/2026/11/28/part-1.jsonl.zst",
    "app/2026/11/28/extra.csv",
    "app/2026/12/01/x.log",
    "app/apple/c.jsonl",
    "app/deep/er/still/d.json",
    "other/app/e.jsonl",
]


@dataclass
class ListCalls:
    """(Prefix, Delimiter) of every ListObjectsV2 request the aiobs client sent, and how many objects and
    folders S3 sent back in all (what pruning saves: a flat listing returns every object)."""

    calls: list[tuple[str, str | None]]
    objects: int = 0
    folders: int = 0

    @property
    def prefixes(self) -> list[str]:
        return [prefix for prefix, _ in self.calls]

    def clear(self) -> None:
        self.calls.clear()
        self.objects = self.folders = 0


@pytest.fixture
def list_calls(monkeypatch: pytest.MonkeyPatch) -> Iterator[ListCalls]:
    recorded = ListCalls([])
    connect = s3.connect

    def record(params: dict[str, Any], **_: Any) -> None:
        recorded.calls.append((params.get("Prefix", ""), params.get("Delimiter")))

    def count(parsed: dict[str, Any], **_: Any) -> None:
        recorded.objects += len(parsed.get("Contents", []))
        recorded.folders += len(parsed.get("CommonPrefixes", []))

    def connect_and_watch(**kwargs: Any) -> Any:
        client = connect(**kwargs)
        client.meta.events.register("before-parameter-build.s3.ListObjectsV2", record)
        client.meta.events.register("after-call.s3.ListObjectsV2", count)
        return client

    monkeypatch.setattr(s3, "connect", connect_and_watch)
    yield recorded


def expand(bucket: S3Bucket, *urls: str, **window: datetime) -> list[str]:
    sources = expand_inputs(list(urls), endpoint_url=bucket.endpoint, **window)
    return [s.name for s in sources]


def keys(bucket: S3Bucket, names: list[str]) -> list[str]:
    return [n.removeprefix(bucket.url()) for n in names]


@pytest.fixture
def tree(s3_bucket: S3Bucket, tmp_path: Path) -> Path:
    local = tmp_path / "mirror"
    for key in TREE:
        (local / key).parent.mkdir(parents=True, exist_ok=True)
        (local / key).write_bytes(LINE)
    s3_bucket.seed(dict.fromkeys(TREE, LINE))
    return local


@pytest.mark.parametrize(
    "pattern",
    [
        "app/",
        "app/2026/",
        "app/**/*.jsonl.gz",
        "app/**",
        "app/*",
        "app/*/",
        "app/2026/*/2?/*",
        "app/[ab]*",
        "**/*.jsonl",
        "*/app/*.jsonl",
        "app/2026/11/**/part-[0-9].*",
    ],
)
def test_globs_and_prefixes_match_what_the_same_local_tree_gives(s3_bucket: S3Bucket, tree: Path, pattern: str) -> None:
    local = [Path(s.name).relative_to(tree).as_posix() for s in expand_inputs([f"{tree}/{pattern}"])]
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url(pattern))) == sorted(local)


def test_a_bare_bucket_is_every_log_object_in_it_and_names_the_others(s3_bucket: S3Bucket, tree: Path) -> None:
    others = sorted(k for k in TREE if k.endswith((".txt", ".md", ".csv")))
    expected = sorted(k for k in TREE if k not in others)
    for url in (f"s3://{s3_bucket.name}", s3_bucket.url()):
        sources = expand_inputs([url], endpoint_url=s3_bucket.endpoint)
        assert keys(s3_bucket, [s.name for s in sources if isinstance(s, S3Source)]) == expected
        assert keys(s3_bucket, [s.name for s in sources if isinstance(s, SkippedFile)]) == others  # never read


def test_a_key_names_one_object_whatever_its_suffix(s3_bucket: S3Bucket, tree: Path) -> None:
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url("notes.txt"))) == ["notes.txt"]
    [source] = expand_inputs([s3_bucket.url("app/a.jsonl")], endpoint_url=s3_bucket.endpoint)
    assert isinstance(source, S3Source)
    assert (source.name, source.bucket, source.key, source.size, source.path) == (
        s3_bucket.url("app/a.jsonl"),
        s3_bucket.name,
        "app/a.jsonl",
        len(LINE),
        None,
    )


def test_a_key_without_slash_that_is_no_object_is_a_prefix(s3_bucket: S3Bucket, tree: Path) -> None:
    """`s3://b/app` is the folder app/, not app/ plus apple/ (a plain prefix would take both)."""
    assert expand(s3_bucket, s3_bucket.url("app/2026")) == expand(s3_bucket, s3_bucket.url("app/2026/"))
    assert s3_bucket.url("app/apple/c.jsonl") not in expand(s3_bucket, s3_bucket.url("app/2026"))


def test_an_object_named_by_two_urls_is_read_once(s3_bucket: S3Bucket, tree: Path) -> None:
    names = expand(s3_bucket, s3_bucket.url("app/"), s3_bucket.url("app/a.jsonl"), s3_bucket.url("**/a.jsonl"))
    assert len(names) == len(set(names))
    assert names.count(s3_bucket.url("app/a.jsonl")) == 1


def test_folder_markers_are_not_objects(s3_bucket: S3Bucket) -> None:
    s3_bucket.put("logs/", b"")
    s3_bucket.put("logs/day/", b"")
    s3_bucket.put("logs/day/a.jsonl", LINE)
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url("logs/"))) == ["logs/day/a.jsonl"]
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url("logs/**"))) == ["logs/day/a.jsonl"]


def test_keys_with_spaces_and_unicode(s3_bucket: S3Bucket) -> None:
    for key in ("logs/with space/a.jsonl", "logs/ünïcode/b.jsonl", "logs/plus+and%25/c.jsonl"):
        s3_bucket.put(key, LINE)
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url("logs/"))) == sorted(
        ["logs/with space/a.jsonl", "logs/ünïcode/b.jsonl", "logs/plus+and%25/c.jsonl"]
    )


def test_listing_follows_every_page(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch, list_calls: ListCalls
) -> None:
    monkeypatch.setattr(s3_listing, "LIST_PAGE_SIZE", 7)
    expected = [f"many/{i:03d}.jsonl" for i in range(60)] + [f"many/sub/{i:02d}.jsonl" for i in range(10)]
    s3_bucket.seed(dict.fromkeys(expected, LINE))
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url("many/"))) == sorted(expected)
    assert list_calls.calls == [("many/", None)] * -(-70 // 7)  # 10 pages of 7 keys


def test_delimited_listing_follows_every_page_too(
    s3_bucket: S3Bucket, monkeypatch: pytest.MonkeyPatch, list_calls: ListCalls
) -> None:
    monkeypatch.setattr(s3_listing, "LIST_PAGE_SIZE", 4)
    s3_bucket.seed({f"logs/2026/11/{d:02d}/a.jsonl": LINE for d in range(1, 31)})
    since, until = datetime(2026, 11, 10, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)
    found = keys(s3_bucket, expand(s3_bucket, s3_bucket.url("logs/"), since=since, until=until))
    assert found == [f"logs/2026/11/{d:02d}/a.jsonl" for d in range(10, 29)]
    assert list_calls.prefixes.count("logs/2026/11/") == -(-30 // 4)  # 30 day folders, 4 a page


# -- pruning by --since / --until -------------------------------------------------------------------


def day_layouts(day: datetime) -> dict[str, str]:
    return {
        "slashes": f"{day:%Y/%m/%d}/",
        "dt": f"dt={day:%Y-%m-%d}/",
        "hive": f"year={day:%Y}/month={day.month}/day={day.day}/",
        "dashes": f"{day:%Y-%m-%d}/",
    }


@pytest.mark.parametrize("layout", ["slashes", "dt", "hive", "dashes"])
def test_a_one_day_window_lists_one_day_of_a_year_of_daily_folders(
    s3_bucket: S3Bucket, list_calls: ListCalls, layout: str
) -> None:
    first = datetime(2026, 1, 1, tzinfo=UTC)
    all_days = [first + timedelta(days=i) for i in range(365)]
    folders = {day: "app/" + day_layouts(day)[layout] for day in all_days}
    s3_bucket.seed({folder + "part-0.jsonl": LINE for folder in folders.values()})
    s3_bucket.put("app/latest.jsonl", LINE)  # not in a date folder: always read
    since, until = datetime(2026, 11, 28, tzinfo=UTC), datetime(2026, 11, 29, tzinfo=UTC)
    list_calls.clear()
    found = keys(s3_bucket, expand(s3_bucket, s3_bucket.url("app/"), since=since, until=until))
    # Reference: a day folder is kept when [day, day + 1 day) overlaps [since, until).
    kept = [folders[d] + "part-0.jsonl" for d in all_days if d < until and d + timedelta(days=1) > since]
    assert found == sorted([*kept, "app/latest.jsonl"])
    assert kept == [folders[since] + "part-0.jsonl"]
    listed = list_calls.prefixes
    assert len(listed) <= 4, listed  # one call per level
    assert not [p for p in listed if p != "app/" and not folders[since].startswith(p)]
    # S3 sent back the day's object and the undated one, not 365 objects; and the names of the folders
    # on the way: all 365 days when they are one level (dt=...), else one year, 12 months, 30 days.
    assert list_calls.objects == 2
    assert list_calls.folders == (365 if layout in {"dt", "dashes"} else 1 + 12 + 30)


@pytest.mark.parametrize(
    ("since", "until"),
    [
        (datetime(2026, 11, 28, 6, tzinfo=UTC), datetime(2026, 11, 28, 8, 30, tzinfo=UTC)),
        (datetime(2026, 11, 27, 23, 59, tzinfo=UTC), datetime(2026, 11, 28, 0, 1, tzinfo=UTC)),
        (datetime(2026, 11, 29, 22, tzinfo=UTC), None),
        (None, datetime(2026, 11, 27, 1, tzinfo=UTC)),
        (datetime(2026, 12, 5, tzinfo=UTC), datetime(2026, 12, 6, tzinfo=UTC)),
    ],
)
@pytest.mark.parametrize("layout", ["hourly", "dt-hour"])
def test_hour_folders_inside_day_folders(
    s3_bucket: S3Bucket, list_calls: ListCalls, since: datetime | None, until: datetime | None, layout: str
) -> None:
    start = datetime(2026, 11, 27, tzinfo=UTC)
    hours = [start + timedelta(hours=h) for h in range(72)]
    keys_by_hour = {
        hour: f"bedrock/{hour:%Y/%m/%d/%H}/log.json.gz"
        if layout == "hourly"
        else f"dt={hour:%Y-%m-%d}/hour={hour:%H}/x.jsonl"
        for hour in hours
    }
    s3_bucket.seed(dict.fromkeys(keys_by_hour.values(), LINE))
    list_calls.clear()
    window = {k: v for k, v in {"since": since, "until": until}.items() if v is not None}
    url = s3_bucket.url("bedrock/" if layout == "hourly" else "")
    try:
        found = keys(s3_bucket, expand(s3_bucket, url, **window))
    except InputError as exc:
        found = []
        assert "outside the --since/--until window were skipped" in str(exc)
    expected = [
        key
        for hour, key in keys_by_hour.items()
        if (until is None or hour < until) and (since is None or hour + timedelta(hours=1) > since)
    ]
    assert found == sorted(expected)
    # Pruned hours and days are never listed: S3 returns the kept objects and the folders on their way.
    kept_folders = {key.rsplit("/", 1)[0] + "/" for key in expected}
    for prefix, _ in list_calls.calls:
        if prefix.count("/") >= (5 if layout == "hourly" else 2):
            assert prefix in kept_folders, prefix
    assert list_calls.objects == len(expected)


def test_without_a_window_the_listing_is_flat(s3_bucket: S3Bucket, list_calls: ListCalls) -> None:
    s3_bucket.seed({f"logs/2026/11/{d:02d}/a.jsonl": LINE for d in range(1, 31)})
    assert len(expand(s3_bucket, s3_bucket.url("logs"))) == 30
    assert list_calls.calls == [("logs", None), ("logs/", None)]  # the exact-object check, then one flat list


def test_a_wide_level_of_folders_that_are_not_dates_is_listed_flat(s3_bucket: S3Bucket, list_calls: ListCalls) -> None:
    users = range(s3_listing.WIDE_LEVEL + 5)
    s3_bucket.seed({f"users/u{u:03d}/2026/11/{d}/a.jsonl": LINE for u in users for d in (27, 28)})
    since = datetime(2026, 11, 28, tzinfo=UTC)
    found = expand(s3_bucket, s3_bucket.url("users/"), since=since)
    assert len(found) == s3_listing.WIDE_LEVEL + 5
    assert all("/2026/11/28/" in name for name in found)  # the flat listing still filters by date
    assert list_calls.calls == [("users/", "/"), ("users/", None)]


def test_a_literal_date_prefix_outside_the_window_is_not_listed(s3_bucket: S3Bucket, list_calls: ListCalls) -> None:
    s3_bucket.put("logs/2026/10/01/a.jsonl", LINE)
    with pytest.raises(InputError, match=r"no objects match .*1 date folder\(s\) outside the --since/--until window"):
        expand(s3_bucket, s3_bucket.url("logs/2026/10/**/*.jsonl"), since=datetime(2026, 11, 1, tzinfo=UTC))
    assert list_calls.calls == []


def test_the_glob_narrows_the_listing_prefix(s3_bucket: S3Bucket, list_calls: ListCalls) -> None:
    s3_bucket.put("logs/2026-11-28.jsonl", LINE)
    s3_bucket.put("logs/2026-10-28.jsonl", LINE)
    assert keys(s3_bucket, expand(s3_bucket, s3_bucket.url("logs/2026-11-*.jsonl"))) == ["logs/2026-11-28.jsonl"]
    assert list_calls.calls == [("logs/2026-11-", None)]


# -- what a URL is ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("key", "literal", "segments", "folders_only"),
    [
        ("", "", (), False),
        ("logs/", "logs/", (), False),
        ("logs/2026/", "logs/2026/", (), False),
        ("logs/**/*.gz", "logs/", ("**", "*.gz"), False),
        ("*/x", "", ("*", "x"), False),
        ("logs/2026-*/", "logs/", ("2026-*",), True),
        ("a/b/c[0-9].jsonl", "a/b/", ("c[0-9].jsonl",), False),
    ],
)
def test_split_key(key: str, literal: str, segments: tuple[str, ...], folders_only: bool) -> None:
    assert split_key(key) == (literal, KeyPattern(segments, folders_only=folders_only))


def test_double_star_matches_zero_or_more_segments() -> None:
    pattern = KeyPattern(("**", "x", "**", "*.gz"))
    states = pattern.start()
    for segment in ("x", "a.gz"):
        states = pattern.step(states, segment)
    assert pattern.complete(states)
    states = pattern.start()
    for segment in ("a", "b", "x", "c", "d", "e.gz"):
        states = pattern.step(states, segment)
    assert pattern.complete(states)
    assert not pattern.complete(pattern.step(pattern.start(), "e.gz"))


@pytest.mark.parametrize("url", ["s3://", "s3:///key", "s3://buck*et/key"])
def test_malformed_urls_are_usage_errors(url: str) -> None:
    with pytest.raises(UsageError, match="cannot read s3://"):
        expand_inputs([url])


def test_an_endpoint_that_is_not_a_url_is_a_usage_error() -> None:
    with pytest.raises(UsageError, match="--endpoint-url must be an http:// or https:// URL"):
        expand_inputs(["s3://bucket/x/"], endpoint_url="localhost:9000")


def test_local_inputs_do_not_import_botocore(tmp_path: Path) -> None:
    import subprocess
    import sys

    (tmp_path / "a.jsonl").write_bytes(LINE)
    code = (
        "import sys; from aiobs.sources.paths import expand_inputs; "
        f"expand_inputs([{str(tmp_path / 'a.jsonl')!r}]); print('botocore' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "False"
