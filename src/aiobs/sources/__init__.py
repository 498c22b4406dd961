"""Where bytes come from: files, folders, globs, stdin; decompression."""

from aiobs.sources.paths import Source, expand_inputs

__all__ = ["Source", "expand_inputs"]
