"""The process settings of `gradscope.runtime`."""


def test_float32_products_are_full_precision_unless_tf32_is_asked_for():
    import jax

    from gradscope.runtime import configure_jax

    before = jax.config.jax_default_matmul_precision
    try:
        configure_jax()
        assert jax.config.jax_default_matmul_precision == "highest"
        configure_jax(tf32=True)
        assert jax.config.jax_default_matmul_precision == "tensorfloat32"
    finally:
        jax.config.update("jax_default_matmul_precision", before)


def test_jax_gets_its_cpu_lapack_without_importing_scipy_linalg():
    # in a fresh interpreter: this one may have imported scipy.linalg already
    import subprocess
    import sys

    code = """
import sys
import numpy as np
from gradscope.runtime import configure_jax
configure_jax("cpu")
import jax, jax.numpy as jnp
a = np.random.default_rng(0).standard_normal((6, 6)); a = a + a.T
w = jax.jit(lambda x: jnp.linalg.eigh(x)[0])(jnp.asarray(a))
q, r = jax.jit(jnp.linalg.qr)(jnp.asarray(a))
assert np.allclose(np.asarray(w), np.linalg.eigvalsh(a), atol=1e-4)
assert np.allclose(np.asarray(q) @ np.asarray(r), a, atol=1e-4)
assert "scipy.linalg" not in sys.modules, "jaxlib imported all of scipy.linalg"
import scipy.linalg
from scipy.linalg import cython_lapack
assert scipy.linalg.cython_lapack is cython_lapack
assert np.allclose(scipy.linalg.svdvals(a), np.linalg.svd(a, compute_uv=False))
print("ok")
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "ok"
