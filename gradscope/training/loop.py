"""The training loop: the runs of one architecture (one per clip threshold) in one jitted,
vmapped update, scanned over a chunk of iterations at a time.

Model: the project's cell (`gradscope.cells`) plus a linear readout of the top layer's h,
`head.weight` (O, H) and `head.bias` (O,). Every run of a group starts from the same
weights and sees the same batches; the runs differ only in the clip threshold θ, a traced
value (clip none is θ = inf), so one compiled program serves them all.

Divergence is a result, not a crash: the first iteration whose loss, gradient norm or
updated weights are not finite is recorded, and that run's weights (and optimizer state)
stay frozen at their last finite values from then on while the other runs go on.

Iteration i (0-based) computes the loss on the weights after i updates; an evaluation or
checkpoint at `iter` k measures the weights after k updates (k = 0 is the initial model).
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np
import optax

from ..config import Config
from ..dynamics.propagate import over_runs_and_batch, propagate
from ..dynamics.unroll import unroll
from .clipping import clip_grads
from .tasks import ADDING_WRONG_SQ_ERROR, Batch

HEAD_WEIGHT, HEAD_BIAS = "head.weight", "head.bias"
EVAL_BATCH = 256  # held-out sequences the task error is measured on
JACOBIAN_BATCH = 4  # of those, the first ones the Jacobian profile is averaged over
CHUNK_MAX = 100  # iterations per compiled chunk at most (the progress bar moves per chunk)
OPTIMIZERS = ("sgd", "adam")


@dataclass(frozen=True)
class LoopSpec:
    """What the compiled update depends on besides array shapes (static under jit).

    `tbptt` is the truncation K; K ≥ the sequence length is full backpropagation. The
    learning rate is not here: it is traced, so other rates reuse the compiled program.
    """

    optimizer: str
    clip_mode: str
    tbptt: int
    regression: bool
    layers: int
    hidden: int
    layer_width: int

    def forward_only(self) -> LoopSpec:
        """The fields a forward pass depends on (the rest blanked), so that evaluations of
        runs with other optimizers, rates or truncations share one compiled program."""
        return dataclasses.replace(self, optimizer="", clip_mode="", tbptt=1)

    def make_optimizer(self, lr) -> optax.GradientTransformation:
        """`optax.sgd(lr)` or `optax.adam(lr)`; `lr` may be a traced scalar."""
        return optax.sgd(lr) if self.optimizer == "sgd" else optax.adam(lr)


def init_head(cfg: Config, output_size: int) -> dict[str, np.ndarray]:
    """The readout: N(0, 1/H) weights and a zero bias, from the seed."""
    rng = np.random.default_rng([cfg.seed, 4])
    return {HEAD_WEIGHT: rng.standard_normal((output_size, cfg.hidden)) / np.sqrt(cfg.hidden),
            HEAD_BIAS: np.zeros(output_size)}


def cell_params(params: dict) -> dict:
    """The recurrent tensors only (what `step` and the weights files take)."""
    return {k: v for k, v in params.items() if not k.startswith("head.")}


def forward(step, spec: LoopSpec, params: dict, xs):
    """Readout at every step of one sequence `xs` (L, D) → (L, O), from s_0 = 0.

    With truncation K the gradient into the state s_t is cut wherever (L − t) is a multiple
    of K: chunks of K steps aligned to the end, so a loss at the last step reaches back
    exactly K steps. The values are those of the full forward pass.
    """
    L = xs.shape[0]
    S = spec.layers * spec.layer_width
    top = (spec.layers - 1) * spec.layer_width
    t = jnp.arange(L)
    cut = ((L - t) % spec.tbptt == 0) & (t > 0)

    def body(s, inp):
        x, c = inp
        s = jnp.where(c, jax.lax.stop_gradient(s), s)
        s2, _ = step(params, s, x)
        return s2, s2[top : top + spec.hidden]

    _, hs = jax.lax.scan(body, jnp.zeros(S, xs.dtype), (xs, cut))
    return hs @ params[HEAD_WEIGHT].T + params[HEAD_BIAS]


def loss_and_error(spec: LoopSpec, out, batch: Batch):
    """Mean loss over `loss_mask` and task error over `score_mask` of a batch of readouts
    `out` (n, L, O): MSE and squared error > 0.04 (regression), else cross-entropy (nats)
    and the argmax error rate."""
    if spec.regression:
        per = (out[..., 0] - batch.targets) ** 2
        wrong = per > ADDING_WRONG_SQ_ERROR
    else:
        logp = jax.nn.log_softmax(out)
        per = -jnp.take_along_axis(logp, batch.targets[..., None], axis=-1)[..., 0]
        wrong = jnp.argmax(out, axis=-1) != batch.targets
    loss = (per * batch.loss_mask).sum() / batch.loss_mask.sum()
    error = (wrong * batch.score_mask).sum() / batch.score_mask.sum()
    return loss, error


def batch_loss(step, spec: LoopSpec, params: dict, batch: Batch):
    out = jax.vmap(partial(forward, step, spec, params))(batch.xs)
    return loss_and_error(spec, out, batch)[0]


def _all_finite(tree) -> jax.Array:
    return jnp.all(jnp.stack([jnp.isfinite(a).all() for a in jax.tree.leaves(tree)]))


def _update(step, spec: LoopSpec, opt, carry, theta, batch: Batch, it):
    """One iteration of one run: loss, gradient, clip, update (unless the run stopped)."""
    params, opt_state, alive, bad = carry
    loss, grads = jax.value_and_grad(partial(batch_loss, step, spec))(params, batch)
    clipped, norm, acted = clip_grads(grads, theta, spec.clip_mode)
    updates, new_state = opt.update(clipped, opt_state, params)
    new_params = optax.apply_updates(params, updates)
    finite = jnp.isfinite(loss) & jnp.isfinite(norm) & _all_finite(new_params)
    ok = alive & finite

    def keep(new, old):
        return jax.tree.map(lambda a, b: jnp.where(ok, a, b), new, old)

    bad = jnp.where(alive & ~finite, it, bad)
    nan = jnp.asarray(jnp.nan, loss.dtype)
    record = (jnp.where(alive, loss, nan), jnp.where(alive, norm, nan), alive & acted)
    return (keep(new_params, params), keep(new_state, opt_state), ok, bad), record


@partial(jax.jit, static_argnums=(0, 1))
def train_chunk(step, spec: LoopSpec, carry, thetas, lr, batches: Batch, active, iters):
    """A chunk of iterations of every run: `lax.scan` over the (padded) chunk, `vmap` over
    runs. `batches` are shared by the runs, with a leading chunk axis; iterations whose
    `active` flag is off (padding) change nothing.

    **Returns:** the new carry and per-iteration (loss, grad norm, clipped), each (C, R).
    """
    opt = spec.make_optimizer(lr)
    runs = jax.vmap(partial(_update, step, spec, opt), in_axes=(0, 0, None, None))
    R = thetas.shape[0]

    def body(c, inp):
        batch, on, it = inp

        def skip(c):
            nan = jnp.full((R,), jnp.nan, batch.xs.dtype)
            return c, (nan, nan, jnp.zeros((R,), bool))

        return jax.lax.cond(on, lambda c: runs(c, thetas, batch, it), skip, c)

    return jax.lax.scan(body, carry, (batches, active, iters))


@partial(jax.jit, static_argnums=(0, 1))
def evaluate(step, spec: LoopSpec, params, batch: Batch):
    """(loss, task error) of every run (leading axis of `params`) on one batch."""

    def one(p):
        out = jax.vmap(partial(forward, step, spec, p))(batch.xs)
        return loss_and_error(spec, out, batch)

    return jax.vmap(one)(params)


@partial(jax.jit, static_argnums=0)
def _unroll_runs(step, params, s0, xs):
    return over_runs_and_batch(partial(unroll, step), 2)(params, s0, xs)[0]


def jacobian_profiles(step, params: dict, xs: np.ndarray, state_size: int
                      ) -> tuple[np.ndarray, float]:
    """log10 ‖∂s_L/∂s_t‖ (t = 0..L) of every run, averaged over the sequences `xs` (B, L, D),
    by the project's engine (`dynamics.propagate`), as `gradscope analyze` computes it.

    **Returns:** `((R, L + 1) array, compile seconds)`.
    """

    cells = cell_params(params)
    R = next(iter(cells.values())).shape[0]
    B, _, _ = xs.shape
    xs_r = jnp.broadcast_to(jnp.asarray(xs), (R, *xs.shape))
    s0 = jnp.zeros((R, B, state_size), xs_r.dtype)
    states = _unroll_runs(step, cells, s0, xs_r)
    prop = propagate(step, cells, states, xs_r, jnp.ones_like(s0), norm="spectral",
                     local=False)  # only ‖P_t‖ is shown: the ‖J_t‖ program is not run
    with np.errstate(invalid="ignore"):
        return prop.jacobian_norm.mean(axis=1), prop.compile_s
