"""ModelSpec → NumPyro model and log density. The only package that knows NumPyro."""
