"""Configure JAX before it starts: parallel CPU devices for chains, persistent compilation cache.

Imported first by the package. Parallel chains need one XLA host device per chain, which
can only be set before JAX creates its CPU backend; if JAX was already started by the
caller, chains run vectorized on the devices that exist and the fit records that fallback.
"""

from __future__ import annotations

import os
import sys

WANTED_DEVICES = max(4, os.cpu_count() or 1)
_FLAG = "--xla_force_host_platform_device_count"


def _jax_backend_started() -> bool:
    if "jax" not in sys.modules:
        return False
    try:
        from jax._src import xla_bridge

        return bool(getattr(xla_bridge, "_backends", {}))
    except Exception:  # pragma: no cover - private API moved
        return True


if not _jax_backend_started() and _FLAG not in os.environ.get("XLA_FLAGS", ""):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" {_FLAG}={WANTED_DEVICES}").strip()


def cache_directory() -> str:
    base = os.environ.get("MULTILEVEL_CACHE_DIR")
    if base:
        return base
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "multilevel", "jax")


def enable_compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache (once). Returns the directory, or None if disabled."""
    if os.environ.get("MULTILEVEL_NO_COMPILATION_CACHE"):
        return None
    import jax

    directory = cache_directory()
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return None
    if jax.config.jax_compilation_cache_dir != directory:
        jax.config.update("jax_compilation_cache_dir", directory)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
    return directory
