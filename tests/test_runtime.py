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
