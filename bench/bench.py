"""Benchmark `aiobs summarize` against DuckDB doing the same job on the same files.

    .venv/bin/python bench/bench.py --quick                 # ~100 MB smoke run (plain, .gz and .zst)
    .venv/bin/python bench/bench.py                         # 1 GB, 1 GB .gz and 4 GB, 3 rounds
    .venv/bin/python bench/bench.py --sizes 1g --rounds 5 --aiobs ".venv/bin/aiobs"

Steps (see bench/README.md for the method and how to read the results):

1. Generate the inputs in bench/data/ with `aiobs.sample` if they are absent: logs_<size>.jsonl
   (the smaller files are prefixes of the larger ones: same seed, cut at a line) and
   logs_<size>.jsonl.gz (gzip -6 of the plain file) and .zst (zstd -3).
2. Warm the page cache by reading every input once.
3. One discarded warm-up round on the smallest input, then for each size, `--rounds` rounds that
   each run every tool once, in turn: `aiobs summarize FILE --format json --output OUT.json` and
   DuckDB (bench/duckdb_summary.sql, in a fresh Python process).
4. For each run: wall time (the whole process, start-up included), peak RSS (`/usr/bin/time %M`,
   else `getrusage(RUSAGE_CHILDREN)` in a wrapper), CPU time, and the CPU other processes used.
5. Print a Markdown table of medians (MB/s counts uncompressed bytes), check that aiobs and DuckDB
   count the same requests, and write bench/out/results.md and bench/out/results.json.

`bench.py duckdb-summary FILE OUT.json` runs the DuckDB side alone (that is what gets timed);
`bench.py polars-summary FILE OUT.json` the same job written directly in Polars (the floor of our stack).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import platform
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
DATA = BENCH / "data"
OUT = BENCH / "out"
SQL_FILE = BENCH / "duckdb_summary.sql"
DEFAULT_AIOBS = ROOT / ".venv" / "bin" / "aiobs"
TIME_BIN = Path("/usr/bin/time")

SIZE_BYTES = {"100m": 100_000_000, "1g": 1_000_000_000, "4g": 4_000_000_000, "16g": 16_000_000_000}
DEFAULT_SIZES = "1g,1g.gz,4g"
QUICK_SIZES = "100m,100m.gz,100m.zst"
SEED = 0
#: A run counts as contended when other processes used more CPU than this share of its wall time.
CONTENDED = 0.10

# Runs a command and reports its peak RSS when /usr/bin/time is missing. A fresh process, so
# RUSAGE_CHILDREN covers only the command (ru_maxrss is the largest single descendant, in KiB).
RUSAGE_WRAPPER = """
import resource, subprocess, sys
code = subprocess.call(sys.argv[2:])
usage = resource.getrusage(resource.RUSAGE_CHILDREN)
with open(sys.argv[1], "w") as f:
    f.write(f"0 {usage.ru_maxrss} {usage.ru_utime} {usage.ru_stime}\\n")
sys.exit(code)
"""


# ---------------------------------------------------------------------------------------------------------------------
# The DuckDB side


def sql_sections(path: Path = SQL_FILE) -> dict[str, str]:
    """The `-- name: <section>` blocks of the SQL file, in order."""
    sections: dict[str, list[str]] = {}
    current: list[str] | None = None
    for line in path.read_text(encoding="utf-8").splitlines():
        match = re.match(r"--\s*name:\s*(\w+)", line)
        if match:
            current = sections.setdefault(match.group(1), [])
        elif current is not None:
            current.append(line)
    return {name: "\n".join(lines).strip() for name, lines in sections.items()}


def duckdb_summary(path: str, output: str) -> None:
    """Summarize `path` with DuckDB and write JSON shaped like aiobs's (`overall.requests`, ...)."""
    started = time.perf_counter()
    import duckdb  # imported here: only the timed subprocess needs it

    sections = sql_sections()
    con = duckdb.connect()
    con.execute(sections["requests"], {"path": path})

    def rows(sql: str) -> list[dict[str, Any]]:
        cursor = con.execute(sql)
        names = [d[0] for d in cursor.description]
        return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

    overall = rows(sections["overall"])[0]
    quantiles = overall.pop("latency_ms_p50_p90_p95_p99") or [None] * 4
    for name, value in zip(("p50_ms", "p90_ms", "p95_ms", "p99_ms"), quantiles, strict=True):
        overall[name] = value
    result = {
        "tool": f"duckdb {duckdb.__version__}",
        "input": path,
        "overall": overall,
        "models": rows(sections["models"]),
        "in_process_s": round(time.perf_counter() - started, 3),
    }
    Path(output).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


