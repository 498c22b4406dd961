"""Where the native reader finds each field: the resolved source paths of one format (`Reading`), the
Polars schema that reads them all, and the expression that reads one path, or the first present of a
field's paths, as text.

Columns about the paths themselves (which user-mapped paths a line fills, which values came from a path
whose unit is a guess) are built here too: they feed `aiobs inspect` and the notes on assumed units.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import polars as pl
from polars.datatypes import DataTypeClass

from aiobs.formats.loggers import NATIVE, Preset
from aiobs.formats.mapping import FieldMapping, SourcePath


@dataclass(frozen=True)
class Reading:
    """Everything the native reader needs for one format: the resolved paths, the preset, the conventions."""

    paths: dict[str, tuple[SourcePath, ...]]
    preset: Preset
    time_format: str | None
    http_error_from: int
    timezone: str | None = None

    @classmethod
    def of(cls, mapping: FieldMapping, preset: Preset = NATIVE) -> Reading:
        resolved = mapping.with_paths(preset.paths).resolved(preset.time_is)
        return cls(resolved, preset, mapping.time_format, mapping.http_error_from, mapping.timezone)

    def all_paths(self) -> list[SourcePath]:
        return [p for ps in self.paths.values() for p in ps]

    def user_paths(self) -> list[tuple[str, SourcePath]]:
        """(canonical field, path) of every path the user mapped (`--map`, aiobs.toml), in order."""
        return [(name, p) for name, ps in self.paths.items() for p in ps if p.origin != "format"]


class _List:
    """A JSON array in the reader's schema tree; its elements are `item`."""

    def __init__(self) -> None:
        self.item: Any = None


_LEAF = "leaf"


def _add(node: Any, parts: tuple[str | int, ...]) -> Any:
    """`node` of the schema tree with the path `parts` added. An object or array beats a leaf of the same
    name (a leaf path on it is read as JSON text); an array and an object under one name keep the first."""
    if not parts:
        return _LEAF if node is None else node
    head, rest = parts[0], parts[1:]
    if isinstance(head, int):
        if node is None or node is _LEAF:
            node = _List()
        if isinstance(node, _List):
            node.item = _add(node.item, rest)
        return node
    if node is None or node is _LEAF:
        node = {}
    if isinstance(node, dict):
        node[head] = _add(node.get(head), rest)
    return node


def _dtype(node: Any) -> pl.DataType:
    if isinstance(node, _List):
        return pl.List(_dtype(node.item))
    if isinstance(node, dict):
        return pl.Struct({name: _dtype(child) for name, child in node.items()})
    return pl.String()


def raw_schema(paths: list[SourcePath]) -> pl.Schema:
    """The schema to read lines with: every mapped path as a String, objects as Structs, arrays as Lists."""
    tree: dict[str, Any] = {}
    for path in paths:
        tree = _add(tree, path.parts)
    return pl.Schema({name: _dtype(child) for name, child in tree.items()})


def flat_schema(schema: pl.Schema) -> pl.Schema:
    """The top-level string fields only: for lines whose nested fields do not have the expected shape."""
    return pl.Schema({name: dtype for name, dtype in schema.items() if dtype == pl.String()})


def path_expr(path: SourcePath, schema: pl.Schema) -> pl.Expr | None:
    """The value at `path` as text (an object as its JSON), or None when the schema cannot hold it."""
    head = path.head
    if head not in schema:
        return None
    expr = pl.col(head)
    dtype: pl.DataType | DataTypeClass = schema[head]  # a List's inner and a Field's dtype may be a class
    for part in path.parts[1:]:
        if isinstance(part, int):
            if not isinstance(dtype, pl.List):
                return None
            expr, dtype = expr.list.get(part, null_on_oob=True), dtype.inner
            continue
        field = next((f for f in dtype.fields if f.name == part), None) if isinstance(dtype, pl.Struct) else None
        if field is None:
            return None
        expr, dtype = expr.struct.field(part), field.dtype
    if isinstance(dtype, pl.Struct):
        return expr.struct.json_encode()
    return expr if dtype == pl.String() else None


def raw_field(canonical: str, reading: Reading, schema: pl.Schema, *, numeric: bool = False) -> pl.Expr:
    """First present source field for `canonical`, as a string (numeric fields scaled to our unit)."""
    exprs: list[pl.Expr] = []
    for path in reading.paths.get(canonical, ()):
        expr = path_expr(path, schema)
        if expr is None:
            continue
        if numeric and path.scale != 1.0:
            # Scale here so that the coalesce below picks one unit; text that is not a number stays text.
            as_float = expr.cast(pl.Float64, strict=False)
            expr = pl.when(as_float.is_not_null()).then((as_float * path.scale).cast(pl.String)).otherwise(expr)
        exprs.append(expr)
    if not exprs:
        return pl.lit(None, dtype=pl.String)
    return pl.coalesce(exprs) if len(exprs) > 1 else exprs[0]


def field_present(canonical: str, reading: Reading, schema: pl.Schema) -> bool:
    """Some path of `canonical` can be read with this schema (the logs have the field somewhere)."""
    return any(path_expr(path, schema) is not None for path in reading.paths.get(canonical, ()))


def assumed_units(reading: Reading, schema: pl.Schema) -> dict[str, pl.Expr]:
    """`_stat_assumed:<field>:<path>`: the line's value came from a path whose unit is a guess (it won the
    coalesce: every path before it was absent)."""
    hits: dict[str, pl.Expr] = {}
    for name in ("duration_ms", "ttft_ms"):
        before: list[pl.Expr] = []
        for path in reading.paths.get(name, ()):
            expr = path_expr(path, schema)
            if expr is None:
                continue
            if path.assumed:
                won = pl.all_horizontal(expr.is_not_null(), *(e.is_null() for e in before))
                hits[f"_stat_assumed:{name}:{path.path}:{path.scale:g}"] = won
            before.append(expr)
    return hits


def path_hits(reading: Reading, schema: pl.Schema) -> dict[str, pl.Expr]:
    """`_stat_path_<field>`: one of the paths the user mapped to `field` has a value on this line."""
    hits: dict[str, list[pl.Expr]] = {}
    for name, path in reading.user_paths():
        expr = path_expr(path, schema)
        hits.setdefault(name, []).append(expr.is_not_null() if expr is not None else pl.lit(False))
    return {f"_stat_path_{name}": pl.any_horizontal(found) for name, found in hits.items()}
