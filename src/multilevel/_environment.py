"""Configure JAX before it starts: parallel CPU devices for chains, persistent compilation cache.

Imported first by the package. Parallel chains need one XLA host device per chain, which
can only be set before JAX creates its CPU backend; if JAX was already started by the
caller, chains run vectorized on the devices that exist and the fit records that fallback.

Only what the user has not set is set, and each can be turned off:

- ``XLA_FLAGS``: ``--xla_force_host_platform_device_count`` is added unless the variable already
  names it, JAX has started, or ``MULTILEVEL_NO_XLA_FLAGS`` is set (chains then run vectorized);
- the persistent compilation cache (at the first fit, not at import): our folder unless JAX already
  has one (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``), which is then used as it is; none with
  ``MULTILEVEL_NO_COMPILATION_CACHE``.
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


if (not os.environ.get("MULTILEVEL_NO_XLA_FLAGS") and not _jax_backend_started()
        and _FLAG not in os.environ.get("XLA_FLAGS", "")):
    os.environ["XLA_FLAGS"] = (os.environ.get("XLA_FLAGS", "") + f" {_FLAG}={WANTED_DEVICES}").strip()


def cache_directory() -> str:
    base = os.environ.get("MULTILEVEL_CACHE_DIR")
    if base:
        return base
    root = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return os.path.join(root, "multilevel", "jax")


def enable_compilation_cache() -> str | None:
    """Turn on JAX's persistent compilation cache (once). Returns the directory, or None if disabled.

    A cache the user gave JAX (``JAX_COMPILATION_CACHE_DIR`` or ``jax.config``) is kept as it is."""
    if os.environ.get("MULTILEVEL_NO_COMPILATION_CACHE"):
        return None
    import jax

    current = jax.config.jax_compilation_cache_dir
    if current and current != _ours.get("directory"):
        _replace_damaged_entries(current)
        return current
    directory = cache_directory()
    try:
        os.makedirs(directory, exist_ok=True)
    except OSError:
        return None
    if current != directory:
        jax.config.update("jax_compilation_cache_dir", directory)
        jax.config.update("jax_persistent_cache_min_compile_time_secs", 0.0)
        jax.config.update("jax_persistent_cache_min_entry_size_bytes", 0)
        _ours["directory"] = directory
    _replace_damaged_entries(directory)
    return directory


_ours: dict[str, str] = {}


def _replace_damaged_entries(directory: str) -> None:
    """JAX survives an unreadable cache entry (a truncated file: it warns and compiles) but keeps the entry,
    and its writer never overwrites one, so every later process would warn and compile again. Wrap its
    reader so that an entry that cannot be read is deleted; the fresh compilation then takes its place."""
    try:
        from jax._src import compilation_cache
    except ImportError:  # pragma: no cover - private module moved: JAX's own behaviour stays
        return
    reader = getattr(compilation_cache, "get_executable_and_time", None)
    if reader is None or getattr(reader, "_multilevel_wrapped", False):
        return

    def read_or_discard(cache_key, *args, **kwargs):
        try:
            return reader(cache_key, *args, **kwargs)
        except Exception:
            folder = compilation_cache_folder() or directory
            for suffix in ("-cache", "-atime"):
                try:
                    os.unlink(os.path.join(folder, f"{cache_key}{suffix}"))
                except OSError:
                    pass
            raise

    read_or_discard._multilevel_wrapped = True  # type: ignore[attr-defined]
    compilation_cache.get_executable_and_time = read_or_discard


def compilation_cache_folder() -> str | None:
    import jax

    return jax.config.jax_compilation_cache_dir


def load_numpyro() -> None:
    """Make ``numpyro`` in ``sys.modules`` the real package before any of its submodules is imported.

    ``arviz_base`` (imported by ``arviz_stats`` and ``arviz_plots``) registers a lazy stand-in for
    numpyro (``lazy_loader.load``) when it is imported; a ``import numpyro.distributions`` through that
    stand-in then fails inside NumPyro ("module 'numpyro.distributions' has no attribute 'distribution'"),
    so a user who imported ArviZ before this package could not fit. Touching an attribute loads it."""
    import numpyro

    numpyro.__version__  # noqa: B018  (the attribute access is what loads a lazy module)
