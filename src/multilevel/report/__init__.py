"""Text reports, progress display and the command line."""
