"""Adapters from each log format to the canonical event table (aiobs.schema)."""
