"""CPU benchmarks: gradscope against the bare product chain and a PyTorch baseline, all
measured in this one process. Prints a table and writes benchmarks/results-cpu.json.

    python benchmarks/run_cpu.py [--quick]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

os.environ.setdefault("GRADSCOPE_NO_CACHE", "1")


def best_of(fn, repeat: int) -> float:
    return interleaved({"fn": fn}, repeat)["fn"]


def interleaved(fns: dict, rounds: int) -> dict:
    """The best time of each callable over `rounds` rounds of one call each, so that a slow
    spell of a shared host falls on all of them alike (their ratios are what matter)."""
    best = {k: float("inf") for k in fns}
    for _ in range(rounds):
        for k, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            best[k] = min(best[k], time.perf_counter() - t0)
    return best


def chain_floor_fn(S: int, T: int):
    """A bare lax.scan of P ← P @ J_t over T ready-made S×S matrices (2·T·S³ flops), compiled;
    returns a callable that runs it once."""
    import jax
    import jax.numpy as jnp

    Js = jax.random.normal(jax.random.PRNGKey(0), (T, S, S), jnp.float32) / np.sqrt(S)

    @jax.jit
    def chain(Js):
        def body(P, J):
            P = P @ J
            return P / jnp.max(jnp.abs(P)), None

        return jax.lax.scan(body, jnp.eye(S, dtype=jnp.float32), Js)[0]

    chain(Js).block_until_ready()
    return lambda: chain(Js).block_until_ready()


def gradscope_case(arch: str, H: int, T: int, batch: int, rounds: int):
    """The whole analysis, the numbers the PyTorch baseline computes (‖P_t‖ alone) and the
    chain floor of the same sizes (times `batch`), timed in interleaved rounds. Returns
    `(cfg, run, {"whole", "P_only", "floor"} seconds, params, xs)`."""
    from gradscope.config import Config
    from gradscope.host_arrays import load_params, make_inputs
    from gradscope.pipeline import analyze, jacobian_norms

    cfg = Config(arch=arch, hidden=H, steps=T, batch=batch)
    run = analyze(cfg)  # compiles
    jacobian_norms([cfg])  # compiles the forward pass and the chain alone
    floor = chain_floor_fn(cfg.state_size, T)

    def floors():  # the floor of every sequence, one after the other
        for _ in range(batch):
            floor()

    secs = interleaved({"whole": lambda: analyze(cfg), "P_only": lambda: jacobian_norms([cfg]),
                        "floor": floors}, rounds)
    return cfg, run, secs, load_params(cfg), make_inputs(cfg)


def torch_case(arch, params, xs, repeat):
    try:
        from torch_baseline import log10_jacobian_norms
    except ImportError:
        return None, None
    try:
        import torch  # noqa: F401
    except ImportError:
        return None, None
    out, secs = None, []
    for _ in range(repeat):
        out, s = log10_jacobian_norms(arch, params, xs)
        secs.append(s)
    return out, min(secs)


def peak_memory_case(arch: str, H: int, T: int) -> dict:
    """`gradscope analyze` of a long sequence in a process of its own: its wall time and its
    peak resident memory (the memory target of issue 19: RNN H=512, T=20000 in ≤ 4 GB)."""
    import resource
    import subprocess
    import tempfile

    with tempfile.TemporaryDirectory() as out:
        t0 = time.perf_counter()
        subprocess.run([sys.executable, "-m", "gradscope", "analyze", "--arch", arch, "--hidden",
                        str(H), "--steps", str(T), "--no-plots", "--format", "none", "--force",
                        "-o", out], check=True, cwd=out,
                       env={**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)})
        secs = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024  # KiB on Linux
    return {"case": f"{arch} H={H} T={T} (memory)", "seconds": secs, "peak_bytes": peak}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="small sizes only")
    ap.add_argument("--case", action="append", default=[], metavar="ARCH:H:T:B",
                    help="run only these cases (repeatable), e.g. lstm:256:1000:1")
    ap.add_argument("--memory", action="store_true",
                    help="only the peak-memory case (RNN H=512, T=20000, its own process)")
    a = ap.parse_args()
    if a.memory:
        print(json.dumps(peak_memory_case("rnn", 512, 20000)), flush=True)
        return
    cases = [("rnn", 64, 100, 1), ("lstm", 64, 100, 1), ("gru", 64, 100, 1)]
    if not a.quick:
        cases += [("lstm", 256, 1000, 1), ("rnn", 128, 500, 32)]
    if a.case:
        cases = [(c.split(":")[0], *map(int, c.split(":")[1:])) for c in a.case]
    rows = []
    for arch, H, T, B in cases:
        small = T * H * B <= 20_000  # milliseconds per call: more rounds against the noise
        cfg, run, t, params, xs = gradscope_case(arch, H, T, B, rounds=20 if small else 3)
        secs, p_secs, floor = t["whole"], t["P_only"], t["floor"]
        t_out, t_secs = torch_case(arch, params, xs[0], repeat=5 if small else 1)
        t_secs = None if t_secs is None else t_secs * B  # the baseline runs sequences one by one
        ours = np.array(run["series"]["log10_jacobian_norm"], dtype=float) if B == 1 else None
        rows.append({
            "case": f"{arch} H={H} T={T} B={B}", "gradscope_s": secs,
            "gradscope_P_only_s": p_secs, "chain_floor_s": floor,
            "torch_s": t_secs, "vs_floor": secs / floor,
            "speedup_vs_torch": None if t_secs is None else t_secs / secs,
            "speedup_same_numbers": None if t_secs is None else t_secs / p_secs,
            "torch_nonfinite": None if t_out is None else int((~np.isfinite(t_out)).sum()),
            "max_abs_diff_vs_torch": None if t_out is None or ours is None else
            float(np.nanmax(np.abs(np.where(np.isfinite(t_out), t_out - ours, np.nan)))),
        })
        print(json.dumps(rows[-1]), flush=True)
    machine = f"{platform.machine()} {os.cpu_count()} cores, {platform.processor() or ''}".strip()
    print("\n| case | gradscope s | ‖P_t‖ only s | chain floor s | ×floor | torch s | speed-up |"
          " speed-up, same numbers | torch -inf |")
    print("|---|---|---|---|---|---|---|---|---|")
    for r in rows:
        f = lambda v, s=".3f": "–" if v is None else format(v, s)  # noqa: E731
        print(f"| {r['case']} | {f(r['gradscope_s'])} | {f(r['gradscope_P_only_s'])} | "
              f"{f(r['chain_floor_s'])} | {f(r['vs_floor'], '.2f')} | {f(r['torch_s'])} | "
              f"{f(r['speedup_vs_torch'], '.1f')} | {f(r['speedup_same_numbers'], '.1f')} | "
              f"{f(r['torch_nonfinite'], 'd')} |")
    if a.case or a.quick:
        return  # a partial run keeps the recorded table
    Path(__file__).with_name("results-cpu.json").write_text(
        json.dumps({"machine": machine, "rows": rows}, indent=1) + "\n")


if __name__ == "__main__":
    main()
