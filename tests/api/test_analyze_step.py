"""`gradscope.analyze_step` (issue 19): a step of one's own through the streamed engine.

Checked against the built-in cells (an Equinox GRU, a Flax LSTM, on the same weights),
against dense references (`jax.jacrev` at every step, dense products, SVDs), against closed
forms (minGRU: J_t = diag(1 − z_t)), and for its errors and its report.
"""

import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from jax.flatten_util import ravel_pytree

import gradscope

KEYS = ("log10_jacobian_norm", "log10_local_norm", "log10_loss_grad_norm")
LN10 = np.log(10.0)


# --------------------------------------------------------------------------- helpers


def mingru(p, h, x):
    """minGRU (Feng et al. 2024, "Were RNNs All We Needed?"): z and h̃ read x_t only, so
    J_t = ∂h_t/∂h_{t−1} = diag(1 − z_t)."""
    z = jax.nn.sigmoid(p["Wz"] @ x + p["bz"])
    h_tilde = p["Wh"] @ x + p["bh"]
    return (1 - z) * h + z * h_tilde


def mingru_params(rng, H, D, bz, wz=0.5):
    return {"Wz": wz * rng.normal(size=(H, D)), "bz": np.asarray(bz, np.float64),
            "Wh": rng.normal(size=(H, D)), "bh": rng.normal(size=H)}


def log_one_minus_z(p, xs):
    """ln(1 − z_t,i) = −softplus(W_z x_t + b_z)_i, (T, H), in float64 without rounding 1 − z."""
    return -np.logaddexp(0.0, np.asarray(xs, np.float64) @ p["Wz"].T + p["bz"])


def dense_reference(step, params, xs, s0):
    """log10 ‖P_t‖₂ (T+1), ‖J_t‖₂ (T) and ‖∂L/∂s_t‖ (T+1) for L = Σ s_T, one sequence, from
    `jax.jacrev` of the step at every step and dense products in numpy float64."""
    with jax.enable_x64(True):
        flat0, unravel = ravel_pytree(jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), s0))
        params = jax.tree.map(lambda a: jnp.asarray(a, jnp.float64), params)

        def flat(s, x):
            return ravel_pytree(step(params, unravel(s), x))[0]

        states = [flat0]
        for x in jnp.asarray(xs, jnp.float64):
            states.append(flat(states[-1], x))
        Js = np.asarray(jax.vmap(jax.jacrev(flat))(jnp.stack(states[:-1]),
                                                    jnp.asarray(xs, jnp.float64)))
    T, S = len(xs), flat0.shape[0]
    P = np.eye(S)
    jac, grad = [0.0], [np.log10(np.linalg.norm(np.ones(S)))]
    for t in range(T, 0, -1):  # P_{t-1} = P_t J_t
        P = P @ Js[t - 1]
        jac.append(np.log10(np.linalg.norm(P, 2)))
        grad.append(np.log10(np.linalg.norm(P.T @ np.ones(S))))
    local = [np.log10(np.linalg.svd(J, compute_uv=False)[0]) for J in Js]
    return np.array(jac[::-1]), np.array(local), np.array(grad[::-1])


def series(report):
    return {k: np.asarray(report.runs[0].series[k]) for k in KEYS}


def assert_series_close(got, want, atol):
    for key, ref in zip(KEYS, want, strict=True):
        assert got[key].shape == ref.shape, key
        np.testing.assert_allclose(got[key], ref, rtol=0, atol=atol, err_msg=key)


# --------------------------------------------------------------------------- other libraries


