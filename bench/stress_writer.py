#!/usr/bin/env python3
"""bench/stress_writer.py: append a pre-generated log to a file at a steady rate.

  bench/stress_writer.py SOURCE TARGET --rate LINES_PER_S [--first N] [--tick S]
                         [--seed S] [--status FILE]

Copies SOURCE to TARGET the way a busy mail server's syslog grows: the first
N lines at once, then the rest at RATE lines per second, in small writes
every TICK seconds (default 0.02). Each write ends inside a line at a random
byte, and the rest of that line comes with the next write, so a reader of
TARGET keeps meeting unfinished last lines. When SOURCE is exhausted it
stops; SIGTERM or SIGINT stop it earlier, after completing the line it was
writing, so TARGET always ends with a newline.

At the end (and every second in --status FILE, replaced atomically) it
prints "lines=L bytes=B seconds=S lines_per_s=R": lines and bytes written,
seconds since the paced part began, and the rate achieved over them (on a
busy machine the writer may not get the CPU it needs: the achieved rate is
the figure to report). Python 3 standard library only.
"""
import argparse
import os
import random
import signal
import sys
import time

stop = False


def on_signal(signum, frame):
    global stop
    stop = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("source")
    ap.add_argument("target")
    ap.add_argument("--rate", type=float, required=True, help="lines per second after --first")
    ap.add_argument("--first", type=int, default=0, help="lines written at once at the start")
    ap.add_argument("--tick", type=float, default=0.02)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--status", help="file to write the running figures to")
    args = ap.parse_args()
    if args.rate <= 0 or args.tick <= 0:
        ap.error("--rate and --tick must be positive")
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    rnd = random.Random(args.seed)

    src = open(args.source, "rb")
    fd = os.open(args.target, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
    lines = nbytes = 0
    carry = b""            # the rest of a line split by the last write

    def write(data):
        nonlocal nbytes
        view = memoryview(data)
        while view:
            n = os.write(fd, view)
            view = view[n:]
            nbytes += n

    def report(final=False):
        el = max(time.monotonic() - t0, 1e-9)
        msg = ("lines=%d bytes=%d seconds=%.2f lines_per_s=%.0f\n"
               % (lines, nbytes, el, (lines - args.first) / el if lines > args.first else 0))
        if args.status:
            tmp = args.status + ".tmp"
            with open(tmp, "w") as f:
                f.write(msg)
            os.replace(tmp, args.status)
        if final:
            sys.stdout.write(msg)

    if args.first:
        chunk = b"".join(src.readline() for _ in range(args.first))
        lines = chunk.count(b"\n")
        write(chunk)
    t0 = time.monotonic()
    due_base = lines
    last_report = t0
    eof = False
    while not stop and not eof:
        now = time.monotonic()
        due = due_base + int((now - t0) * args.rate)
        want = due - lines
        batch = []
        while want > 0:
            line = src.readline()
            if not line:
                eof = True
                break
            batch.append(line)
            want -= 1
        if batch:
            data = carry + b"".join(batch)
            lines += len(batch)
            # keep back part of the last line for the next write
            last = len(batch[-1])
            cut = rnd.randint(1, last) if last > 1 and not eof else last
            keep = last - cut
            write(data[:len(data) - keep])
            carry = data[len(data) - keep:] if keep else b""
        if now - last_report >= 1:
            last_report = now
            report()
        if not eof:
            time.sleep(args.tick)
    if carry:
        write(carry)
    os.close(fd)
    report(final=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
