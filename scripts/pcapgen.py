"""The command line shared by the seeded capture generators (gen-pcaps.py,
gen-threshold-pcaps.py): OUTDIR [NAME ...], one file NAME.pcap per capture,
each from its own random stream so that adding a capture never changes
another."""

import random
import sys
from pathlib import Path


def run(argv, generators, seed, doc, prog):
    if len(argv) < 2 or argv[1] in ("-h", "--help"):
        print(doc)
        return 0 if len(argv) >= 2 else 2
    out = Path(argv[1])
    out.mkdir(parents=True, exist_ok=True)
    names = argv[2:] or list(generators)
    for name in names:
        if name not in generators:
            print(f"{prog}: unknown capture '{name}' (known: {', '.join(generators)})", file=sys.stderr)
            return 2
        generators[name](out / f"{name}.pcap", random.Random(f"{seed}-{name}"))
    return 0