def test_equinox_gru_matches_builtin_gru(tmp_path):
    eqx = pytest.importorskip("equinox")
    H, D, T, B = 6, 3, 25, 2
    with jax.enable_x64(True):
        cell = eqx.nn.GRUCell(D, H, key=jax.random.PRNGKey(0), dtype=jnp.float64)
    # Equinox's GRUCell (its source, equinox 0.13), gates split in thirds in the order r, z, n:
    #   igates = W_ih x + bias, hgates = W_hh h
    #   r = σ(ig_r + hg_r), z = σ(ig_z + hg_z), n = tanh(ig_n + r ⊙ (hg_n + bias_n))
    #   h' = n + z ⊙ (h − n) = (1 − z) ⊙ n + z ⊙ h
    # That is PyTorch's GRU with the same weight_ih/weight_hh, bias_ih = bias (for r and z only
    # the sum of the two biases counts; b_in sits outside r ⊙ ·) and bias_hh = [0, 0, bias_n]
    # (b_hn inside r ⊙ ·).
    weights = tmp_path / "gru.npz"
    np.savez(weights, weight_ih_l0=np.asarray(cell.weight_ih),
             weight_hh_l0=np.asarray(cell.weight_hh), bias_ih_l0=np.asarray(cell.bias),
             bias_hh_l0=np.concatenate([np.zeros(2 * H), np.asarray(cell.bias_n)]))
    xs = np.random.default_rng(0).normal(size=(B, T, D))

    mine = gradscope.analyze_step(lambda c, h, x: c(x, h), cell, xs, np.zeros(H), x64=True)
    builtin = gradscope.analyze(arch="gru", hidden=H, input_size=D, steps=T, inputs=xs,
                                x64=True, weights=str(weights))

    got, want = series(mine), series(builtin)
    assert_series_close(got, [want[k] for k in KEYS], atol=1e-8)
    assert mine.runs[0].config["batch"] == B and mine.runs[0].state_size == H
    assert mine.runs[0].summary["regime"] == builtin.runs[0].summary["regime"]
    assert mine.runs[0].summary["log10_gain_per_step"] == pytest.approx(
        builtin.runs[0].summary["log10_gain_per_step"], abs=1e-8)


def test_flax_lstm_with_pytree_state_matches_builtin_lstm(tmp_path):
    nn = pytest.importorskip("flax.linen")
    H, D, T = 5, 3, 20
    rng = np.random.default_rng(1)
    cell = nn.LSTMCell(features=H, param_dtype=jnp.float64)
    with jax.enable_x64(True):
        variables = cell.init(jax.random.PRNGKey(1), (jnp.zeros(H), jnp.zeros(H)), jnp.zeros(D))
    # flax.linen.LSTMCell (its source, flax 0.12): carry (c, h); per gate a Dense on the
    # input without bias (`ii`, `if`, `ig`, `io`) and one on h with bias (`hi`, `hf`, `hg`,
    # `ho`); Dense is x @ kernel + bias, kernel (in, out), so PyTorch's W = kernelᵀ, gates in
    # PyTorch's order i, f, g, o; c' = f ⊙ c + i ⊙ g, h' = o ⊙ tanh(c'). Its biases start at
    # zero: random ones here, so that their mapping is checked too.
    p = jax.tree.map(np.asarray, variables["params"])
    for g in "ifgo":
        p["h" + g]["bias"] = 0.5 * rng.normal(size=H)
    weights = tmp_path / "lstm.npz"
    np.savez(weights, weight_ih_l0=np.concatenate([p["i" + g]["kernel"].T for g in "ifgo"]),
             weight_hh_l0=np.concatenate([p["h" + g]["kernel"].T for g in "ifgo"]),
             bias_ih_l0=np.zeros(4 * H),
             bias_hh_l0=np.concatenate([p["h" + g]["bias"] for g in "ifgo"]))
    xs = rng.normal(size=(T, D))

    def flax_lstm(variables, carry, x):
        return cell.apply(variables, carry, x)[0]  # (new_carry, out) -> new_carry

    mine = gradscope.analyze_step(flax_lstm, {"params": p}, xs, (np.zeros(H), np.zeros(H)),
                                  x64=True)
    builtin = gradscope.analyze(arch="lstm", hidden=H, input_size=D, steps=T, inputs=xs,
                                x64=True, weights=str(weights))
    # The built-in state is [h; c]; flax's carry (c, h) flattens (ravel_pytree) to [c; h]: a
    # permutation Π of the coordinates. Then P_t becomes Π P_t Πᵀ and J_t becomes Π J_t Πᵀ,
    # whose spectral norms are the same, and ∂L/∂s_t for L = Σ s_T (a sum, unchanged by Π) is
    # permuted, so its norm is too: the series must agree as they are.
    got, want = series(mine), series(builtin)
    assert_series_close(got, [want[k] for k in KEYS], atol=1e-8)
    assert mine.runs[0].state_size == 2 * H
    assert mine.runs[0].config["step"] == "flax_lstm"


# --------------------------------------------------------------------------- minGRU


