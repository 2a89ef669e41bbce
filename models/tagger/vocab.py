"""Extract the tagger's name and street vocabularies from Faker's locale data.

Faker (https://github.com/joke2k/faker) is MIT-licensed; the extracted word
lists are data from its `person` and `address` providers, attributed in
`crates/scrub/src/tagger/vocab/NOTICE`. Deterministic: sorted, de-duplicated,
lower-cased. Run from the repository root:

    python models/tagger/vocab.py crates/scrub/src/tagger/vocab
"""

import importlib
import sys
import unicodedata
from pathlib import Path

# The 24 locales of the development corpus plus a few more of the same scripts.
LOCALES = [
    "en_US", "en_GB", "en_IE", "en_AU", "en_CA", "en_IN", "de_DE", "de_AT", "de_CH",
    "fr_FR", "fr_CA", "fr_CH", "it_IT", "es_ES", "es_MX", "es_AR", "es_CO", "pt_BR", "pt_PT",
    "nl_NL", "nl_BE", "pl_PL", "sv_SE", "da_DK", "fi_FI", "cs_CZ", "sk_SK", "tr_TR",
    "no_NO", "ro_RO", "hu_HU", "hr_HR", "sl_SI", "et_EE", "lv_LV", "lt_LT", "en_NZ",
    "en_PH", "id_ID", "vi_VN", "fil_PH",
]


def words(value):
    """The single words of a Faker list, tuple or weighted dict."""
    items = value.keys() if isinstance(value, dict) else value
    for item in items:
        if not isinstance(item, str):
            continue
        for w in item.replace("-", " ").split():
            w = unicodedata.normalize("NFC", w.strip(".,'()")).lower()
            if len(w) >= 2 and all(c.isalpha() or c == "'" for c in w):
                yield w


def provider(kind, loc):
    try:
        return importlib.import_module(f"faker.providers.{kind}.{loc}").Provider
    except ModuleNotFoundError:
        return None


def main(out: Path) -> None:
    first, last, street = set(), set(), set()
    for loc in LOCALES:
        p = provider("person", loc)
        if p is not None:
            for attr in ("first_names", "first_names_male", "first_names_female"):
                first.update(words(getattr(p, attr, ())))
            for attr in ("last_names", "last_names_male", "last_names_female"):
                last.update(words(getattr(p, attr, ())))
        a = provider("address", loc)
        if a is not None:
            for attr in ("street_suffixes", "street_prefixes", "street_suffixes_long",
                         "street_suffixes_short", "street_prefixes_long", "street_prefixes_short",
                         "street_titles", "secondary_address_formats_words"):
                street.update(words(getattr(a, attr, ())))
    out.mkdir(parents=True, exist_ok=True)
    for name, items in (("first.txt", first), ("last.txt", last), ("street.txt", street)):
        data = "".join(w + "\n" for w in sorted(items))
        (out / name).write_text(data, encoding="utf-8")
        print(f"{name}: {len(items)} words")


if __name__ == "__main__":
    main(Path(sys.argv[1]))
