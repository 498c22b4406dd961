"""Adapters from each log format to the canonical event table (aiobs.schema), and their registry.

A format is read per file: `detect.detect_format` picks it from the file's first lines unless the user
names one (`--input-format`), and `make_parser` returns the object whose `events(chunk)` turns each
chunk of the file's lines into canonical events. docs/formats.md describes every format.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from typing import Protocol

import polars as pl

from aiobs.errors import UsageError
from aiobs.formats.bedrock import BedrockAdapter
from aiobs.formats.detect import DEFAULT_FORMAT, detect_format, repeated_keys
from aiobs.formats.documents import document_chunks, looks_like_documents
from aiobs.formats.envelopes import envelope_of, unwrapped
from aiobs.formats.langchain import LangChainCallbackAdapter, LangSmithRunAdapter
from aiobs.formats.langfuse import LangfuseAdapter
from aiobs.formats.litellm import LiteLLMAdapter
from aiobs.formats.loggers import NATIVE, PRESET_ALIASES, PRESETS, Preset
from aiobs.formats.mapping import FieldMapping
from aiobs.formats.native_reader import ChunkParser
from aiobs.formats.openai_batch import OpenAIBatchAdapter
from aiobs.formats.otlp import OtlpAdapter
from aiobs.formats.provider_responses import ProviderResponseAdapter
from aiobs.formats.reader import Adapter, AdapterParser
from aiobs.formats.responses import response_chunks, response_of
from aiobs.formats.trace_exports import JaegerAdapter, TempoAdapter
from aiobs.issues import IssueLog
from aiobs.sources.read import Chunk

#: What `--input-format` accepts besides a format name: detect per file.
AUTO = "auto"


class EventParser(Protocol):
    def events(self, chunk: Chunk) -> pl.DataFrame:
        """Canonical events of the chunk; bad lines and orphans recorded as issues, not returned."""
        ...

    def events_of_batch(self, chunks: Sequence[Chunk]) -> pl.DataFrame:
        """Canonical events of several chunks, in order (small files read together; see aiobs.ingest)."""
        ...

    def finish(self) -> None:
        """Record what can be judged only once every chunk was read (issues about whole files)."""
        ...

    def file_tallies(self) -> dict[str, Counter[str]]:
        """What `finish` judges from, per source: workers that read parts of the input send these to the
        driver, which adds them up (`add_file_tallies`) and finishes once."""
        ...

    def add_file_tallies(self, tallies: dict[str, Counter[str]]) -> None: ...

    @property
    def resolves_tree(self) -> bool:
        """Its events name their parent, not their request: keep those without a correlation ID until the
        whole input is read (aiobs.formats.run_tree)."""
        ...


def _native(preset: Preset) -> Callable[[FieldMapping, IssueLog], EventParser]:
    def make(mapping: FieldMapping, issues: IssueLog) -> EventParser:
        return ChunkParser(mapping, issues, preset)

    return make


def _adapter(adapter: type[Adapter]) -> Callable[[FieldMapping, IssueLog], EventParser]:
    def make(mapping: FieldMapping, issues: IssueLog) -> EventParser:
        return AdapterParser(adapter(), issues)  # the field mapping is for the native format only

    return make


#: name -> (what it reads, parser factory). `native` is the default when nothing else matches.
FORMATS: dict[str, tuple[str, Callable[[FieldMapping, IssueLog], EventParser]]] = {
    "native": (NATIVE.reads, _native(NATIVE)),
    "otlp": ("OpenTelemetry OTLP/JSON traces and logs, GenAI and OpenInference attributes", _adapter(OtlpAdapter)),
    "jaeger": ("Jaeger JSON traces (query API response, UI download)", _adapter(JaegerAdapter)),
    "tempo": ("Grafana Tempo trace-by-ID responses (OTLP under batches or trace)", _adapter(TempoAdapter)),
    "openai-batch": ("OpenAI Batch API output and error files", _adapter(OpenAIBatchAdapter)),
    "bedrock": ("AWS Bedrock model invocation logs", _adapter(BedrockAdapter)),
    "litellm": ("LiteLLM StandardLoggingPayload and SpendLogs", _adapter(LiteLLMAdapter)),
    "langfuse": ("Langfuse observation exports", _adapter(LangfuseAdapter)),
    "provider-response": (
        "LLM provider responses logged as-is (OpenAI Chat Completions and Responses, Anthropic Messages, Gemini)",
        _adapter(ProviderResponseAdapter),
    ),
    "langsmith": (
        "LangSmith runs (exports, LangChain tracers' Run objects): the run tree is the request",
        _adapter(LangSmithRunAdapter),
    ),
    "langchain": (
        "LangChain / LangGraph callback events as JSON lines (on_*_start / _end / _error)",
        _adapter(LangChainCallbackAdapter),
    ),
    **{preset.name: (preset.reads, _native(preset)) for preset in PRESETS},
}
FORMAT_NAMES: tuple[str, ...] = tuple(FORMATS)


def check_input_format(name: str | None) -> str | None:
    """The format name to force, None to detect per file; an unknown name is a UsageError."""
    if name is None or name.strip().lower() == AUTO:
        return None
    key = name.strip().lower()
    key = PRESET_ALIASES.get(key, key)
    if key not in FORMATS:
        msg = f"unknown input format '{name}': choose from {AUTO}, {', '.join(FORMAT_NAMES)}"
        raise UsageError(msg)
    return key


def make_parser(name: str, mapping: FieldMapping, issues: IssueLog) -> EventParser:
    return FORMATS[name][1](mapping, issues)


#: What a wrapper around the application's lines is called where aiobs names it (inspect).
WRAPPER_NAMES = {
    "loki-response": "a Loki query API response",
    "cloudwatch-response": "CloudWatch filter-log-events / get-log-events output",
    "loki": "a Loki logcli export",
    "cloudwatch-export": "a CloudWatch Logs export",
    "datadog-archive": "a Datadog log archive",
    "documents": "JSON documents",
}


def wrapper_of(data: bytes) -> str | None:
    """What wraps the application's lines in a file whose first bytes are `data` (WRAPPER_NAMES' keys), if any."""
    if (response := response_of(data)) is not None:
        return response
    if looks_like_documents(data):
        return "documents"
    return envelope_of(data)


def frame_source(
    chunks: Iterator[Chunk], issues: IssueLog, forced: str | None, *, file_start: bool = True
) -> tuple[str, Iterator[Chunk]]:
    """The format of one source and its chunks: a log store's query response is first turned into the lines
    it holds (aiobs.formats.responses), multi-line JSON documents into lines, and lines wrapped by a log
    store (Loki, CloudWatch exports) unwrapped (aiobs.formats.envelopes).

    The first chunk is read ahead to decide both; the chunks returned include it again. All of this is
    decided on a file's first lines: a later part of a file cut for several workers (`file_start` False,
    aiobs.sources.ranges) is JSON Lines in the format its file's first chunk named, read as it is.
    """
    first = next(chunks, None)
    if first is None:
        return forced or DEFAULT_FORMAT, iter(())
    stream: Iterator[Chunk] = itertools.chain([first], chunks)
    if not file_start:
        return forced or detect_format(first.data), stream
    response = response_of(first.data)
    if response is not None or looks_like_documents(first.data):
        stream = response_chunks(stream, response, issues) if response else document_chunks(stream, issues)
        first = next(stream, None)
        if first is None:
            return forced or DEFAULT_FORMAT, iter(())
        stream = itertools.chain([first], stream)
    if (envelope := envelope_of(first.data)) is not None:
        stream = unwrapped(stream, envelope, issues)
        first = next(stream)
        stream = itertools.chain([first], stream)
    if repeats := repeated_keys(first.data, first.source, first.first_line):
        issues.add("repeated-key", len(repeats), repeats)
    return forced or detect_format(first.data), stream
