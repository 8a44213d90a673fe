"""Files in and out: weights, inputs, the report schema and atomic output folders."""