def polars_summary(path: str, output: str) -> None:
    """The same job as bench/duckdb_summary.sql written directly in Polars: the floor of aiobs's own stack.

    About 30 lines, no input accounting (a malformed line fails nothing here: `ignore_errors`), no
    quality flags, no pricing: what the core job costs when Polars alone does it.
    """
    started = time.perf_counter()
    import polars as pl  # imported here: only the timed subprocess needs it

    # Polars' NDJSON reader fails a whole file on one malformed line, so lines are read as text, the
    # ones shaped `{...}` decoded with every field as text, and the numbers cast leniently (as DuckDB's
    # ignore_errors does). The 6 malformed lines of the bench logs are not objects.
    names = ["request_id", "event", "ts", "latency_ms", "status", "model", "input_tokens", "output_tokens"]
    lines = pl.scan_csv(path, has_header=False, separator="\x1f", quote_char=None, schema={"line": pl.String})
    line = pl.col("line")
    events = (
        lines.filter(line.str.starts_with("{") & line.str.ends_with("}"))
        .select(line.str.json_decode(pl.Struct(dict.fromkeys(names, pl.String))))
        .unnest("line")
        .filter(pl.col("request_id").is_not_null())
        .with_columns(
            pl.col("latency_ms").cast(pl.Float64, strict=False),
            pl.col("input_tokens", "output_tokens").cast(pl.Int64, strict=False),
            us=pl.col("ts").str.to_datetime(time_zone="UTC", strict=False).dt.epoch("us"),
        )
    )
    us, timeline, llm = pl.col("us"), pl.col("event").ne_missing("feedback"), pl.col("event") == "llm"
    requests = events.group_by("request_id").agg(
        e2e_ms=pl.coalesce(
            pl.col("latency_ms").filter(pl.col("event") == "gateway").max(),
            ((us + pl.col("latency_ms").fill_null(0) * 1000).filter(timeline).max() - us.filter(timeline).min())
            / 1000.0,
        ),
        input_tokens=pl.col("input_tokens").sum(),
        output_tokens=pl.col("output_tokens").sum(),
        is_error=(
            (pl.col("status") == "error")
            | (pl.col("status").cast(pl.Int64, strict=False) >= 400)
            | (pl.col("event") == "error")
        ).any(),
        model=pl.col("model").filter(llm).sort_by(us.filter(llm)).last(),
    )
    table = requests.collect()
    e2e = pl.col("e2e_ms")
    overall = table.select(
        requests=pl.len(),
        errors=pl.col("is_error").sum(),
        error_rate=pl.col("is_error").mean(),
        **{f"p{q}_ms": e2e.quantile(q / 100, interpolation="linear") for q in (50, 90, 95, 99)},
        input_tokens=pl.col("input_tokens").sum(),
        output_tokens=pl.col("output_tokens").sum(),
    ).row(0, named=True)
    models = (
        table.group_by("model")
        .agg(
            requests=pl.len(),
            errors=pl.col("is_error").sum(),
            p95_ms=e2e.quantile(0.95, interpolation="linear"),
            input_tokens=pl.col("input_tokens").sum(),
            output_tokens=pl.col("output_tokens").sum(),
        )
        .sort(["requests", "model"], descending=[True, False])
    )
    result = {
        "tool": f"polars {pl.__version__}",
        "input": path,
        "overall": overall,
        "models": models.to_dicts(),
        "in_process_s": round(time.perf_counter() - started, 3),
    }
    Path(output).write_text(json.dumps(result, indent=2, default=str) + "\n", encoding="utf-8")


# ---------------------------------------------------------------------------------------------------------------------
# Inputs


@dataclass(frozen=True)
class Input:
    size: str  # "1g", "1g.gz", "1g.zst", ...
    path: Path
    bytes: int  # uncompressed bytes: MB/s always counts these
    disk_bytes: int
    requests: int | None  # from the generator's stats, when known


