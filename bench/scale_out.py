"""`aiobs summarize` on the local engine and on Ray, side by side: wall time and the driver's peak RSS.

The inputs are the benchmark logs (bench/bench.py) cut into files of about 64 MB, as logs land in a
bucket: `bench/data/split_<size>/part-NNNN.jsonl`, lines never cut. Ray runs on a local cluster started
once beforehand (`ray start --head`), as it would be on a real one; its start-up is measured apart. Both
engines' JSON summaries must be identical (only `generated_at` differs), or the run says so and fails.

    .venv/bin/python bench/scale_out.py                    # 100m, 1g, 4g
    .venv/bin/python bench/scale_out.py --sizes 100m,1g --rounds 2

The driver's peak RSS is the aiobs process's own high-water mark (VmHWM in /proc), read until it exits:
the Ray workers are other processes, measured by Ray, not here.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "bench" / "data"
OUT = ROOT / "bench" / "out"
AIOBS = str(Path(sys.executable).parent / "aiobs")
RAY = str(Path(sys.executable).parent / "ray")
PART_BYTES = 64 << 20
#: The source of each size: the benchmark log, or the first bytes of a larger one.
SOURCES = {"100m": ("logs_100m.jsonl", None), "1g": ("logs_1g.jsonl", None), "4g": ("logs_16g.jsonl", 4_000_000_000)}


def split_input(size: str) -> Path:
    """bench/data/split_<size>/: the log cut at line ends into files of about PART_BYTES."""
    folder = DATA / f"split_{size}"
    if folder.is_dir():
        return folder
    name, limit = SOURCES[size]
    source = DATA / name
    if not source.exists():
        sys.exit(f"{source} is missing: run bench/bench.py --sizes {size} (or 16g for 4g) first")
    partial = folder.with_name(folder.name + ".part")
    partial.mkdir(exist_ok=True)
    written, index, total = 0, 0, 0
    out = (partial / "part-0000.jsonl").open("wb")
    with source.open("rb") as lines:
        for line in lines:
            if limit is not None and total >= limit:
                break
            if written >= PART_BYTES:
                out.close()
                index, written = index + 1, 0
                out = (partial / f"part-{index:04d}.jsonl").open("wb")
            out.write(line)
            written += len(line)
            total += len(line)
    out.close()
    partial.rename(folder)
    return folder


def memory_mb(pid: int) -> tuple[float, float]:
    """The process's peak RSS so far (VmHWM) and its private memory now (RssAnon), in MB."""
    try:
        status = Path(f"/proc/{pid}/status").read_text()
    except OSError:
        return 0.0, 0.0
    fields = dict(line.split(":", 1) for line in status.splitlines() if ":" in line)
    return tuple(int(fields.get(k, "0 kB").split()[0]) / 1024 for k in ("VmHWM", "RssAnon"))  # type: ignore[return-value]


def run(argv: list[str]) -> tuple[float, float, float]:
    """Wall seconds, the process's peak RSS and its peak private memory (MB), polled every 20 ms.

    RSS also counts the pages of Ray's shared object store that the driver has read (objects are mapped,
    not copied), which belong to the store; private memory (RssAnon) is what the driver itself holds.
    """
    started = time.perf_counter()
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    peak, private = 0.0, 0.0
    while proc.poll() is None:
        hwm, anon = memory_mb(proc.pid)
        peak, private = max(peak, hwm), max(private, anon)
        time.sleep(0.02)
    seconds = time.perf_counter() - started
    if proc.returncode != 0:
        sys.exit(f"{' '.join(argv)} failed ({proc.returncode}): {proc.stderr.read().decode()[-500:]}")  # type: ignore[union-attr]
    return seconds, peak, private


def summary(path: Path) -> dict[str, object]:
    doc = json.loads(path.read_text())
    doc.pop("generated_at")
    return doc


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="100m,1g,4g")
    parser.add_argument("--rounds", type=int, default=1)
    args = parser.parse_args()
    OUT.mkdir(exist_ok=True)
    started = time.perf_counter()
    subprocess.run(
        [RAY, "start", "--head", "--num-cpus", "2", "--include-dashboard", "false"], check=True, capture_output=True
    )
    print(f"ray start --head: {time.perf_counter() - started:.1f} s", flush=True)
    address = "auto"  # the cluster started above
    try:
        print("| input | files | engine | wall s | driver peak RSS MB | driver peak private MB | identical |")
        print("|---|--:|---|--:|--:|--:|---|")
        for size in args.sizes.split(","):
            folder = split_input(size)
            files = len(list(folder.iterdir()))
            outputs = {}
            for _ in range(args.rounds):
                for engine in ("local", "ray"):
                    out = OUT / f"scale_{size}_{engine}.json"
                    argv = [AIOBS, "summarize", str(folder), "--format", "json", "-o", str(out), "--engine", engine]
                    if engine == "ray":
                        argv += ["--ray-address", address]
                    seconds, peak, private = run(argv)
                    outputs[engine] = summary(out)
                    same = "yes" if engine == "local" or outputs["ray"] == outputs["local"] else "NO"
                    row = [size, files, engine, f"{seconds:.1f}", f"{peak:,.0f}", f"{private:,.0f}", same]
                    print("| " + " | ".join(map(str, row)) + " |", flush=True)
                    if same == "NO":
                        sys.exit("the engines' summaries differ")
    finally:
        subprocess.run([RAY, "stop", "--force"], capture_output=True, check=False)


if __name__ == "__main__":
    os.environ.setdefault("RAY_DEDUP_LOGS", "0")
    main()