def test_mingru_matches_dense_reference_and_closed_form():
    H, D, T = 4, 3, 30
    rng = np.random.default_rng(2)
    p = mingru_params(rng, H, D, bz=rng.normal(size=H))
    xs = rng.normal(size=(T, D))
    s0 = rng.normal(size=H)

    got = series(gradscope.analyze_step(mingru, p, xs, s0, x64=True))
    assert_series_close(got, dense_reference(mingru, p, xs, s0), atol=1e-9)
    # closed forms: ‖J_t‖ = max_i (1 − z_t,i); ‖P_t‖ = max_i Π_{k>t} (1 − z_k,i)
    log_a = log_one_minus_z(p, xs) / LN10
    np.testing.assert_allclose(got["log10_local_norm"], log_a.max(axis=1), rtol=0, atol=1e-12)
    tail = np.cumsum(log_a[::-1], axis=0)[::-1]  # row t: Σ_{k>t}, t = 0..T-1
    np.testing.assert_allclose(got["log10_jacobian_norm"][:-1], tail.max(axis=1), rtol=0,
                               atol=1e-9)


def test_mingru_batch_is_the_mean_of_per_sequence_log10_norms():
    H, D, T, B = 4, 3, 20, 3
    rng = np.random.default_rng(3)
    p = mingru_params(rng, H, D, bz=rng.normal(size=H), wz=1.5)
    xs = rng.normal(size=(B, T, D))
    s0 = rng.normal(size=(B, H))  # one state per sequence

    report = gradscope.analyze_step(mingru, p, xs, s0, x64=True)
    per_seq = [dense_reference(mingru, p, xs[b], s0[b]) for b in range(B)]
    want = [np.mean([ref[i] for ref in per_seq], axis=0) for i in range(len(KEYS))]
    assert_series_close(series(report), want, atol=1e-9)
    assert report.runs[0].config["batch"] == B


def test_state_dependent_pytree_step_matches_dense_reference():
    """A dict state whose Jacobian depends on the state (unlike minGRU's), shared by two
    sequences: the flattening order and the broadcast of a pytree s0 over the batch."""
    D, T = 2, 15
    rng = np.random.default_rng(4)
    p = {"W": 1.2 * rng.normal(size=(5, 5)) / np.sqrt(5), "U": rng.normal(size=(5, D))}

    def coupled(p, s, x):
        h = jnp.tanh(p["W"] @ jnp.concatenate([s["a"], s["b"]]) + p["U"] @ x)
        return {"a": h[:2], "b": h[2:]}

    s0 = {"a": rng.normal(size=2), "b": rng.normal(size=3)}
    xs = rng.normal(size=(2, T, D))
    got = series(gradscope.analyze_step(coupled, p, xs, s0, x64=True))
    per_seq = [dense_reference(coupled, p, xs[b], s0) for b in range(2)]
    want = [np.mean([ref[i] for ref in per_seq], axis=0) for i in range(len(KEYS))]
    assert_series_close(got, want, atol=1e-9)


def test_mingru_lyapunov_exponents_are_the_largest_unit_means():
    """For diagonal J_t products stay diagonal: the exponents are the K largest per-unit means
    of ln(1 − z_t,i). The largest units are not the first ones on purpose: the QR method
    started from the first K coordinate vectors would keep them and return units 1..K. The
    estimate is a finite-T one (error about ln|q|/T for the start's component q on the
    unit), hence T = 400 and 1e-2."""
    H, D, T = 4, 3, 400
    rng = np.random.default_rng(5)
    p = mingru_params(rng, H, D, bz=[2.0, 0.0, -1.0, 1.0], wz=0.3)
    xs = rng.normal(size=(T, D))
    report = gradscope.analyze_step(mingru, p, xs, np.zeros(H), x64=True, lyapunov=2)

    means = log_one_minus_z(p, xs).mean(axis=0)
    want = np.sort(means)[::-1][:2]
    assert set(np.argsort(means)[::-1][:2]) == {1, 2}  # not units 0 and 1
    got = report.runs[0].lyapunov
    assert got.shape == (2,) and got[0] >= got[1]
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-2)
    assert report.to_dict()["runs"][0]["config"]["lyapunov"] == 2


