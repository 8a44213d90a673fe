"""json_safe: plain Python values for the report, NaN/±inf as None, element by element."""

import json
import math

import numpy as np
import pytest

from gradscope.io.schema import json_safe


def _reference(obj):
    # the definition, one element at a time
    if isinstance(obj, dict):
        return {str(k): _reference(v) for k, v in obj.items()}
    if isinstance(obj, np.ndarray):
        return _reference(obj.tolist())
    if isinstance(obj, (list, tuple)):
        return [_reference(v) for v in obj]
    if isinstance(obj, (float, np.floating)):
        return float(obj) if math.isfinite(obj) else None
    if isinstance(obj, (np.integer, np.bool_)):
        return obj.item()
    return obj


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.int32, np.int64, np.bool_])
@pytest.mark.parametrize("shape", [(), (0,), (7,), (3, 5), (2, 3, 4)])
def test_arrays_convert_like_element_by_element(dtype, shape):
    rng = np.random.default_rng(len(shape))
    a = (rng.standard_normal(shape) * 1e3).astype(dtype)
    if a.dtype.kind == "f" and a.size:
        flat = a.reshape(-1)
        flat[:: 3] = np.nan
        flat[1:: 4] = np.inf
        flat[2:: 5] = -np.inf
    got, want = json_safe(a), _reference(a)
    assert got == want or (got is None and want is None)
    assert json.dumps(got, allow_nan=False) == json.dumps(want, allow_nan=False)
    types = {type(v) for v in np.array(got, dtype=object).reshape(-1)} if shape else {type(got)}
    assert types <= {float, int, bool, type(None)}


def test_nested_reports_and_scalars():
    obj = {"a": [np.float32(1.5), np.float64(np.nan), (np.int64(3), np.bool_(True))],
           1: {"b": np.array([[1.0, -np.inf]]), "c": "text", "d": None}}
    assert json_safe(obj) == {"a": [1.5, None, [3, True]],
                              "1": {"b": [[1.0, None]], "c": "text", "d": None}}
