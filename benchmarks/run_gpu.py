"""GPU benchmarks (issue 7's GPU targets), all measured in this one process; writes
benchmarks/results-gpu.json (results-gpu-tf32.json with --tf32).

    python benchmarks/run_gpu.py                    # on a machine with JAX for CUDA
    python benchmarks/run_gpu.py --platform cpu --smoke   # tiny sizes: checks the script

- LSTM H=256, T=1000: one analysis after compilation (the whole `analyze` call, and ‖P_t‖
  alone), the chain floor on the same device, and the PyTorch baseline on the same device.
- Many seeds in one call: an RNN H=128, T=500 for 256 seeds through one vmapped analysis;
  the rate of its product chain (2·T·S³ flops per seed, over the time of the ‖P_t‖-only
  call, which also runs the forward pass, the norms and the loss gradient: a lower bound)
  against the device's float32 matmul rate measured here (a 4096² product at full
  precision, or TF32 with --tf32).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
from pathlib import Path

import numpy as np
from run_cpu import best_of, gradscope_case

os.environ.setdefault("GRADSCOPE_NO_CACHE", "1")
# JAX would reserve 75 % of the GPU's memory up front; the PyTorch baseline shares the device
os.environ.setdefault("XLA_PYTHON_CLIENT_PREALLOCATE", "false")


def matmul_rate(n: int, repeat: int) -> float:
    """float32 flop/s of an n×n product at the configured matmul precision."""
    import jax
    import jax.numpy as jnp

    a = jax.random.normal(jax.random.PRNGKey(1), (n, n), jnp.float32)
    mm = jax.jit(lambda x: x @ x)
    mm(a).block_until_ready()
    return 2 * n**3 / best_of(lambda: mm(a).block_until_ready(), repeat)


def seeds_case(arch: str, H: int, T: int, seeds: int, repeat: int) -> dict:
    """One call for all seeds: the whole analysis, and ‖P_t‖ alone (whose rate is compared
    with the matmul rate: the report's numbers, W_hh spectra by numpy, are host work)."""
    from gradscope.config import Config
    from gradscope.pipeline import analyze_group, jacobian_norms

    cfgs = [Config(arch=arch, hidden=H, steps=T, seed=s) for s in range(seeds)]
    analyze_group(cfgs)  # compiles
    secs = best_of(lambda: analyze_group(cfgs), repeat)
    jacobian_norms(cfgs)
    p_secs = best_of(lambda: jacobian_norms(cfgs), repeat)
    S = cfgs[0].state_size
    return {"case": f"{arch} H={H} T={T} × {seeds} seeds", "analysis_s": secs,
            "P_only_s": p_secs, "chain_flop_rate": seeds * 2 * T * S**3 / p_secs}


def torch_device_case(arch: str, params: dict, xs: np.ndarray, device: str, repeat: int):
    try:
        import torch
        from torch_baseline import log10_jacobian_norms
    except ImportError:
        return None, None
    if device == "cuda" and not torch.cuda.is_available():  # a CPU-only torch build
        return None, None
    out, secs = None, []
    for _ in range(repeat):
        out, s = log10_jacobian_norms(arch, params, xs, device=device)
        secs.append(s)
    return out, min(secs)


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--platform", default="gpu", choices=["gpu", "cpu"])
    ap.add_argument("--tf32", action="store_true", help="TF32 matmuls (default: full float32)")
    ap.add_argument("--smoke", action="store_true", help="tiny sizes, to check the script")
    a = ap.parse_args()
    from gradscope.runtime import configure_jax

    configure_jax(a.platform, a.tf32)
    import jax

    device = jax.devices()[0]
    lstm = ("lstm", 16, 20) if a.smoke else ("lstm", 256, 1000)
    seeds = ("rnn", 16, 20, 4) if a.smoke else ("rnn", 128, 500, 256)
    repeat = 2 if a.smoke else 5

    arch, H, T = lstm
    cfg, run, t, params, xs = gradscope_case(arch, H, T, 1, repeat)
    secs, p_secs, floor = t["whole"], t["P_only"], t["floor"]
    torch_dev = "cuda" if a.platform == "gpu" else "cpu"
    t_out, t_secs = torch_device_case(arch, params, xs[0], torch_dev, 2 if a.smoke else 3)
    ours = np.array(run["series"]["log10_jacobian_norm"], dtype=float)
    single = {
        "case": f"{arch} H={H} T={T}", "gradscope_s": secs, "gradscope_P_only_s": p_secs,
        "chain_floor_s": floor, "torch_s": t_secs,
        "speedup_vs_torch": None if t_secs is None else t_secs / secs,
        "speedup_same_numbers": None if t_secs is None else t_secs / p_secs,
        "torch_nonfinite": None if t_out is None else int((~np.isfinite(t_out)).sum()),
        "max_abs_diff_vs_torch": None if t_out is None else
        float(np.nanmax(np.abs(np.where(np.isfinite(t_out), t_out - ours, np.nan)))),
    }
    print(json.dumps(single), flush=True)
    many = seeds_case(*seeds, repeat=2 if a.smoke else 3)
    rate = matmul_rate(256 if a.smoke else 4096, repeat)
    many["fraction_of_matmul_rate"] = many["chain_flop_rate"] / rate
    print(json.dumps(many), flush=True)

    f = lambda v, s=".4f": "–" if v is None else format(v, s)  # noqa: E731
    print(f"\ndevice: {device.device_kind} ({device.platform}), matmul precision "
          f"{'tf32' if a.tf32 else 'highest'}, matmul rate {rate / 1e12:.2f} TFLOP/s")
    print("| case | gradscope s | ‖P_t‖ only s | chain floor s | torch s | speed-up |"
          " speed-up, same numbers | torch -inf |")
    print("|---|---|---|---|---|---|---|---|")
    print(f"| {single['case']} | {f(secs)} | {f(p_secs)} | {f(floor)} | {f(t_secs)} | "
          f"{f(single['speedup_vs_torch'], '.1f')} | {f(single['speedup_same_numbers'], '.1f')} | "
          f"{f(single['torch_nonfinite'], 'd')} |")
    print(f"\n{many['case']}: {many['analysis_s']:.3f} s (‖P_t‖ alone {many['P_only_s']:.3f} s), "
          f"chain at "
          f"{many['chain_flop_rate'] / 1e12:.3f} TFLOP/s = "
          f"{many['fraction_of_matmul_rate']:.0%} of the matmul rate")
    if a.smoke or a.platform != "gpu":
        return  # only real GPU runs are recorded (run_cpu.py keeps the CPU table)
    Path(__file__).with_name(f"results-gpu{'-tf32' if a.tf32 else ''}.json").write_text(
        json.dumps({"machine": f"{platform.machine()}, {device.device_kind}",
                    "matmul_rate": rate, "rows": [single, many]}, indent=1) + "\n")


if __name__ == "__main__":
    main()