def test_long_sequence_stays_finite_on_the_log_scale_in_float32():
    """1 − z ≈ 1e-3 for T = 2000: ‖P_0‖ ≈ 1e-5800, far below float32's (and float64's)
    range, is still a finite log10 in float32."""
    H, D, T = 8, 3, 2000
    rng = np.random.default_rng(6)
    p = mingru_params(rng, H, D, bz=np.log(1e3) + 0.2 * rng.normal(size=H), wz=0.1)
    xs = rng.normal(size=(T, D)).astype(np.float32)

    report = gradscope.analyze_step(mingru, p, xs, np.zeros(H))  # float32
    jac = np.asarray(report.runs[0].series["log10_jacobian_norm"])
    assert report.runs[0].config["x64"] is False
    assert np.isfinite(jac).all() and jac.shape == (T + 1,)
    assert -7000 < jac[0] < -5000
    # ‖P_t‖ = max_i Π_{k>t} (1 − z_k,i), as a sum of logs in float64
    tail = np.cumsum(log_one_minus_z(p, xs)[::-1] / LN10, axis=0)[::-1].max(axis=1)
    np.testing.assert_allclose(jac[:-1], tail, rtol=0, atol=1e-2)
    assert report.runs[0].summary["regime"] == "vanishing"


@pytest.mark.slow  # about 5 s on two cores, nearly all of it compiling
def test_long_sequence_is_streamed():
    """The issue's T = 10⁴ at S = 512 in a few S×S matrices is not run here; T = 5000 at
    S = 8 goes through the chunked engine and reports every step."""
    H, D, T = 8, 2, 5000
    rng = np.random.default_rng(7)
    p = mingru_params(rng, H, D, bz=rng.normal(size=H))
    report = gradscope.analyze_step(mingru, p, rng.normal(size=(T, D)), np.zeros(H))
    s = report.runs[0].series
    assert len(s["log10_jacobian_norm"]) == T + 1 and len(s["log10_local_norm"]) == T
    assert len(s["log10_loss_grad_norm"]) == T + 1
    assert np.isfinite(s["log10_jacobian_norm"]).all()


# --------------------------------------------------------------------------- errors


H_ERR, T_ERR, D_ERR = 4, 6, 3


def _error_inputs():
    rng = np.random.default_rng(8)
    return (mingru_params(rng, H_ERR, D_ERR, bz=np.zeros(H_ERR)),
            rng.normal(size=(T_ERR, D_ERR)), np.zeros(H_ERR))


def wrong_size(p, h, x):
    return jnp.concatenate([mingru(p, h, x), h[:1]])  # S + 1 numbers


def wrong_shape(p, h, x):
    return mingru(p, h, x)[:, None]  # (S, 1) for a state (S,)


def uses_numpy(p, h, x):
    return np.asarray(h) * 0.5


def uses_float(p, h, x):
    return h * float(h[0])


def makes_nan(p, h, x):
    return jnp.log(h - 1.0)  # log of a negative number from finite arguments


def while_loop(p, h, x):  # no reverse-mode derivative
    return jax.lax.while_loop(lambda c: c[1] < 2,
                              lambda c: (jnp.tanh(c[0] + x[0]), c[1] + 1), (h, 0))[0]


@jax.custom_vjp
def _tanh_vjp_only(h):
    return jnp.tanh(h)


_tanh_vjp_only.defvjp(lambda h: (jnp.tanh(h), h),
                      lambda h, g: (g * (1 - jnp.tanh(h) ** 2),))


def custom_vjp(p, h, x):  # no forward-mode derivative
    return _tanh_vjp_only(0.5 * h + x[0])


def assert_one_line(err, name):
    message = str(err.value)
    assert f"analyze_step({name})" in message
    assert "\n" not in message and "\n" not in err.value.hint
    assert err.value.hint


@pytest.mark.parametrize(("step", "error", "words"), [
    (wrong_size, gradscope.UsageError, "returned 5 numbers for a state of 4"),
    (wrong_shape, gradscope.UsageError, "(4, 1)"),
    (uses_numpy, gradscope.UsageError, "tracing"),
    (uses_float, gradscope.UsageError, "tracing"),
    (makes_nan, gradscope.RunError, "NaN"),
    (while_loop, gradscope.UsageError, "differentiated"),
    (custom_vjp, gradscope.UsageError, "differentiated"),
])
def test_bad_steps_raise_one_line_errors_naming_the_step(step, error, words):
    p, xs, s0 = _error_inputs()
    with pytest.raises(error) as err:
        gradscope.analyze_step(step, p, xs, s0)
    assert isinstance(err.value, gradscope.GradscopeError)
    assert words in str(err.value)
    assert_one_line(err, step.__name__)


