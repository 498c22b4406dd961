"""Quality flags and the rates summaries show (docs/quality.md)."""

from aiobs.quality.config import BUILTIN_FLAGS, CustomRule, QualityConfig, parse_quality_config
from aiobs.quality.flags import FLAG_DESCRIPTIONS, FLAG_PREFIX, add_flags, flag_column, flag_expressions, flag_names

__all__ = [
    "BUILTIN_FLAGS",
    "FLAG_DESCRIPTIONS",
    "FLAG_PREFIX",
    "CustomRule",
    "QualityConfig",
    "add_flags",
    "flag_column",
    "flag_expressions",
    "flag_names",
    "parse_quality_config",
]
