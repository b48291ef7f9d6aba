"""`python -m portlint.rules`: regenerate rules/_catalogue.py from the rule classes."""

from __future__ import annotations

from pathlib import Path

BEGIN, END = "# BEGIN GENERATED\n", "# END GENERATED\n"


def generate() -> str:
    """The generated rows of rules/_catalogue.py, from the rule classes."""
    from portlint.rules.registry import all_rules, row

    return "".join(f"    {row(rule)!r},\n" for rule in all_rules())


def updated(text: str) -> str:
    """`text` (rules/_catalogue.py) with its generated rows replaced."""
    head, rest = text.split(BEGIN, 1)
    _, tail = rest.split(END, 1)
    return f"{head}{BEGIN}{generate()}{END}{tail}"


def main() -> None:
    path = Path(__file__).with_name("_catalogue.py")
    text = path.read_text(encoding="utf-8")
    new = updated(text)
    if new != text:
        path.write_text(new, encoding="utf-8")
        print(f"updated {path}")
    else:
        print(f"{path} is up to date")


if __name__ == "__main__":
    main()