def test_pytree_output_with_leaves_of_other_shapes_is_refused():
    def swapped(p, s, x):
        return {"a": s["b"], "b": s["a"]}  # 5 numbers for 5, but shapes (3,), (2,)

    with pytest.raises(gradscope.UsageError) as err:
        gradscope.analyze_step(swapped, None, np.zeros((3, 2)),
                               {"a": np.zeros(2), "b": np.zeros(3)})
    assert_one_line(err, "swapped")


def test_label_names_the_step_in_errors():
    p, xs, s0 = _error_inputs()
    with pytest.raises(gradscope.GradscopeError) as err:
        gradscope.analyze_step(uses_numpy, p, xs, s0, label="mystep")
    assert_one_line(err, "mystep")
    with pytest.raises(gradscope.GradscopeError) as err:
        gradscope.analyze_step(lambda p, h, x: np.asarray(h), p, xs, s0)
    assert_one_line(err, "<lambda>")


@pytest.mark.parametrize("where", ["xs", "s0"])
def test_nan_in_arguments_is_refused(where):
    p, xs, s0 = _error_inputs()
    if where == "xs":
        xs[2, 1] = np.nan
    else:
        s0[0] = np.inf
    with pytest.raises(gradscope.UsageError) as err:
        gradscope.analyze_step(mingru, p, xs, s0)
    assert f"{where} holds NaN or inf" in str(err.value)
    assert_one_line(err, "mingru")


@pytest.mark.parametrize("options", [{"lyapunov": 5}, {"norm": "nuclear"}])
def test_bad_options_name_the_step(options):
    p, xs, s0 = _error_inputs()
    with pytest.raises(gradscope.UsageError) as err:
        gradscope.analyze_step(mingru, p, xs, s0, **options)
    assert_one_line(err, "mingru")


# --------------------------------------------------------------------------- the report


def test_report_dict_json_and_folder(tmp_path):
    H, D, T = 4, 2, 12
    rng = np.random.default_rng(9)
    p = mingru_params(rng, H, D, bz=rng.normal(size=H))
    done = []
    report = gradscope.analyze_step(mingru, p, rng.normal(size=(T, D)), np.zeros(H),
                                    label="my cell", progress=lambda k, n: done.append((k, n)))
    assert done and done[-1] == (T, T)

    d = report.to_dict()
    assert d["command"] == "analyze_step" and d["schema"] == "gradscope.report/1"
    run = d["runs"][0]
    assert run["label"] == "my cell" and run["config"]["step"] == "my cell"
    assert run["spectrum"] is None and run["lyapunov"] is None and run["state_size"] == H
    assert run["series"]["log10_seed_bound"] is None
    assert json.loads(report.to_json()) == json.loads(json.dumps(d))
    again = gradscope.Report(json.loads(report.to_json()))
    np.testing.assert_array_equal(again.runs[0].series["log10_jacobian_norm"],
                                  report.runs[0].series["log10_jacobian_norm"])

    out = report.write(tmp_path / "out")
    for name in ("report.json", "report.md", "report.html", "plots/jacobian_norm.png"):
        assert (out / name).is_file(), name
    assert gradscope.load(out).to_dict()["command"] == "analyze_step"


def test_a_second_call_with_the_same_step_reuses_its_compiled_programs():
    # the same step function and structures, other values: nothing is compiled again
    import jax.numpy as jnp

    def step(p, h, x):
        return jnp.tanh(p["w"] @ h + x)

    xs = np.zeros((12, 3))  # the state stays 0: J_t = W, so ‖P_0‖ = a^12 for W = a·I
    first = gradscope.analyze_step(step, {"w": 0.9 * np.eye(3)}, xs, np.zeros(3))
    again = gradscope.analyze_step(step, {"w": 0.5 * np.eye(3)}, xs, np.zeros(3))
    assert first.runs[0].to_dict()["timings"]["compile_s"] > 0
    assert again.runs[0].to_dict()["timings"]["compile_s"] == 0
    for report, a in ((first, 0.9), (again, 0.5)):
        assert report.runs[0].series["log10_jacobian_norm"][0] == pytest.approx(
            12 * np.log10(a), abs=1e-4)
