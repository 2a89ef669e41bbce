"""Train the scrubber's name/address/birth-date tagger and export its model.

Pipeline (deterministic; run from the repository root with the pinned
packages of `models/tagger/requirements.txt` installed):

1. `gen_train.py` writes the training records (corpus-schema JSONL).
2. The crate's own feature code turns them into token sequences
   (`cargo run --example tagger_features`), so training and inference share
   one gate, tokenizer and feature set.
3. python-crfsuite trains a linear-chain CRF (L-BFGS, L1 + L2).
4. The weights are exported to the compact format `crates/scrub/src/tagger/model.rs`
   reads: `models/tagger/tagger.model`.

    python models/tagger/train.py                 # rebuild models/tagger/tagger.model
    python models/tagger/train.py -o /tmp/x.model # somewhere else
"""

import argparse
import struct
import subprocess
import sys
import tempfile
from pathlib import Path

import pycrfsuite

HERE = Path(__file__).resolve().parent
ROOT = HERE.parents[1]
LABELS = ["O", "PER", "ADR", "DOB"]
PARAMS = {
    "c1": 0.05,
    "c2": 0.01,
    "max_iterations": 120,
    "feature.possible_transitions": True,
}


def sequences(path: Path):
    """Token sequences from the feature dump: (features, labels) pairs."""
    xs, ys = [], []
    with path.open(encoding="ascii") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line:
                if xs:
                    yield xs, ys
                xs, ys = [], []
                continue
            label, feats = line.split("\t", 1)
            xs.append(feats.split(" "))
            ys.append(LABELS[int(label)])
    if xs:
        yield xs, ys


def export(crf_path: Path, out: Path) -> int:
    tagger = pycrfsuite.Tagger()
    tagger.open(str(crf_path))
    info = tagger.info()
    index = {label: i for i, label in enumerate(LABELS)}
    trans = [[0.0] * len(LABELS) for _ in LABELS]
    for (a, b), w in info.transitions.items():
        trans[index[a]][index[b]] = w
    rows = {}
    for (attr, label), w in info.state_features.items():
        rows.setdefault(int(attr, 16), [0.0] * len(LABELS))[index[label]] = w
    ids = sorted(rows)
    data = bytearray(b"HGTAG\0\0\x01")
    data += struct.pack("<I", len(LABELS))
    for label in LABELS:
        data += bytes([len(label)]) + label.encode()
    for row in trans:
        data += struct.pack(f"<{len(row)}f", *row)
    data += struct.pack("<I", len(ids))
    data += struct.pack(f"<{len(ids)}I", *ids)
    for i in ids:
        data += struct.pack(f"<{len(LABELS)}f", *rows[i])
    out.write_bytes(bytes(data))
    return len(ids)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("-o", "--out", type=Path, default=HERE / "tagger.model")
    a = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        data = tmp / "train.jsonl"
        subprocess.run([sys.executable, str(HERE / "gen_train.py"), str(data)], check=True)
        dump = tmp / "train.features"
        with data.open("rb") as src, dump.open("wb") as dst:
            subprocess.run(
                ["cargo", "run", "-q", "-p", "handoff-scrub", "--example", "tagger_features"],
                stdin=src, stdout=dst, check=True, cwd=ROOT,
            )
        trainer = pycrfsuite.Trainer(algorithm="lbfgs", verbose=False)
        trainer.set_params(PARAMS)
        n = 0
        for xs, ys in sequences(dump):
            trainer.append(xs, ys)
            n += 1
        crf = tmp / "tagger.crfsuite"
        trainer.train(str(crf))
        features = export(crf, a.out)
    print(f"trained on {n} sequences; {features} features; wrote {a.out} ({a.out.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
