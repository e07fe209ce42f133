"""How long loading the 400 ORL faces takes, cold and warm.

Run from the repository root with the faces available (see data/README.md):

    .venv/bin/python benchmarks/load_faces.py [--repeats 10]

"Cold" is the first call in a fresh process (it imports scikit-image);
"warm" calls repeat it. Each call reads and parses the 400 PGM files, checks
their SHA-256, and resizes them to 64 x 64 with anti-aliasing.
"""

import argparse
import statistics
import time

from vaeface_utils.data import load_faces


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=10)
    args = parser.parse_args()

    start = time.perf_counter()
    faces = load_faces()
    cold = time.perf_counter() - start
    print(f"data: {faces.description}")
    print(f"cold (first call, includes imports): {cold * 1000:7.1f} ms")
    for verify in (True, False):
        times = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            load_faces(verify=verify)
            times.append(time.perf_counter() - start)
        label = "warm, checksums on " if verify else "warm, checksums off"
        print(f"{label}: median {statistics.median(times) * 1000:7.1f} ms, "
              f"min {min(times) * 1000:7.1f} ms over {args.repeats} calls")


if __name__ == "__main__":
    main()
