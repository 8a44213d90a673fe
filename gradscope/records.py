"""The runs of a report (docs/report-schema.md): the dynamics' arrays turned into series,
spectra and a summary — per-sequence series aggregated over the batch, values computed at
non-finite states blanked, the decay fit and the mean-field theory."""

from __future__ import annotations

from typing import Any

import numpy as np

from .config import Config
from .dynamics import fit, saturation, spectrum, theory
from .io.schema import SERIES_KEYS, json_safe


def _per_sequence_series(cfg: Config, sigma_max: float, aux: dict, prop) -> dict[str, np.ndarray]:
    """Every series as a (B, n) array, or None where it does not apply."""
    deriv = aux["deriv"]
    # the seeds' bound is about the plain one-layer RNN (a dropout mask scales J_t by 1/(1-p))
    one_layer_rnn = cfg.arch == "rnn" and cfg.layers == 1 and cfg.dropout == 0
    out: dict[str, Any] = {
        "log10_jacobian_norm": prop.jacobian_norm.copy(),
        "log10_local_norm": prop.local_norm.copy(),
        "log10_loss_grad_norm": prop.loss_grad_norm.copy(),
        "log10_seed_bound": None,
        "log10_activation_deriv_product": None,
        "saturation_fraction": np.stack([saturation.saturation_fraction(d) for d in deriv]),
        "log10_cell_path_norm": None,
    }
    if one_layer_rnn:
        out["log10_seed_bound"] = np.stack([saturation.seed_bound(d, sigma_max) for d in deriv])
        out["log10_activation_deriv_product"] = np.stack(
            [saturation.activation_deriv_product(d) for d in deriv])
    if cfg.arch == "lstm":
        out["log10_cell_path_norm"] = np.stack(
            [saturation.cell_path_norm(f) for f in aux["forget"]])
    return out


def _mask_after_nonfinite(per_seq: dict, nonfinite: np.ndarray) -> None:
    """Blank what was computed at non-finite states: once s_k is NaN/inf, every J_t with
    t > k is meaningless, hence every P_t and ∂L/∂s_t with t < T. `nonfinite`: (B, T+1)."""
    for b in np.nonzero(nonfinite.any(axis=1))[0]:
        k = int(np.argmax(nonfinite[b]))
        for arr in per_seq.values():
            if arr is None:
                continue
            if arr.shape[1] == nonfinite.shape[1]:  # indexed by t = 0..T
                arr[b, : arr.shape[1] - 1] = np.nan
            else:  # indexed by t - 1, t = 1..T
                arr[b, k:] = np.nan


def _log10_batch_norm(log_norms: np.ndarray) -> np.ndarray:
    """log10 of the norm over the whole batch from per-sequence log10 norms (B, n)."""
    ln10 = np.log(10.0)
    return np.logaddexp.reduce(2 * ln10 * log_norms, axis=0) / (2 * ln10)


def _aggregate(cfg: Config, per_seq: dict) -> tuple[dict, dict | None]:
    series, std = {}, {}
    for key, arr in per_seq.items():
        if arr is None:
            series[key], std[key] = None, None
        elif key == "log10_loss_grad_norm" and cfg.loss == "batch_mean":
            series[key], std[key] = _log10_batch_norm(arr), np.zeros(arr.shape[1])
        else:
            with np.errstate(invalid="ignore"):
                series[key], std[key] = arr.mean(axis=0), arr.std(axis=0)
    return series, (std if cfg.batch > 1 else None)


def spectra(cfg: Config, params: dict) -> dict:
    """The report's `spectrum` of a run's weights (numpy; W_hh's SVD and eigenvalues)."""
    layers = [spectrum.recurrent_spectrum(params[f"weight_hh_l{k}"], cfg.arch)
              for k in range(cfg.layers)]
    out = dict(layers[0])
    if cfg.layers > 1:
        out["layers"] = layers
    return out


def _theory(cfg: Config, params: dict, xs: np.ndarray) -> float | None:
    if cfg.arch != "rnn" or cfg.layers != 1 or cfg.dropout > 0:
        return None
    drive = xs @ params["weight_ih_l0"].T + params["bias_ih_l0"] + params["bias_hh_l0"]
    return theory.theory_gain_per_step(cfg.activation, params["weight_hh_l0"], drive)


def run_record(cfg: Config, params: dict, *, xs, nonfinite, aux, prop, timings,
               lyapunov=None, depth=None, spectrum: dict | None = None) -> dict:
    """One entry of `runs` in the report (docs/report-schema.md), JSON-safe. `spectrum`: `spectra(cfg,
    params)` when the caller has it already."""
    if spectrum is None:
        spectrum = spectra(cfg, params)
    # σ_max of layer 0's W_hh (one SVD, shared with the spectrum): the seeds' bound needs it
    per_seq = _per_sequence_series(cfg, spectrum["singular_values"][0], aux, prop)
    _mask_after_nonfinite(per_seq, nonfinite)
    series, series_std = _aggregate(cfg, per_seq)
    summary = fit.summarize(series["log10_jacobian_norm"], nonfinite)
    summary["theory_log10_gain_per_step"] = _theory(cfg, params, xs)
    run = {
        "label": cfg.label(),
        "config": cfg.to_dict(),
        "state_size": cfg.state_size,
        "series": series,
        "spectrum": spectrum,
        "summary": summary,
        # natural log per step, largest first, averaged over the batch
        "lyapunov": None if lyapunov is None else np.mean(lyapunov, axis=0),
        "timings": timings,
    }
    if depth is not None:
        # stacks only: log10 ‖∂h^top_t/∂h^k_t‖ for k = 0..L-1, averaged over the batch and
        # over up to 64 evenly spaced steps (`dynamics/depth.py`)
        run["depth"] = {"log10_norm": np.mean(depth, axis=0)}
    if series_std is not None:
        run["series_std"] = series_std
    return json_safe(run)


def step_run_record(label: str, config: dict, *, prop, nonfinite, timings,
                    lyapunov=None) -> dict:
    """One run of `analyze_step` (a step of the caller's own): the series that need no
    W_hh, the summary and the Lyapunov exponents; `spectrum` is null."""
    per_seq = {k: None for k in SERIES_KEYS}
    per_seq.update(log10_jacobian_norm=prop.jacobian_norm.copy(),
                   log10_local_norm=prop.local_norm.copy(),
                   log10_loss_grad_norm=prop.loss_grad_norm.copy())
    _mask_after_nonfinite(per_seq, nonfinite)
    series, series_std = _aggregate(Config(batch=config["batch"]), per_seq)
    run = {"label": label, "config": config, "state_size": config["state_size"],
           "series": series, "spectrum": None,
           "summary": {**fit.summarize(series["log10_jacobian_norm"], nonfinite),
                       "theory_log10_gain_per_step": None},
           "lyapunov": None if lyapunov is None else np.mean(lyapunov, axis=0),
           "timings": timings}
    if series_std is not None:
        run["series_std"] = series_std
    return json_safe(run)


def spectrum_record(cfg: Config, params: dict | None, spectrum: dict | None = None) -> dict:
    """A run of the `spectrum` command: the W_hh spectra only (no dynamics, so no series and
    an empty summary). `spectrum`: `spectra(cfg, params)` when the caller has it already."""
    if spectrum is None:
        spectrum = spectra(cfg, params)
    return json_safe({"label": cfg.label(), "config": cfg.to_dict(), "state_size": cfg.state_size,
                      "series": {}, "spectrum": spectrum, "summary": {},
                      "lyapunov": None, "timings": {}})


