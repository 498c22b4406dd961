"""Where bytes come from: files, folders, globs, stdin; decompression."""

from aiobs.sources.base import Source
from aiobs.sources.paths import expand_inputs

__all__ = ["Source", "expand_inputs"]
