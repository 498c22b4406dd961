"""`aiobs sample`: realistic, deterministic logs in the aiobs native format (aiobs.sample.generator says
what they hold and which module generates what; aiobs.sample.corpus holds the texts they draw on, traffic
the models and users, rates how often each thing is planted, writer writes them)."""

from __future__ import annotations

from aiobs.sample.apps import MAX_TOKENS
from aiobs.sample.generator import APPS, DEFAULT_START, MALFORMED_KINDS, SampleStats
from aiobs.sample.writer import iter_sample_lines, write_sample

__all__ = ["APPS", "DEFAULT_START", "MALFORMED_KINDS", "MAX_TOKENS", "SampleStats", "iter_sample_lines", "write_sample"]