COMPRESSIONS = (".gz", ".zst")


def base_size(size: str) -> str:
    """`1g` for `1g`, `1g.gz` and `1g.zst`."""
    for suffix in COMPRESSIONS:
        size = size.removesuffix(suffix)
    return size


def parse_sizes(spec: str) -> list[str]:
    sizes = [s.strip().lower() for s in spec.split(",") if s.strip()]
    for size in sizes:
        if base_size(size) not in SIZE_BYTES:
            known = ", ".join(f"{s}, {s}.gz, {s}.zst" for s in SIZE_BYTES)
            msg = f"unknown size {size!r} (known: {known})"
            raise SystemExit(msg)
    return sizes


def plain_path(size: str) -> Path:
    return DATA / f"logs_{base_size(size)}.jsonl"


def stats_path(path: Path) -> Path:
    return path.with_name(path.name + ".stats.json")


def generate_plain(size: str) -> None:
    path = plain_path(size)
    if path.exists():
        return
    try:
        from aiobs.sample import write_sample
    except ImportError:  # a checkout without `pip install -e .`
        sys.path.insert(0, str(ROOT / "src"))
        from aiobs.sample import write_sample

    target = SIZE_BYTES[base_size(size)]
    print(f"generating {path.relative_to(ROOT)} ({target / 1e6:,.0f} MB) ...", flush=True)
    started = time.perf_counter()
    stats = write_sample(path, seed=SEED, target_bytes=target)
    seconds = time.perf_counter() - started
    record = {**asdict(stats), "seed": SEED, "target_bytes": target, "seconds": round(seconds, 2)}
    stats_path(path).write_text(json.dumps(record, indent=2) + "\n", encoding="utf-8")
    print(
        f"  {stats.requests:,} requests, {stats.events:,} events, {stats.malformed} malformed lines "
        f"in {seconds:.1f} s ({stats.bytes / seconds / 1e6:.1f} MB/s)",
        flush=True,
    )


