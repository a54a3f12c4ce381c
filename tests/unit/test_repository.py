"""The repository carries its own method.

* No file that is (or is about to be) committed points outside the repository — the method,
  the source notes and the library decisions live in ``docs/``, and anything taken from
  elsewhere names its public origin instead of a local path.
* Every ``docs/<file>.md`` a file mentions exists, and every cited section
  (``docs/metrics.md §6.9``, ``docs/sources.md §1c–1d, §2e``) has a heading with that number
  (convention: ``docs/README.md``, "Citing a section").
* Inside ``docs/``, every repository path and every relative link resolves.

Fast: reads the files ``git ls-files`` lists (tracked plus untracked-but-not-ignored ones),
skipping binary and data files. The checks are plain functions, tested below on planted
violations so that they are known to fail.
"""

from __future__ import annotations

import re
import subprocess
from functools import cache
from pathlib import Path, PurePosixPath

import pytest

ROOT = Path(__file__).resolve().parents[2]

# Paths that leave the repository: the sibling folder the method used to live in. Written as
# patterns so that this file does not contain the strings it forbids.
OUTSIDE = re.compile(r"\.\./shared\b|\bshared/(?:docs|data)\b")

# Data and binary files: not text anyone cites from. Everything else is scanned.
DATA_SUFFIXES = {".parquet", ".gz", ".zip", ".xlsx", ".pdf", ".png", ".jpg", ".duckdb", ".lock"}
DATA_DIRS = ("sources/sample/data/",)  # real files embedded byte-identical; only *.md is ours

