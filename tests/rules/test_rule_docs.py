"""The rule documentation generated from the registry (the README's rule table and
docs/rules/<code>-<name>.md) is up to date, and describes every rule."""

from __future__ import annotations

from portlint.rules import docs
from portlint.rules.registry import all_rules


def test_generated_rule_docs_are_fresh():
    stale = [str(path.relative_to(docs.ROOT)) for path in docs.stale()]
    assert stale == [], "run python -m portlint.rules.docs --write"


def test_every_rule_has_a_row_and_a_page():
    table = docs.table()
    for rule in all_rules():
        assert f'<a id="{rule.code.lower()}"></a>' in table  # the anchor SARIF's helpUri names
        page = docs.page(rule)
        assert page.startswith(f"# {rule.code} `{rule.name}`") and rule.doc.strip() in page
