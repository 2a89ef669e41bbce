"""Write the unseen-name list the tagger is measured on: names from Faker
locales that are in none of the tagger's vocabulary lists, none of the
development corpus's locales and none of the training generators' locales
(African, South and Central Asian, Icelandic, Irish, and romanised Japanese
and Chinese names). `cargo test --test it corpus::unseen` swaps them for the
person values of the development corpus and reports how many are found.

Faker (https://github.com/joke2k/faker, MIT) is the source; attribution in
`tests/data/NOTICE`. Deterministic (seeded, sorted). Run from the repository
root with the pinned packages of `models/tagger/requirements.txt`:

    python models/tagger/unseen_names.py > tests/data/unseen_names.txt
"""

import re
import sys
from pathlib import Path

from faker import Faker

ROOT = Path(__file__).resolve().parents[2]
LISTS = [ROOT / "crates/scrub/src/tagger/vocab/first.txt", ROOT / "crates/scrub/src/tagger/vocab/last.txt",
         ROOT / "crates/scrub/src/names/first.txt"]
LATIN = ["en_KE", "en_NG", "en_PK", "en_TH", "az_AZ", "ga_IE", "ha_NG", "ig_NG", "is_IS", "sw",
         "tw_GH", "uz_UZ", "yo_NG", "zu_ZA"]
ROMANISED = ["ja_JP", "zh_CN"]
PER_LOCALE = 60
WORD = re.compile(r"[^\W\d_]{2,}")


def main() -> None:
    known = set()
    for path in LISTS:
        known |= {w.lower() for w in path.read_text(encoding="utf-8").split()}
    names = set()
    for loc in LATIN + ROMANISED:
        fake = Faker(loc)
        fake.seed_instance(11)
        for _ in range(PER_LOCALE):
            if loc in ROMANISED:
                first, last = fake.first_romanized_name(), fake.last_romanized_name()
            else:
                first, last = fake.first_name(), fake.last_name()
            if all(WORD.fullmatch(w) and w.lower() not in known for w in (first, last)):
                names.add(f"{first} {last}")
    sys.stdout.write("".join(n + "\n" for n in sorted(names)))


if __name__ == "__main__":
    main()