# A section number: 6, 6.9, 6.12, 1d, 4.2.
SECTION = r"\d+(?:\.\d+)*[a-z]?"
# One cited item: §6.9, or a range §6.1–6.2 / §1c–§1d.
ITEM = rf"§{SECTION}(?:\s*[–-]\s*§?{SECTION})?"
# A list of items: §6.2, §6.10 and §6.13.
ITEMS = rf"{ITEM}(?:\s*(?:,|;|and|und|or)\s*{ITEM})*"
# A file name followed by the sections cited from it (backticks or a closing parenthesis
# may stand between them: ``docs/sources.md`` §4).
CITATION = re.compile(rf"(?<![\w./-])(?P<path>[\w][\w./-]*\.md)[`)]*\s*(?P<items>{ITEMS})")
BARE = re.compile(rf"(?<![\w./§-])(?P<items>{ITEMS})")
DOC_PATH = re.compile(r"(?<![\w./-])docs/[\w./-]*?\.md\b")
HEADING = re.compile(rf"^#{{1,6}}\s+(?P<number>{SECTION})(?=\s|$)")
FENCE = re.compile(r"^\s*(```|~~~)")
LINK = re.compile(r"\]\((?P<target>[^)\s#]+)(?:#[^)]*)?\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
REPO_PATH = re.compile(
    r"(?:sources|pipelines|dbt_project|tests|expectations|docs|benchmarks)/[\w./-]*"
)


# -- the checks (plain functions) -------------------------------------------------------------
def outside_references(text: str) -> list[str]:
    """Lines (1-based number and text) that point outside the repository."""
    return [
        f"{number}: {line.strip()}"
        for number, line in enumerate(text.splitlines(), 1)
        if OUTSIDE.search(line)
    ]


def section_numbers(markdown: str) -> set[str]:
    """The numbers the headings of a page begin with (fenced code blocks ignored)."""
    numbers: set[str] = set()
    fenced = False
    for line in markdown.splitlines():
        if FENCE.match(line):
            fenced = not fenced
        elif not fenced and (match := HEADING.match(line)):
            numbers.add(match["number"])
    return numbers


def cited_sections(items: str) -> list[str]:
    """§6.1–6.2, §6.10 → ['6.1', '6.2', '6.10'] (a range checks both ends)."""
    return re.findall(SECTION, items.replace("§", " "))


def resolve(name: str, cited: str) -> PurePosixPath | None:
    """The repository path a citation in file ``name`` refers to, or None if it names no
    repository path (a bare file name outside docs/ is ambiguous)."""
    if cited.startswith("docs/"):
        return PurePosixPath(cited)
    if name.startswith("docs/"):
        return PurePosixPath(name).parent / cited
    return None


def citation_problems(name: str, text: str, read) -> list[str]:
    """Citations in ``text`` (the file ``name``) of sections that do not exist. ``read``
    returns a repository file's text, or None when the file does not exist."""
    problems: list[str] = []
    spans: list[tuple[int, int]] = []
    for match in CITATION.finditer(text):
        spans.append(match.span())
        line = text.count("\n", 0, match.start()) + 1
        target = resolve(name, match["path"])
        if target is None:
            problems.append(
                f"{name}:{line}: {match.group(0)!r} cites a section of a file that is not "
                "given by its repository path (write docs/<file>.md §<n>)"
            )
            continue
        page = read(str(target))
        if page is None:
            problems.append(f"{name}:{line}: {match.group(0)!r}: {target} does not exist")
            continue
        missing = [n for n in cited_sections(match["items"]) if n not in section_numbers(page)]
        if missing:
            problems.append(
                f"{name}:{line}: {match.group(0)!r}: {target} has no section "
                + ", ".join(f"§{n}" for n in missing)
            )
    if name.startswith("docs/") and name.endswith(".md"):
        # A § number without a file name refers to the same page.
        own = section_numbers(text)
        for match in BARE.finditer(text):
            if any(start <= match.start() < end for start, end in spans):
                continue
            missing = [n for n in cited_sections(match["items"]) if n not in own]
            if missing:
                line = text.count("\n", 0, match.start()) + 1
                problems.append(
                    f"{name}:{line}: {match.group(0)!r}: this page has no section "
                    + ", ".join(f"§{n}" for n in missing)
                )
    return problems


def missing_doc_files(name: str, text: str, exists) -> list[str]:
    """``docs/<file>.md`` paths mentioned in ``text`` that do not exist."""
    return [
        f"{name}:{text.count(chr(10), 0, match.start()) + 1}: {match.group(0)} does not exist"
        for match in DOC_PATH.finditer(text)
        if not exists(match.group(0))
    ]


def broken_paths(name: str, text: str, exists) -> list[str]:
    """Relative links and repository paths in code spans of a page under docs/ that do not
    resolve inside the repository."""
    problems: list[str] = []
    here = PurePosixPath(name).parent
    for match in LINK.finditer(text):
        target = match["target"]
        if re.match(r"^[a-z]+:", target):  # https:, mailto:
            continue
        resolved = _normalise(here / target)
        if resolved is None or not exists(str(resolved)):
            problems.append(f"{name}: link {target!r} does not resolve inside the repository")
    for match in CODE_SPAN.finditer(text):
        token = match.group(1)
        if REPO_PATH.fullmatch(token) and not exists(token.rstrip("/")):
            problems.append(f"{name}: path `{token}` does not exist")
    return problems


def _normalise(path: PurePosixPath) -> PurePosixPath | None:
    parts: list[str] = []
    for part in path.parts:
        if part == "..":
            if not parts:
                return None  # leaves the repository
            parts.pop()
        elif part != ".":
            parts.append(part)
    return PurePosixPath(*parts) if parts else PurePosixPath(".")


# -- the repository ---------------------------------------------------------------------------
@cache
def repository_files() -> dict[str, str]:
    """Text of every file git would commit (tracked, or untracked and not ignored) that
    exists in the work tree, without data and binary files."""
    # The project is always a git work tree (CI tests a clone): no git is an error, not a pass.
    listed = subprocess.run(
        ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"],
        cwd=ROOT,
        capture_output=True,
        check=True,
    ).stdout.decode("utf-8")
    files: dict[str, str] = {}
    for name in sorted(set(listed.split("\0")) - {""}):
        path = ROOT / name
        if path.suffix in DATA_SUFFIXES or (name.startswith(DATA_DIRS) and path.suffix != ".md"):
            continue
        if path.is_symlink() or not path.is_file():  # .venv, files deleted in the work tree
            continue
        data = path.read_bytes()
        if b"\0" not in data:
            files[name] = data.decode("utf-8", errors="replace")
    return files


def read_repository_file(name: str) -> str | None:
    path = ROOT / name
    return path.read_text(encoding="utf-8") if path.is_file() else None


def exists_in_repository(name: str) -> bool:
    """A file or folder of the work tree, or a runtime output location the project ignores
    (``data/``, ``dbt_project/target/``): those exist only after a run, not in a clone."""
    if (ROOT / name).exists():
        return True
    ignored = subprocess.run(["git", "check-ignore", "-q", name], cwd=ROOT, check=False)
    return ignored.returncode == 0


def test_no_file_points_outside_the_repository() -> None:
    found = [
        f"{name}:{hit}"
        for name, text in repository_files().items()
        for hit in outside_references(text)
    ]
    assert not found, "paths outside the repository (cite docs/ instead):\n" + "\n".join(found)


def test_every_cited_docs_file_exists() -> None:
    found = [
        problem
        for name, text in repository_files().items()
        for problem in missing_doc_files(name, text, exists_in_repository)
    ]
    assert not found, "\n".join(found)


def test_every_cited_section_exists() -> None:
    found = [
        problem
        for name, text in repository_files().items()
        for problem in citation_problems(name, text, read_repository_file)
    ]
    assert not found, "\n".join(found)


def test_paths_and_links_in_docs_resolve() -> None:
    found = [
        problem
        for name, text in repository_files().items()
        if name.startswith("docs/") and name.endswith(".md")
        for problem in broken_paths(name, text, exists_in_repository)
    ]
    assert not found, "\n".join(found)


def test_the_method_pages_exist_and_number_their_sections() -> None:
    for page, sections in {
        "docs/metrics.md": {"0", "2", "4", "6.0", "6.1", "6.2", "6.7", "6.9", "6.12", "6.15"},
        "docs/sources.md": {"1c", "1d", "2e", "4", "4b", "4c", "6", "7", "10"},
        "docs/stack.md": {"1", "3", "4.1", "4.2"},
    }.items():
        text = read_repository_file(page)
        assert text is not None, f"{page} is missing"
        assert sections <= section_numbers(text), f"{page}: {sections - section_numbers(text)}"
    assert read_repository_file("docs/README.md") is not None


# -- the checks fail on planted violations ----------------------------------------------------
# Planted texts are written with "@" for the section sign, "DOCS/" for "docs/" and {SHARED}
# for the forbidden folder, so that this file itself passes the repository checks above.
SHARED = "shared"


def planted(text: str) -> str:
    return text.replace("@", "§").replace("DOCS/", "docs/").replace("{SHARED}", SHARED)


PAGES = {
    "docs/metrics.md": "# M\n\n## 6 Metric set\n\n## 6.1 Applicability\n\n## 6.2 Rate\n\n"
    "```\n## 7 not a heading (fenced)\n```\n",
    "docs/sources.md": "# S\n\n## 1c Fields\n\n## 1d Paging\n",
}


def planted_read(name: str) -> str | None:
    return PAGES.get(name)


@pytest.mark.parametrize(
    "text",
    ["see ../{SHARED}/docs/metrics.md", "copied from `../{SHARED}/data/`", "/work/{SHARED}/data/x"],
)
def test_outside_references_are_found(text: str) -> None:
    assert outside_references(planted(f"ok\n{text}\n")) == [f"2: {planted(text)}"]


def test_shared_as_an_ordinary_word_is_fine() -> None:
    assert outside_references("a fixture shared by every test; the shared paging") == []


def test_citations_of_existing_sections_pass() -> None:
    text = planted(
        "# header (DOCS/metrics.md @6.1–6.2, @6.1 and @6)\n"
        "Rules (``DOCS/sources.md`` @1c–1d): stop on last.\n"
        "[DOCS/metrics.md @6.2](metrics.md) and § 4a HGO (a legal paragraph)\n"
    )
    assert citation_problems("pipelines/x.py", text, planted_read) == []
    inside = PAGES["docs/sources.md"] + planted("see metrics.md @6.1. This page: @1d")
    assert citation_problems("docs/sources.md", inside, planted_read) == []


@pytest.mark.parametrize(
    ("name", "text", "expected"),
    [
        ("sources/x.py", "(DOCS/metrics.md @6.9)", "has no section §6.9"),
        ("sources/x.py", "DOCS/metrics.md @6.1–6.3", "has no section §6.3"),
        ("sources/x.py", "DOCS/metrics.md @6.2, @7", "has no section §7"),
        ("sources/x.py", "``DOCS/sources.md`` @2e", "has no section §2e"),
        ("sources/x.py", "DOCS/nowhere.md @1", "DOCS/nowhere.md does not exist"),
        ("pipelines/x.py", "(metrics.md @6.12)", "not given by its repository path"),
        ("docs/sources.md", "as in @1e", "this page has no section §1e"),
    ],
)
def test_citations_of_missing_sections_fail(name: str, text: str, expected: str) -> None:
    page = PAGES.get(name, "") if name.startswith("docs/") else ""  # the page the text is on
    problems = citation_problems(name, page + planted(text), planted_read)
    assert len(problems) == 1 and planted(expected) in problems[0], problems


def test_missing_docs_files_fail() -> None:
    def exists(name: str) -> bool:
        return name in PAGES

    text = planted("see DOCS/metrics.md and DOCS/gone.md; data/DOCS/metrikverzeichnis.md is output")
    assert missing_doc_files("README.md", text, exists) == [
        planted("README.md:1: DOCS/gone.md does not exist")
    ]


def test_broken_paths_in_docs_fail() -> None:
    def exists(name: str) -> bool:
        return name in {"docs/metrics.md", "sources/pvog.py", "sources/sample/README.md"}

    text = (
        "[m](metrics.md#61) [s](../sources/sample/README.md) [w](https://example.org/x.md) "
        "`sources/pvog.py` `data/raw/<source>/` "
        "[gone](gone.md) [out](../../outside.md) `pipelines/lib/rules.py`"
    )
    problems = broken_paths("docs/README.md", text, exists)
    assert [p.split(": ", 1)[1] for p in problems] == [
        "link 'gone.md' does not resolve inside the repository",
        "link '../../outside.md' does not resolve inside the repository",
        "path `pipelines/lib/rules.py` does not exist",
    ]
