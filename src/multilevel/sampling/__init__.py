"""NUTS configuration, chains and seeds → raw draws."""
