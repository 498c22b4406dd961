"""Regenerate the committed sample_logs/ folder, deterministically.

    .venv/bin/python bench/make_sample_logs.py

Writes, with `aiobs.sample.write_sample` and fixed seeds:

* sample_logs/chatbot.jsonl            plain JSONL, chatbot app only, with planted malformed lines
* sample_logs/rag/2026-11-28.jsonl.gz  RAG app, day 1, gzip
* sample_logs/rag/2026-11-29.jsonl.zst RAG app, day 2, zstandard
* sample_logs/README.md                what the files are (with the counts of this run)

Running it again gives byte-identical files. It fails if the folder would not stay under 2 MB.
"""

from __future__ import annotations

import gzip
import sys
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import orjson
import zstandard

ROOT = Path(__file__).resolve().parent.parent
try:
    from aiobs.sample import SampleStats, write_sample
except ImportError:  # running from a checkout without `pip install -e .`
    sys.path.insert(0, str(ROOT / "src"))
    from aiobs.sample import SampleStats, write_sample

OUT = ROOT / "sample_logs"
MAX_TOTAL_BYTES = 2_000_000


@dataclass(frozen=True)
class SampleFile:
    path: str
    app: str
    seed: int
    start: datetime
    requests: int
    requests_per_second: float
    malformed_every: int | None  # None: no malformed lines
    about: str


FILES = (
    SampleFile(
        "chatbot.jsonl",
        "chatbot",
        # A seed whose 400 requests hold every planted answer kind at least once (invalid JSON, an empty
        # answer, a loop, personal data in an answer are rare): tests/test_sample.py checks that they do.
        seed=9,
        start=datetime(2026, 11, 28, tzinfo=UTC),
        requests=400,
        requests_per_second=0.01,
        malformed_every=120,
        about="The chatbot (`/chat`, `/chat/stream`), plain JSONL, with a few malformed lines of every kind.",
    ),
    SampleFile(
        "rag/2026-11-28.jsonl.gz",
        "rag",
        seed=2,
        start=datetime(2026, 11, 28, tzinfo=UTC),
        requests=900,
        requests_per_second=0.015,
        malformed_every=None,
        about="The RAG pipeline (`/rag/answer`, `/rag/search`), day 1, gzip.",
    ),
    SampleFile(
        "rag/2026-11-29.jsonl.zst",
        "rag",
        seed=3,
        start=datetime(2026, 11, 29, tzinfo=UTC),
        requests=1300,
        requests_per_second=0.02,
        malformed_every=None,
        about="The RAG pipeline, day 2, zstandard.",
    ),
)


def make(spec: SampleFile) -> SampleStats:
    path = OUT / spec.path
    path.parent.mkdir(parents=True, exist_ok=True)
    return write_sample(
        path,
        seed=spec.seed,
        start=spec.start,
        requests=spec.requests,
        malformed=spec.malformed_every is not None,
        malformed_every=spec.malformed_every or 5000,
        apps=(spec.app,),
        requests_per_second=spec.requests_per_second,
    )


