"""The command as a user runs it: `gradscope --help`, `gradscope analyze` on its defaults with
a warm cache (without and with figures) and from a cold start (an empty cache folder), each a
new process timed from start to exit. Prints a table and writes benchmarks/results-cli.json.

    python benchmarks/run_cli.py [--rounds 5] [--against TREE] [--smoke]

Every round runs each case once, for this tree and for `--against TREE` (another source tree
of gradscope, e.g. `git worktree add /tmp/old <commit>`) one after the other, so that a slow
spell of a shared host falls on both; the table gives the min, median and max of the rounds.
The processes run in an empty folder, so that the tree under test, not the current folder,
is the one Python imports. `--smoke` (one round at tiny sizes of `--help` and a warm
`analyze`, nothing recorded) keeps the script working.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# case -> (arguments, cache: "warm" | "cold" | None, target seconds of issue 7)
CASES = {
    "--help": (["--help"], None, 0.3),
    "analyze, warm, no figures": (["analyze", "--no-plots"], "warm", None),
    "analyze, warm": (["analyze"], "warm", 1.5),
    "analyze, cold, no figures": (["analyze", "--no-plots"], "cold", None),
    "analyze, cold": (["analyze"], "cold", 3.0),
}
SMOKE_SIZES = ["-H", "4", "-T", "8"]
SMOKE_CASES = ("--help", "analyze, warm")


def run_once(args: list[str], tree: str | None, cache: Path | None, work: Path) -> float:
    """Seconds from start to exit of `python -m gradscope *args` (a failure raises)."""
    env = {k: v for k, v in os.environ.items() if k not in ("GRADSCOPE_NO_CACHE", "PYTHONPATH")}
    if tree is not None:
        env["PYTHONPATH"] = tree
    if cache is not None:
        env["GRADSCOPE_CACHE_DIR"] = str(cache)
    out = []
    if args[0] == "analyze":
        out = ["--out", str(Path(tempfile.mkdtemp(dir=work)) / "report")]
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "gradscope", *args, *out], cwd=work, env=env,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
                       timeout=600)
    secs = time.perf_counter() - t0
    if r.returncode != 0:
        raise SystemExit(f"gradscope {' '.join(args)} failed ({tree or 'this tree'}):\n"
                         f"{r.stderr[-2000:]}")
    return secs


def measure(trees: dict[str, str | None], cases: dict, rounds: int, extra: list[str],
            work: Path) -> dict:
    """{tree label: {case: [seconds per round]}} for `cases` (some of CASES)."""
    warm = {label: work / f"cache-{i}" for i, label in enumerate(trees)}
    for label, tree in trees.items():  # fills each tree's warm cache (its own source hash)
        run_once(["analyze", *extra], tree, warm[label], work)
    times: dict = {label: {case: [] for case in cases} for label in trees}
    for _ in range(rounds):
        for case, (args, cache, _) in cases.items():
            args = args + extra if args[0] == "analyze" else args
            for label, tree in trees.items():
                folder = warm[label]
                if cache == "cold":
                    folder = Path(tempfile.mkdtemp(prefix="cold-", dir=work))
                times[label][case].append(run_once(args, tree, folder if cache else None, work))
                if cache == "cold":
                    shutil.rmtree(folder, ignore_errors=True)
    return times


def summary(seconds: list[float]) -> dict:
    s = sorted(seconds)
    return {"min": s[0], "median": s[len(s) // 2], "max": s[-1], "runs": len(s)}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--against", metavar="TREE", help="another gradscope source tree, timed in "
                    "the same rounds")
    ap.add_argument("--smoke", action="store_true", help="one round at tiny sizes; records "
                    "nothing")
    a = ap.parse_args()
    here = str(Path(__file__).resolve().parent.parent)
    trees = {"this tree": here}
    if a.against:
        trees[f"against {a.against}"] = str(Path(a.against).resolve())
    rounds, extra = (1, SMOKE_SIZES) if a.smoke else (max(1, a.rounds), [])
    # the smoke run (does the script work?) times one case of each kind of command line
    cases = {k: v for k, v in CASES.items() if not a.smoke or k in SMOKE_CASES}
    with tempfile.TemporaryDirectory(prefix="gradscope-bench-cli-") as work:
        times = measure(trees, cases, rounds, extra, Path(work))
    rows = [{"tree": label, "case": case, **summary(secs), "target_s": CASES[case][2]}
            for label, by_case in times.items() for case, secs in by_case.items()]
    for r in rows:
        print(json.dumps(r), flush=True)
    print("\n| case | tree | min s | median s | max s | target s |\n|---|---|---|---|---|---|")
    for r in rows:
        target = "–" if r["target_s"] is None else f"{r['target_s']:g}"
        print(f"| {r['case']} | {r['tree']} | {r['min']:.2f} | {r['median']:.2f} | "
              f"{r['max']:.2f} | {target} |")
    if a.smoke:
        return
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else None
    machine = f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or ''}".strip()
    Path(__file__).with_name("results-cli.json").write_text(json.dumps(
        {"machine": machine, "load_average_after": load, "rounds": rounds, "rows": rows},
        indent=1) + "\n")


if __name__ == "__main__":
    main()
