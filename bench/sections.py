"""BENCHMARKS.md is written by bench/run.py whole, then each other bench
script puts its own section in it between its markers."""
import os

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def write_section(begin: str, end: str, section: str) -> None:
    """Replaces the text between `begin` and `end` in BENCHMARKS.md with
    `section` (which starts with `begin` and ends with `end`), or appends
    it when the markers are not there yet."""
    dest = os.path.join(ROOT, "BENCHMARKS.md")
    with open(dest) as f:
        text = f.read()
    if begin in text:
        head, rest = text.split(begin, 1)
        tail = rest.split(end, 1)[1].lstrip("\n")
        text = head + section + ("\n" + tail if tail else "")
    else:
        text = text.rstrip("\n") + "\n\n" + section
    with open(dest, "w") as f:
        f.write(text)
