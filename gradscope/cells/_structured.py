"""Local Jacobians of one layer at O(G·H²) cost, from the split `s' = post(W_hh h + b_hh, s, x)`.

`post` acts unit by unit (see `_cells.py`), so J_t = ∂s'/∂s has this form, with O blocks of
H in the state (O = 2 for the LSTM's [h; c], 1 otherwise) and G gate blocks in W_hh:

    J[o, 0] = Σ_g diag(C[g, o]) W_g + diag(D[0, o])      (the h columns: dense)
    J[o, b] = diag(D[b, o])                               (b ≥ 1, the c columns: diagonal)

C[g, o, u] = ∂post_{o,u}/∂(W_hh h + b_hh)_{g,u} and D[b, o, u] = ∂post_{o,u}/∂s_{b,u} are
unit-wise partial derivatives. Because `post` does not mix units, one JVP with a tangent that
is 1 on a whole block gives all H of them at once (G + O JVPs of O(S) each).

Multiplying by J then costs what the dense columns cost: `P @ J` is 2·S²·H flops, half of a
dense S×S product for the LSTM, and a third of pulling P's rows back through the VJP of a GRU
(whose gate cotangents are 3H wide). `jax.jacrev` of the step is the independent reference
(tests/cells/test_structured.py).
"""

from __future__ import annotations

import jax
import jax.numpy as jnp

from ._cells import recurrent


def unitwise_coefficients(post, p, s, x):
    """`(C, D)`: the unit-wise partial derivatives C (G, O, H) and D (O, O, H) of the module
    docstring, from G + O JVPs of `post`."""
    H = p["w_hh"].shape[1]
    G, O = p["w_hh"].shape[0] // H, s.shape[0] // H
    gh = recurrent(p, s)
    lin = jax.linearize(lambda gh_, s_: post(p, gh_, s_, x)[0], gh, s)[1]

    def blocks(n):  # row k is 1 on block k, 0 elsewhere
        return jnp.repeat(jnp.eye(n, dtype=s.dtype), H, axis=1)

    C = jax.vmap(lambda t: lin(t, jnp.zeros_like(s)))(blocks(G)).reshape(G, O, H)
    D = jax.vmap(lambda t: lin(jnp.zeros_like(gh), t))(blocks(O)).reshape(O, O, H)
    return C, D


def unitwise_jacobian(post, p, s, x):
    """`(cols, tail)`: J's first H columns (S, H) and its diagonal blocks (O-1, O, H), where
    `tail[b-1, o]` is the diagonal of block (o, b) (see the module docstring)."""
    C, D = unitwise_coefficients(post, p, s, x)
    G, O, H = C.shape
    W = p["w_hh"].reshape(G, H, H)
    # sums written out over the few blocks: XLA's CPU reductions over a middle axis are slow
    cols = sum(C[g][:, :, None] * W[g][None] for g in range(G))  # (O, H, H)
    u = jnp.arange(H)
    cols = cols.at[:, u, u].add(D[0])
    return cols.reshape(O * H, H), D[1:]


def unitwise_products(w_hh, C, D):
    """`(J @ v, w @ J)` as functions, from the coefficients of `unitwise_coefficients` and
    W_hh (G·H, H): O(G·H²) each, with W_hh shared (so batched products are matrix products)."""
    G, O, H = C.shape

    def matvec(v):
        Wv = (w_hh @ v[:H]).reshape(G, H)
        blocks = v.reshape(O, H)
        return jnp.concatenate([sum(C[g, o] * Wv[g] for g in range(G))
                                + sum(D[b, o] * blocks[b] for b in range(O))
                                for o in range(O)])

    def rmatvec(w):
        blocks = w.reshape(O, H)
        gates = jnp.concatenate([sum(C[g, o] * blocks[o] for o in range(O)) for g in range(G)])
        diag = [sum(D[b, o] * blocks[o] for o in range(O)) for b in range(O)]
        return jnp.concatenate([gates @ w_hh + diag[0], *diag[1:]])

    return matvec, rmatvec


def times_jacobian(P, cols, tail):
    """`P @ J` for J given as `(cols, tail)` by `unitwise_jacobian`; P is (n, S)."""
    first = P @ cols
    if tail.shape[0] == 0:
        return first
    H, O = cols.shape[1], tail.shape[1]
    blocks = [P[:, o * H : (o + 1) * H] for o in range(O)]
    rest = [sum(blocks[o] * tail[b, o] for o in range(O)) for b in range(O - 1)]
    return jnp.concatenate([first, *rest], axis=1)