def readme(rows: list[tuple[SampleFile, SampleStats]]) -> str:
    table = "\n".join(
        f"| `{spec.path}` | {stats.requests:,} | {stats.events:,} | {stats.malformed} "
        f"| {stats.bytes:,} | {stats.file_bytes:,} | {spec.about} |"
        for spec, stats in rows
    )
    total_requests = sum(stats.requests for _, stats in rows)
    total_bytes = sum(stats.file_bytes for _, stats in rows)
    return f"""# Sample logs

Synthetic logs in the [aiobs native format](../docs/schema.md#the-aiobs-native-log-format), small enough to commit
({total_bytes:,} bytes on disk, {total_requests:,} requests). Use them to try the CLI:

```
aiobs summarize sample_logs/chatbot.jsonl
aiobs summarize sample_logs/rag/
```

| file | requests | events | malformed lines | bytes (uncompressed) | bytes on disk | what |
|---|---|---|---|---|---|---|
{table}

What is in them (all of it synthetic, made by `aiobs.sample`):

- A request has a `gateway` event (route, user, HTTP status, end-to-end `latency_ms`) whose
  children (`llm`, `tool`, `embedding`, `retrieval`, `rerank`) point at it with `parent_id` and run
  inside its time window. About 2 % of requests lost their gateway event, so their latency must
  come from the events' time envelope.
- Chatbot: gateway -> llm, and on ~15 % of requests llm (`finish_reason` `tool_calls`) -> tool ->
  llm. `/chat/stream` calls are streamed and log `ttft_ms`. `/extract` (~10 % of chatbot
  requests) is one JSON-mode llm call.
- RAG: gateway -> embedding (`text-embedding-3-small`) -> retrieval -> rerank (`rerank-v3.5`,
  cohere, with the passages it kept in `documents`) -> llm.
- Models: gpt-4o, gpt-4o-mini, gpt-4.1, o3-mini (with `reasoning_tokens`), claude-sonnet-4-5,
  claude-3-5-haiku-latest, gemini-2.5-flash, mistral-large-latest, and rarely a self-hosted
  `llama-3.3-70b-instruct-local` that has no price. Some calls log `cached_tokens`; ~30 % log an
  application-computed `cost_usd` that is close to, but not exactly, the list-price cost.
- Failures: ~2 % of requests retry after a rate-limited first attempt (`attempt` 1 fails with
  `error_type` `rate_limit`, `attempt` 2 succeeds); ~1.7 % end in error (gateway 500/503 after an
  LLM `server_error`/`timeout` or a failed retrieval, or 429 after two rate-limited attempts).
- Latencies are lognormal with a heavy tail: ~1 % of requests hit a stalled provider or vector
  store and take ~10x longer.
- Lines are in start-time order, so concurrent requests interleave.

What quality checks can find in them (rates are approximate: each is a probability in the seeded
generator, so a small file holds a few of each):

- Every llm event logs its `input`, `output` and `max_tokens` (by route: `/chat` 1,024,
  `/chat/stream` 4,096, `/extract` 512, `/rag/answer` 1,024, `/rag/search` 300; four times that
  for o3-mini, whose reasoning tokens count against it). An answer that hits the limit (~2 %) has
  `finish_reason` `length`, `output_tokens` equal to `max_tokens`, and stops mid-word; other
  answers end on a whole sentence or a cited link.
- Refusals, ~2 % of answers: "I'm sorry, but I can't help with that.", "As an AI language model,
  I cannot ...", "I cannot help with ...", and in French, German, Spanish, Japanese and Chinese.
  Empty answers (`output` "", one or two output tokens) ~0.3 %; answers looping on a phrase ~0.5 %.
- `/extract` calls log `response_format`: `{{"type": "json_object"}}`, `"json_object"` or
  `{{"type": "json_schema", ...}}`, and answer with a JSON object. ~4 % do not parse: cut off at the
  token limit, wrapped in prose ("Here is the extracted data: ..."), or in a Markdown ```json fence.
- RAG: `documents` holds the top 8 (`/rag/answer`) or 5 (`/rag/search`) passages of a small
  built-in knowledge base (product docs, policies, how-tos; many link to
  `https://docs.example.com/...`). Answers are built from those passages' sentences and sometimes
  cite their links; ~3 % ignore them (generic text, low word overlap) and ~1 % cite a link that is
  in no passage.
- Personal data, realistic in shape and obviously fake: ~2 % of prompts carry an email address
  (example.com/.org/.net) or a phone number (fictional ranges such as 555-01xx), ~0.5 % an API
  key or token (`sk-proj-...`, `AKIA...`, `ghp_...`), ~0.15 % each a test card number
  (Luhn-valid) or an example IBAN; ~0.5 % of answers mention an email address, a phone number or
  a test card number.
- Slow generation: stalled calls decode at a few tokens per second (~0.5 % of llm calls with
  100+ output tokens run under 10 tokens/s).
- User feedback: ~15 % of chatbot and ~10 % of RAG requests get a separate `feedback` event
  (`"up"`/`"down"`, or in a quarter of them a 0..1 score from a 1-5 star rating) 5 s to 10 min
  after the request ended, so it comes later in the file; it has no `parent_id` or `latency_ms`.
  About 80 % accept; failed, refused, empty, cut-off, looping, invalid-JSON and context-ignoring
  answers mostly get a thumbs down.
- `chatbot.jsonl` has malformed lines planted about one in {FILES[0].malformed_every} (real logs
  have ~1 in 5,000), cycling through: truncated JSON, a JSON value that is not an object, a
  `latency_ms` of the wrong type, a line without `request_id`, and a negative `latency_ms`.
  The wrong-type and negative lines are extra `cache_lookup` events of real requests; the others
  are copies of real lines, so dropping them loses nothing. The RAG files have none.

## How they were made

```
.venv/bin/python bench/make_sample_logs.py
```

The script fixes the seeds, start times, request counts and arrival rates of each file; the
output is byte-identical on every run (gzip without a timestamp, zstandard level 10). Do not edit
the files by hand: change the script and run it again.
"""


def read_lines(path: Path) -> list[bytes]:
    data = path.read_bytes()
    if path.suffix == ".gz":
        data = gzip.decompress(data)
    elif path.suffix == ".zst":
        data = zstandard.ZstdDecompressor().decompressobj().decompress(data)
    return data.splitlines()


def event_span(path: Path) -> tuple[str, str]:
    """First and last `ts` of the well-formed lines (ISO strings in UTC sort like the times they are)."""
    stamps = []
    for line in read_lines(path):
        try:
            obj = orjson.loads(line)
        except orjson.JSONDecodeError:
            continue
        if isinstance(obj, dict) and isinstance(obj.get("ts"), str):
            stamps.append(obj["ts"])
    return min(stamps), max(stamps)


def main() -> int:
    rows = [(spec, make(spec)) for spec in FILES]
    failed = False
    for spec, stats in rows:
        first, last = event_span(OUT / spec.path)
        print(
            f"{spec.path}: {stats.requests:,} requests, {stats.events:,} events, {stats.malformed} malformed, "
            f"{stats.bytes:,} bytes, {stats.file_bytes:,} on disk, {first} .. {last}"
        )
        day_end = (spec.start + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%S")
        if spec.path.startswith("rag/") and last >= day_end:
            # The RAG files are named after their day: every event must fall on it.
            print(f"error: {spec.path} runs past {day_end}; lower its request count or raise its rate", file=sys.stderr)
            failed = True
    (OUT / "README.md").write_text(readme(rows), encoding="utf-8")
    total = sum(p.stat().st_size for p in OUT.rglob("*") if p.is_file())
    print(f"sample_logs/: {total:,} bytes on disk")
    if total >= MAX_TOTAL_BYTES:
        print(f"error: sample_logs/ must stay under {MAX_TOTAL_BYTES:,} bytes", file=sys.stderr)
        failed = True
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
