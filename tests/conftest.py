"""Shared test set-up: headless matplotlib, and the `notebook` and `slow` markers."""
import os

os.environ.setdefault("MPLBACKEND", "Agg")


def pytest_configure(config):
    config.addinivalue_line("markers", "notebook: executes a notebook end to end (fast mode)")
    config.addinivalue_line("markers", "slow: takes more than about 20 seconds")
    config.addinivalue_line("markers", "stack_frames: checks which frame a warning points at (mutmut's trampoline "
                                       "adds one, so make mutation deselects these)")
