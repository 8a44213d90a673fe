"""How much memory this process may still use: every size check before a large allocation
asks here (a test can pretend there is less)."""

from __future__ import annotations


def available_bytes() -> int:
    """Memory this process may still use (MemAvailable; a large default where unknown)."""
    try:
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 8 * 2**30
