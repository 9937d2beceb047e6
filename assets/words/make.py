#!/usr/bin/env python3
"""Builds the ordinary-word lists in this folder from Debian's word lists.

    apt-get install wamerican wspanish && python3 assets/words/make.py

Risk detection corrects a misspelt word towards a risk word only if the word is not an ordinary word of
English or Spanish (see src/risk/spelling.rs). No word under three letters is ever corrected, so those are
left out; words are folded the way texts are (lowercase, accents and apostrophes dropped, so "couldn't" is
"couldnt" and "está" is "esta"). Possessives are dropped; names are kept, lowercased, so that "Bridget" is
never read as "bridge".
"""
import pathlib
import unicodedata

HERE = pathlib.Path(__file__).parent
SOURCES = {
    "en.txt": "/usr/share/dict/american-english",
    "es.txt": "/usr/share/dict/spanish",
}
MIN_LETTERS = 3


def fold(word: str) -> str:
    word = word.replace("'", "").replace("’", "").lower()
    decomposed = unicodedata.normalize("NFKD", word)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


for name, source in SOURCES.items():
    words = set()
    for line in pathlib.Path(source).read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if not line or line.endswith("'s"):
            continue
        folded = fold(line)
        if len(folded) >= MIN_LETTERS and folded.isascii() and folded.isalpha():
            words.add(folded)
    (HERE / name).write_text("\n".join(sorted(words)) + "\n", encoding="utf-8")
    print(f"{name}: {len(words)} words from {source}")
