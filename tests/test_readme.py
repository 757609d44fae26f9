"""README is the user's first page: short, its scenarios table agrees with the scenario registry,
and every link it gives leads to a file of the checkout."""

import fnmatch
import re

from conftest import REPO
from episodic_curiosity.envs import registry

README = (REPO / "README.md").read_text()


def first_table(section_title):
    """The rows of the first table under `## <section_title>`."""
    section = README.split(f"\n## {section_title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("|")]
    assert rows and set(rows[1].replace("|", "").split()) == {"---"}, section_title
    return rows[2:]


def test_readme_is_short():
    assert len(README.splitlines()) <= 250, "move detail to docs/, keep README the user's path"


def test_scenarios_table_covers_the_registry():
    patterns = [name for row in first_table("Scenarios")
                for name in re.findall(r"`([^`]+)`", row.split("|")[1])]
    names = [s.name for s in registry.listed()  # the test-only corridors (tests/corridor.py) aside
             if s.engine != "test"]
    unlisted = [n for n in names if not any(fnmatch.fnmatch(n, p) for p in patterns)]
    assert not unlisted, f"README's scenarios table misses {unlisted}"
    stale = [p for p in patterns if not fnmatch.filter(names, p)]
    assert not stale, f"README's scenarios table lists unknown scenarios {stale}"


def test_every_relative_link_exists():
    docs = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]
    broken = [(page.name, target) for page in docs
              for target in re.findall(r"\]\(([^)#\s]+)[^)]*\)", page.read_text())
              if "://" not in target and not (page.parent / target).exists()]
    assert not broken, broken
