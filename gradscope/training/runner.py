"""One architecture's runs (one per clip threshold) trained chunk by chunk, measured at
checkpoints, and turned into the `train` runs of the report (docs/report-schema.md).

Progress is committed in one assignment after each chunk or checkpoint, so a Ctrl-C between
(or during) chunks leaves a consistent record of the iterations done so far.
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from .. import memory
from ..cells import cell_for, init_params
from ..config import Config
from ..dynamics.compiled import compiled
from ..dynamics.spectrum import recurrent_spectrum
from ..errors import UsageError
from ..io.schema import json_safe
from .loop import (
    CHUNK_MAX,
    EVAL_BATCH,
    JACOBIAN_BATCH,
    LoopSpec,
    evaluate,
    init_head,
    jacobian_profiles,
    train_chunk,
)
from .tasks import Batch, Task, eval_batch, train_batch

# Options of the analysis commands that `train` does not have: left out of its run configs.
NOT_TRAIN_OPTIONS = ("inputs", "h0", "weights", "loss", "lyapunov", "preset", "batch", "x64")


@dataclass(frozen=True)
class TrainSettings:
    """The training options shared by every run (`clips`: θ per run, inf = none)."""

    task: Task
    clips: tuple[float, ...]
    clip_mode: str = "norm"
    optimizer: str = "adam"
    lr: float = 1e-3
    batch_size: int = 32
    iters: int = 1000
    tbptt: int | None = None
    checkpoint_every: int = 100


class _Progress(NamedTuple):
    carry: tuple
    done: int
    loss: tuple = ()  # per chunk, (n, R)
    grad_norm: tuple = ()
    clipped: tuple = ()
    evals: tuple = ()  # (iter, loss (R,), task error (R,))
    checkpoints: tuple = ()  # (iter, log10 ‖P_t‖ (R, L+1), spectral radius (R,))


def clip_tag(theta: float, mode: str) -> str:
    """`none`, `1`, `5` (norm mode) or `value 1` (value mode)."""
    if math.isinf(theta):
        return "none"
    return f"{theta:g}" if mode == "norm" else f"value {theta:g}"


def run_label(cfg: Config, theta: float, mode: str) -> str:
    arch = f"rnn-{cfg.activation}" if cfg.arch == "rnn" and cfg.activation != "tanh" else cfg.arch
    return f"{arch} · clip {clip_tag(theta, mode)}"


def check_memory(cfg: Config, settings: TrainSettings) -> None:
    """Refuse, before allocating, a training step whose activations or batches cannot fit."""

    R, B, L = len(settings.clips), settings.batch_size, settings.task.length
    chunk = min(settings.iters, settings.checkpoint_every, CHUNK_MAX)
    D = settings.task.input_size
    # per sequence and step: the state, the gate pre-activations the backward pass keeps
    # (about three per gate unit) and the input; twice for the cotangents
    per_step = cfg.state_size + 3 * cfg.gates * cfg.hidden * cfg.layers + D
    held_out = EVAL_BATCH * L * (D + cfg.hidden + settings.task.output_size)  # inputs, h, readout
    need = 4 * (2 * R * B * (L + 1) * per_step + chunk * B * L * (D + 3) + R * held_out)
    avail = memory.available_bytes()
    if need > avail // 2:
        raise UsageError(
            f"{R} run(s) × batch {B} × {L} steps need about {need / 2**30:.1f} GiB to train, "
            f"more than half the {avail / 2**30:.1f} GiB free",
            "lower --batch-size, --steps or --hidden, or train fewer clip settings at once")


class GroupTrainer:
    """The runs of one architecture: same init, same batches, one θ each.

    **Arguments:**

    - `cfg`: the model (`arch`, `hidden`, `layers`, `init`, …, `input_size` of the task).
    - `settings`: the training options.
    """

    def __init__(self, cfg: Config, settings: TrainSettings) -> None:


        self.cfg, self.settings = cfg, settings
        self.chunk = min(settings.iters, settings.checkpoint_every, CHUNK_MAX)
        check_memory(cfg, settings)
        task = settings.task
        L = task.length
        self.step = cell_for(cfg)
        self.spec = LoopSpec(settings.optimizer, settings.clip_mode,
                             min(settings.tbptt or L, L), task.regression, cfg.layers,
                             cfg.hidden, cfg.layer_state_size)
        R = len(settings.clips)
        init = init_params(cfg) | init_head(cfg, task.output_size)
        params = {k: jnp.asarray(np.broadcast_to(v, (R, *v.shape)), jnp.float32)
                  for k, v in init.items()}
        self.lr = jnp.asarray(settings.lr, jnp.float32)
        opt_state = jax.vmap(self.spec.make_optimizer(self.lr).init)(params)
        carry = (params, opt_state, jnp.ones(R, bool), jnp.full(R, -1, jnp.int32))
        self.thetas = jnp.asarray(settings.clips, jnp.float32)
        held_out = eval_batch(task, cfg.seed, EVAL_BATCH)
        self.eval_batch = Batch(*(jnp.asarray(a) for a in held_out))
        self.jacobian_xs = held_out.xs[:JACOBIAN_BATCH]
        self.progress = _Progress(carry, 0)
        self.compile_s = 0.0
        self.run_s = 0.0

    # ------------------------------------------------------------------ training

    def run(self, progress=None) -> None:
        """Train to `iters`, evaluating at 0, every `checkpoint_every` and at the end.
        `progress(done)` is called after each chunk."""
        s = self.settings
        if not self.progress.evals:
            self._measure()
        while self.progress.done < s.iters:
            self._train_chunk()
            done = self.progress.done
            if done % s.checkpoint_every == 0 or done == s.iters:
                self._measure()
            if progress is not None:
                progress(done)

    def _batches(self, start: int, n: int):
        s = self.settings
        batches = [train_batch(s.task, self.cfg.seed, i, s.batch_size)
                   for i in range(start, start + n)]
        batches += [batches[0]] * (self.chunk - n)  # padding, skipped by the `active` flags
        stacked = Batch(*(jnp.asarray(np.stack(f)) for f in zip(*batches, strict=True)))
        active = jnp.asarray(np.arange(self.chunk) < n)
        iters = jnp.arange(start, start + self.chunk, dtype=jnp.int32)
        return stacked, active, iters

    def _train_chunk(self) -> None:

        s, p = self.settings, self.progress
        stop = min((p.done // s.checkpoint_every + 1) * s.checkpoint_every, s.iters)
        n = min(self.chunk, stop - p.done)
        args = (p.carry, self.thetas, self.lr, *self._batches(p.done, n))
        exe, compile_s = compiled(train_chunk, (self.step, self.spec), *args)
        t0 = time.perf_counter()
        carry, (loss, norm, acted) = exe(*args)
        loss, norm, acted = (np.asarray(a)[:n] for a in (loss, norm, acted))
        self.compile_s += compile_s
        self.run_s += time.perf_counter() - t0
        self.progress = p._replace(carry=carry, done=p.done + n, loss=p.loss + (loss,),
                                   grad_norm=p.grad_norm + (norm,), clipped=p.clipped + (acted,))

    def _measure(self) -> None:
        """Task error on the held-out batch, Jacobian profile and spectral radius of W_hh."""

        p = self.progress
        params = p.carry[0]
        run_eval, compile_eval = compiled(evaluate, (self.step, self.spec.forward_only()), params,
                                          self.eval_batch)
        t0 = time.perf_counter()
        loss, error = (np.asarray(a) for a in run_eval(params, self.eval_batch))
        jac, compile_jac = jacobian_profiles(self.step, params, self.jacobian_xs,
                                             self.cfg.state_size)
        w_hh = np.asarray(params["weight_hh_l0"], np.float64)
        rho = np.array([recurrent_spectrum(w, self.cfg.arch)["spectral_radius"] for w in w_hh])
        self.compile_s += compile_eval + compile_jac
        self.run_s += time.perf_counter() - t0 - compile_jac
        self.progress = p._replace(evals=p.evals + ((p.done, loss, error),),
                                   checkpoints=p.checkpoints + ((p.done, jac, rho),))

    # ------------------------------------------------------------------ results

    def weights(self, r: int) -> dict[str, np.ndarray]:
        """Run r's current weights (float32, PyTorch names, `head.*` included)."""
        return {k: np.asarray(v[r], np.float32) for k, v in self.progress.carry[0].items()}

    def records(self) -> list[dict]:
        """One report run per θ (docs/report-schema.md, `train` runs), JSON-safe."""

        p, s = self.progress, self.settings
        R = len(s.clips)

        def cat(chunks, dtype=float):
            return np.concatenate(chunks) if chunks else np.zeros((0, R), dtype)

        loss, norm, clipped = cat(p.loss), cat(p.grad_norm), cat(p.clipped, bool)
        bad = np.asarray(p.carry[3])
        timings = {"compile_s": self.compile_s, "run_s": self.run_s / R,
                   "iters_per_s": p.done / self.run_s if self.run_s > 0 else None}
        return [json_safe(self._record(r, loss[:, r], norm[:, r], clipped[:, r],
                                       None if bad[r] < 0 else int(bad[r]), timings))
                for r in range(R)]

    def _record(self, r: int, loss, norm, clipped, bad: int | None, timings: dict) -> dict:
        p, s, task = self.progress, self.settings, self.settings.task
        theta = s.clips[r]
        stopped = [bad is not None and k > bad for k, _, _ in p.evals]
        task_error = [None if x else float(e[r]) for x, (_, _, e) in zip(stopped, p.evals,
                                                                          strict=True)]
        eval_loss = [None if x else float(v[r]) for x, (_, v, _) in zip(stopped, p.evals,
                                                                        strict=True)]
        updates = p.done if bad is None else bad  # iterations whose update was applied
        final_loss = None if bad is not None or not eval_loss else eval_loss[-1]
        final_error = None if bad is not None or not task_error else task_error[-1]
        config = {k: v for k, v in self.cfg.to_dict().items() if k not in NOT_TRAIN_OPTIONS}
        config["clip"] = "none" if math.isinf(theta) else theta
        return {
            "label": run_label(self.cfg, theta, s.clip_mode),
            "config": config,
            "state_size": self.cfg.state_size,
            "series": {
                "loss": loss,
                "grad_norm": norm,
                "clipped": clipped.astype(int),
                "task_error": task_error,
                "eval_loss": eval_loss,
                "eval_iter": [k for k, _, _ in p.evals],
            },
            "checkpoints": [{"iter": k, "log10_jacobian_norm": jac[r],
                             "spectral_radius": float(rho[r])}
                            for k, jac, rho in p.checkpoints if bad is None or k <= bad],
            "summary": {
                "final_loss": final_loss,
                "final_task_error": final_error,
                "baseline_loss": task.baseline_loss,
                "clip_fraction": float(clipped[:updates].mean()) if updates else None,
                "first_nonfinite_iter": bad,
                "solved": final_error is not None and final_error < task.solved_below,
                "solved_below": task.solved_below,
                "iterations": p.done,
            },
            "timings": timings,
        }
