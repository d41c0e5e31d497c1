#!/usr/bin/env python3
"""Latency of making one small record durable on the disk of DIR, three ways:

  append     pwrite at the end of the file, then fdatasync (what a Herald block file does)
  overwrite  pwrite into blocks written and synced before, then fdatasync (no size change)
  dsync      the same overwrite through O_DSYNC (one syscall)

Usage: bench/fsync_probe.py [DIR] [--ops N] [--size B]  (defaults: ., 2000, 180)
Prints p50/p99/mean in microseconds per mode. The floor for a durable synchronous publish is
the round trip plus the lowest of these (docs/performance.md)."""
import argparse
import os
import statistics
import time


def probe(path, mode, ops, size):
    flags = os.O_RDWR | os.O_CREAT | os.O_TRUNC | (os.O_DSYNC if mode == "dsync" else 0)
    fd = os.open(path, flags, 0o644)
    record = b"x" * size
    try:
        if mode != "append":
            os.write(fd, b"\0" * (ops * size + 4096))
            os.fsync(fd)
        samples = []
        for i in range(ops):
            start = time.perf_counter()
            os.pwrite(fd, record, i * size)
            if mode != "dsync":
                os.fdatasync(fd)
            samples.append((time.perf_counter() - start) * 1e6)
    finally:
        os.close(fd)
        os.unlink(path)
    samples.sort()
    return samples[len(samples) // 2], samples[int(len(samples) * 0.99)], statistics.mean(samples)


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("dir", nargs="?", default=".")
    parser.add_argument("--ops", type=int, default=2000)
    parser.add_argument("--size", type=int, default=180)
    args = parser.parse_args()
    path = os.path.join(args.dir, f"fsync-probe-{os.getpid()}")
    for mode in ("append", "overwrite", "dsync"):
        p50, p99, mean = probe(path, mode, args.ops, args.size)
        print(f"{mode:9} p50 {p50:6.1f} us  p99 {p99:6.1f} us  mean {mean:6.1f} us")


if __name__ == "__main__":
    main()
