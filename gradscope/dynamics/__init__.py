"""Pure, jitted functions of arrays: unroll, local Jacobians, propagation products, spectra,
the seeds' quantities, fits and theory. Python here only decides shapes."""