def generate_gz(size: str) -> None:
    source = plain_path(size)
    path = source.with_name(source.name + ".gz")
    if path.exists():
        return
    tool = shutil.which("pigz") or shutil.which("gzip")
    print(f"compressing {source.name} -> {path.name} with {tool or 'python gzip'} -6 ...", flush=True)
    started = time.perf_counter()
    part = path.with_name(path.name + ".part")
    if tool:
        with part.open("wb") as out:
            subprocess.run([tool, "-6", "-n", "-c", str(source)], stdout=out, check=True)
    else:
        import gzip

        with source.open("rb") as src, gzip.GzipFile(part, "wb", compresslevel=6, mtime=0) as dst:
            shutil.copyfileobj(src, dst, 1 << 24)
    part.replace(path)
    print(f"  {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)


def generate_zst(size: str) -> None:
    """zstd level 3 (the `zstd` tool's default) of the plain file, with the `zstandard` package aiobs uses."""
    import zstandard

    source = plain_path(size)
    path = source.with_name(source.name + ".zst")
    if path.exists():
        return
    print(f"compressing {source.name} -> {path.name} with zstandard -3 ...", flush=True)
    started = time.perf_counter()
    part = path.with_name(path.name + ".part")
    with source.open("rb") as src, part.open("wb") as out:
        zstandard.ZstdCompressor(level=3, write_checksum=True).copy_stream(src, out, read_size=1 << 24)
    part.replace(path)
    print(f"  {path.stat().st_size / 1e6:,.0f} MB in {time.perf_counter() - started:.1f} s", flush=True)


def prepare_inputs(sizes: list[str]) -> list[Input]:
    DATA.mkdir(parents=True, exist_ok=True)
    # Same seed for every size, so each smaller file is a prefix of the larger ones.
    for size in sorted({base_size(s) for s in sizes}, key=SIZE_BYTES.__getitem__):
        generate_plain(size)
    for size in sizes:
        if size.endswith(".gz"):
            generate_gz(size)
        elif size.endswith(".zst"):
            generate_zst(size)
    inputs = []
    for size in sizes:
        plain = plain_path(size)
        suffix = next((c for c in COMPRESSIONS if size.endswith(c)), "")
        path = plain.with_name(plain.name + suffix)
        requests = None
        if stats_path(plain).exists():
            requests = json.loads(stats_path(plain).read_text(encoding="utf-8")).get("requests")
        inputs.append(Input(size, path, plain.stat().st_size, path.stat().st_size, requests))
    return inputs


def warm_page_cache(paths: list[Path]) -> None:
    buf = bytearray(16 << 20)
    for path in paths:
        started = time.perf_counter()
        with path.open("rb", buffering=0) as f:
            while f.readinto(buf):
                pass
        seconds = time.perf_counter() - started
        print(f"warmed {path.name}: {path.stat().st_size / 1e6:,.0f} MB in {seconds:.2f} s", flush=True)


# ---------------------------------------------------------------------------------------------------------------------
# Running and measuring


@dataclass
class Run:
    size: str
    tool: str
    round: int
    ok: bool
    wall_s: float
    peak_rss_mb: float | None
    cpu_s: float | None
    other_cpu_s: float | None
    exit_code: int
    error: str = ""

    @property
    def contended(self) -> bool:
        return self.other_cpu_s is not None and self.other_cpu_s > CONTENDED * self.wall_s


@dataclass
class Tool:
    name: str
    command: list[str]  # the program
    args: list[str]  # its arguments, with {input} and {output} placeholders
    broken: dict[str, str] = field(default_factory=dict)  # size -> why the tool is skipped there


def busy_cpu_s() -> float | None:
    """CPU seconds all processes have used since boot (user + nice + system + irq + softirq + steal)."""
    try:
        fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    except OSError:
        return None
    ticks = [int(x) for x in fields]
    idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)  # idle + iowait
    return (sum(ticks[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def measure(argv: list[str], size: str, tool: str, round_: int) -> Run:
    with tempfile.NamedTemporaryFile("r", suffix=".time", delete=False) as tf:
        time_file = tf.name
    try:
        if TIME_BIN.exists():
            full = [str(TIME_BIN), "-f", "%e %M %U %S", "-o", time_file, *argv]
        else:
            full = [sys.executable, "-c", RUSAGE_WRAPPER, time_file, *argv]
        busy_before = busy_cpu_s()
        started = time.perf_counter()
        try:
            proc = subprocess.run(full, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, check=False)
        except OSError as exc:
            return Run(size, tool, round_, False, 0.0, None, None, None, 127, str(exc))
        wall = time.perf_counter() - started
        busy_after = busy_cpu_s()
        rss_mb = cpu = None
        lines = Path(time_file).read_text().strip().splitlines()
        if lines:  # /usr/bin/time may print "Command exited with non-zero status N" first
            _, max_kb, user, system = lines[-1].split()
            rss_mb = int(max_kb) * 1024 / 1e6
            cpu = float(user) + float(system)
        other = None
        if busy_before is not None and busy_after is not None and cpu is not None:
            other = max(0.0, busy_after - busy_before - cpu)
        stderr = proc.stderr.decode("utf-8", "replace").strip()
        error = "" if proc.returncode == 0 else "\n".join(stderr.splitlines()[-8:])
        return Run(size, tool, round_, proc.returncode == 0, wall, rss_mb, cpu, other, proc.returncode, error)
    finally:
        Path(time_file).unlink(missing_ok=True)


def output_path(tool: str, inp: Input) -> Path:
    return OUT / f"{tool}_{inp.size}.json"


def run_tool(tool: Tool, inp: Input, round_: int, *, quiet: bool = False) -> Run | None:
    if inp.size in tool.broken:
        return None
    out = output_path(tool.name, inp)
    out.unlink(missing_ok=True)
    argv = [*tool.command, *(a.format(input=inp.path, output=out) for a in tool.args)]
    run = measure(argv, inp.size, tool.name, round_)
    if not run.ok:
        tool.broken[inp.size] = f"exit {run.exit_code}"
        print(f"  {tool.name} failed on {inp.path.name} (exit {run.exit_code}); skipping it for this size.")
        print(f"    command: {shlex.join(argv)}")
        for line in run.error.splitlines():
            print(f"    | {line}")
    elif not quiet:
        rss = f"{run.peak_rss_mb:,.0f} MB" if run.peak_rss_mb is not None else "n/a"
        flag = "  (contended)" if run.contended else ""
        speed = inp.bytes / run.wall_s / 1e6
        print(f"  round {round_} {tool.name:7s} {run.wall_s:7.2f} s  {speed:7.0f} MB/s  {rss}{flag}", flush=True)
    return run


def make_tools(aiobs_cmd: str | None) -> list[Tool]:
    command = shlex.split(aiobs_cmd) if aiobs_cmd else [str(DEFAULT_AIOBS)]
    aiobs = Tool("aiobs", command, ["summarize", "{input}", "--format", "json", "--output", "{output}"])
    # The same job without the quality flags: their cost is the ratio of the two (issue 3: at most 1.5x).
    no_flags = Tool("aiobs-noflags", command, [*aiobs.args, "--no-flags"])
    if shutil.which(command[0]) is None:
        why = f"command not found: {command[0]}"
        print(f"aiobs: {why}; only DuckDB will run (pass --aiobs CMD to point at it).")
        aiobs.broken = {s + c: why for s in SIZE_BYTES for c in ("", *COMPRESSIONS)}
        no_flags.broken = dict(aiobs.broken)
    this = [sys.executable, str(Path(__file__).resolve())]
    duckdb = Tool("duckdb", this, ["duckdb-summary", "{input}", "{output}"])
    # The floor of aiobs's own stack: the core job written directly in Polars (issue 12).
    polars = Tool("polars", this, ["polars-summary", "{input}", "{output}"])
    return [aiobs, no_flags, duckdb, polars]


# ---------------------------------------------------------------------------------------------------------------------
# Results


#: Other values compared between the outputs: label -> (path in aiobs's JSON, path in DuckDB's JSON).
COMPARED: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    **{f"p{q}": (("overall", "latency_ms", f"p{q}"), ("overall", f"p{q}_ms")) for q in (50, 90, 95, 99)},
    "input tokens": (("overall", "tokens", "input"), ("overall", "input_tokens")),
    "output tokens": (("overall", "tokens", "output"), ("overall", "output_tokens")),
}


def load_output(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def lookup(doc: Any, keys: tuple[str, ...]) -> float | None:
    for key in keys:
        if not isinstance(doc, dict) or key not in doc:
            return None
        doc = doc[key]
    return doc if isinstance(doc, int | float) and not isinstance(doc, bool) else None


def cross_check(inp: Input) -> str:
    """Compare the last successful aiobs and DuckDB outputs: request counts (and the generator's), then
    the overall percentiles and token sums. Anything missing from aiobs's JSON is reported as n/a."""
    aiobs, duckdb = (load_output(output_path(tool, inp)) for tool in ("aiobs", "duckdb"))
    counts = {"aiobs": lookup(aiobs, ("overall", "requests")), "duckdb": lookup(duckdb, ("overall", "requests"))}
    shown = ", ".join(f"{tool} {n:,}" if n is not None else f"{tool} n/a" for tool, n in counts.items())
    if inp.requests is not None:
        shown += f", generator {inp.requests:,}"
    if counts["aiobs"] is None or counts["duckdb"] is None:
        verdict = "n/a"
    else:
        verdict = "match" if counts["aiobs"] == counts["duckdb"] else "MISMATCH"
    matched, missing, differ = [], [], []
    for label, (aiobs_keys, duckdb_keys) in COMPARED.items():
        a, d = lookup(aiobs, aiobs_keys), lookup(duckdb, duckdb_keys)
        if a is None or d is None:
            missing.append(label)
        elif math.isclose(a, d, rel_tol=1e-9):
            matched.append(label)
        else:
            differ.append(f"{label} (aiobs {a:,}, duckdb {d:,})")
    others = [f"{', '.join(matched)} match"] if matched else []
    others += [f"MISMATCH: {', '.join(differ)}"] if differ else []
    others += [f"n/a: {', '.join(missing)}"] if missing else []
    return f"{inp.size}: requests {verdict} ({shown}); {'; '.join(others)}"


def references_agree(inp: Input) -> str:
    """The two references must do the same job: plain Polars' figures against DuckDB's."""
    duckdb, polars = (load_output(output_path(tool, inp)) for tool in ("duckdb", "polars"))
    keys = [("overall", "requests"), ("overall", "errors"), *(duckdb_keys for _, duckdb_keys in COMPARED.values())]
    differ, missing = [], []
    for path in keys:
        d, p = lookup(duckdb, path), lookup(polars, path)
        if d is None or p is None:
            missing.append(path[-1])
        elif not math.isclose(d, p, rel_tol=1e-9):
            differ.append(f"{path[-1]} (duckdb {d:,}, polars {p:,})")
    verdict = f"MISMATCH: {', '.join(differ)}" if differ else "n/a" if len(missing) == len(keys) else "agree"
    return f"{inp.size}: references {verdict}" + (f" (n/a: {', '.join(missing)})" if missing else "")


def fmt(value: float | None, spec: str = ",.2f") -> str:
    return "-" if value is None else format(value, spec)


def results_table(inputs: list[Input], tools: list[Tool], runs: list[Run]) -> str:
    lines = [
        "| size | tool | runs | median wall s (min-max) | MB/s | peak RSS MB | CPU s | contended | / DuckDB "
        "| / Polars |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for inp in inputs:
        medians: dict[str, float] = {}
        for tool in tools:
            done = [r for r in runs if r.size == inp.size and r.tool == tool.name and r.ok]
            if done:
                medians[tool.name] = statistics.median(r.wall_s for r in done)
        for tool in tools:
            done = [r for r in runs if r.size == inp.size and r.tool == tool.name and r.ok]
            if not done:
                why = tool.broken.get(inp.size, "not run")
                lines.append(f"| {inp.size} | {tool.name} | 0 | failed: {why} | - | - | - | - | - | - |")
                continue
            wall = medians[tool.name]
            walls = [r.wall_s for r in done]
            rss = [r.peak_rss_mb for r in done if r.peak_rss_mb is not None]
            cpu = [r.cpu_s for r in done if r.cpu_s is not None]
            ratio = f"{wall / medians['duckdb']:.2f}x" if "duckdb" in medians and tool.name != "duckdb" else "-"
            floor = f"{wall / medians['polars']:.2f}x" if "polars" in medians and tool.name != "polars" else "-"
            lines.append(
                f"| {inp.size} | {tool.name} | {len(done)} | {wall:.2f} ({min(walls):.2f}-{max(walls):.2f}) "
                f"| {inp.bytes / wall / 1e6:,.0f} | {fmt(statistics.median(rss) if rss else None, ',.0f')} "
                f"| {fmt(statistics.median(cpu) if cpu else None)} | {sum(r.contended for r in done)} | {ratio} "
                f"| {floor} |"
            )
    return "\n".join(lines)


def flag_overhead(inputs: list[Input], runs: list[Run]) -> list[str]:
    """Per input: median wall with the quality flags / without them."""
    out = []
    for inp in inputs:
        walls = {}
        for name in ("aiobs", "aiobs-noflags"):
            done = [r.wall_s for r in runs if r.size == inp.size and r.tool == name and r.ok]
            walls[name] = statistics.median(done) if done else None
        if walls["aiobs"] and walls["aiobs-noflags"]:
            out.append(
                f"{inp.size}: quality flags cost {walls['aiobs'] / walls['aiobs-noflags']:.2f}x (target <= 1.5x)"
            )
    return out


def machine() -> str:
    cpu = platform.processor() or "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    mem = ""
    try:
        kb = int(Path("/proc/meminfo").read_text().split("\n", 1)[0].split()[1])
        mem = f", {kb / 1024**2:.1f} GiB RAM"
    except (OSError, ValueError, IndexError):
        pass
    return f"{os.cpu_count()} CPUs ({cpu}){mem}, {platform.system()} {platform.release()}"


def versions(tools: list[Tool]) -> str:
    parts = [f"Python {platform.python_version()}"]
    probe = "import duckdb, polars; print(duckdb.__version__, polars.__version__)"
    try:
        out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True).stdout
        duckdb_version, polars_version = out.split()
        parts += [f"duckdb {duckdb_version}", f"polars {polars_version}"]
    except (subprocess.CalledProcessError, OSError, ValueError):
        pass
    aiobs = tools[0]
    try:
        out = subprocess.run([*aiobs.command, "--version"], capture_output=True, text=True, timeout=30).stdout
        if out.strip():
            parts.append(out.strip().splitlines()[0])
    except (OSError, subprocess.TimeoutExpired):
        pass
    return ", ".join(parts)


def report(inputs: list[Input], tools: list[Tool], runs: list[Run], checks: list[str], rounds: int) -> str:
    files = "\n".join(
        f"| `{inp.path.name}` | {inp.bytes:,} | {inp.disk_bytes:,} | {fmt(inp.requests, ',')} |" for inp in inputs
    )
    sql = SQL_FILE.read_text(encoding="utf-8").strip()
    return f"""# aiobs vs DuckDB

{datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")} on {machine()}.
{versions(tools)}.

Medians of {rounds} rounds after a discarded warm-up round; every tool ran in turn within each round, on
files in the page cache. Wall time covers the whole process (interpreter start and imports included).
MB = 10^6 bytes; MB/s = uncompressed input bytes / wall s (also for .gz and .zst). Peak RSS is `/usr/bin/time`'s
`%M` (largest process; it counts mmap'd file pages). A run is *contended* when other processes used more
than {CONTENDED:.0%} of its wall time in CPU.

{results_table(inputs, tools, runs)}

Cross-checks (aiobs JSON `overall.requests` vs DuckDB; generator = requests written), and the cost of
the quality flags (`aiobs` / `aiobs-noflags`, the same job with `--no-flags`):

{chr(10).join(f"- {c}" for c in checks)}

Inputs (`bench/data/`, made by `aiobs.sample`, seed {SEED}):

| file | bytes (uncompressed) | bytes on disk | requests |
|---|---|---|---|
{files}

DuckDB query (`bench/duckdb_summary.sql`):

```sql
{sql}
```
"""


# ---------------------------------------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    references = {"duckdb-summary": duckdb_summary, "polars-summary": polars_summary}
    if argv[:1] and argv[0] in references:
        if len(argv) != 3:
            print(f"usage: bench.py {argv[0]} FILE OUT.json", file=sys.stderr)
            return 2
        references[argv[0]](argv[1], argv[2])
        return 0

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", help=f"comma-separated inputs (default {DEFAULT_SIZES}; --quick: {QUICK_SIZES})")
    parser.add_argument("--rounds", type=int, default=3, help="measured rounds per size (default 3)")
    parser.add_argument("--quick", action="store_true", help=f"smoke run on ~100 MB ({QUICK_SIZES})")
    parser.add_argument("--aiobs", metavar="CMD", help=f"the aiobs command (default {DEFAULT_AIOBS})")
    parser.add_argument("--no-warmup", action="store_true", help="skip the discarded warm-up round")
    args = parser.parse_args(argv)

    sizes = parse_sizes(args.sizes or (QUICK_SIZES if args.quick else DEFAULT_SIZES))
    OUT.mkdir(parents=True, exist_ok=True)
    inputs = prepare_inputs(sizes)
    warm_page_cache([inp.path for inp in inputs])
    tools = make_tools(args.aiobs)

    if not args.no_warmup:
        smallest = min(inputs, key=lambda inp: inp.bytes)
        print(f"warm-up round (discarded) on {smallest.path.name}", flush=True)
        for tool in tools:
            run_tool(tool, smallest, 0, quiet=True)

    for tool in tools:  # never cross-check a stale output of an earlier benchmark
        for inp in inputs:
            output_path(tool.name, inp).unlink(missing_ok=True)

    runs: list[Run] = []
    for inp in inputs:
        print(f"{inp.size}: {inp.path.name}, {inp.bytes / 1e6:,.0f} MB uncompressed", flush=True)
        for round_ in range(1, args.rounds + 1):
            for tool in tools:
                run = run_tool(tool, inp, round_)
                if run is not None:
                    runs.append(run)

    checks = [cross_check(inp) for inp in inputs] + [references_agree(inp) for inp in inputs]
    checks += flag_overhead(inputs, runs)
    table = results_table(inputs, tools, runs)
    print()
    print(table)
    print()
    for check in checks:
        print(check)
    (OUT / "results.md").write_text(report(inputs, tools, runs, checks, args.rounds), encoding="utf-8")
    raw = {"inputs": [{**asdict(i), "path": str(i.path)} for i in inputs], "runs": [asdict(r) for r in runs]}
    (OUT / "results.json").write_text(json.dumps(raw, indent=2) + "\n", encoding="utf-8")
    print(f"\nwrote {(OUT / 'results.md').relative_to(ROOT)} and {(OUT / 'results.json').relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
