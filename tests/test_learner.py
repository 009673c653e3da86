"""The learner notebooks (notebooks/, made by tools/learner.py) read like the page in plain Jupyter.

What Binder, Colab and the download open must: be current with chapters/; contain no MyST role or
directive once rendered by a plain CommonMark renderer; keep every solution below the Solutions heading;
and run alone, top to bottom, in an empty folder, printing what the page prints. (tests/test_site.py
checks their numbers, glued values and links against the built site.)
"""
import json
import os
import re
import sys
import tempfile
from pathlib import Path

import nbformat
import pytest
from markdown_it import MarkdownIt
from nbclient import NotebookClient

from book import ROOT, chapter_paths, is_measured, load, source

sys.path.insert(0, str(ROOT / "tools"))
import learner  # noqa: E402

CHAPTERS = chapter_paths()
IDS = [p.stem for p in CHAPTERS]
LEARNER = ROOT / "notebooks"
COMMONMARK = MarkdownIt("commonmark")
# What MyST leaves behind when a renderer that does not know it reads it.
MYST_LEFTOVERS = {
    "role": re.compile(r"\{[\w:-]+\}<code>"),
    "backtick directive": re.compile(r'<code class="language-\{'),
    "colon directive": re.compile(r":{3,}\{[\w:-]+\}"),
    "target": re.compile(r"^\([\w-]+\)=", re.M),
    "option line": re.compile(r"^:(label|class|nonumber):", re.M),
}


@pytest.fixture(scope="module")
def wanted():
    return learner.learner_notebooks(CHAPTERS)


def learner_path(chapter):
    path = LEARNER / f"{chapter.stem}.ipynb"
    assert path.exists(), f"notebooks/{path.name} is missing (run: make learner)"
    return path


def test_learner_notebooks_are_current(wanted):
    stale = [stem for stem, text in wanted.items()
             if not (LEARNER / f"{stem}.ipynb").exists() or (LEARNER / f"{stem}.ipynb").read_text() != text]
    strays = sorted(p.name for p in LEARNER.glob("*.ipynb") if p.stem not in wanted)
    assert not stale, f"notebooks/ is stale against chapters/ for {stale} (run: make learner)"
    assert not strays, f"notebooks/ holds notebooks without a chapter: {strays}"


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_learner_notebook_is_plain_markdown(chapter):
    nb = nbformat.read(learner_path(chapter), as_version=4)
    nbformat.validate(nb)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "markdown":
            continue
        rendered = COMMONMARK.render(cell.source)
        for what, pattern in MYST_LEFTOVERS.items():
            found = pattern.search(rendered) or pattern.search(cell.source)
            assert not found, f"notebooks/{chapter.stem}.ipynb, cell {i}: a MyST {what} is left: {found.group(0)!r}"
        assert "{glue" not in cell.source, f"notebooks/{chapter.stem}.ipynb, cell {i}: an unresolved glue role"


def solution_code(nb):
    """The code cells of the chapter's solutions (between solution-start and solution-end), in order."""
    inside, found = False, []
    for cell in nb["cells"]:
        text = source(cell)
        if cell["cell_type"] == "markdown":
            for line in text.splitlines():
                if re.match(r"^[`:]{3,}\{solution-start\}", line):
                    inside = True
                elif re.match(r"^[`:]{3,}\{solution-end\}", line):
                    inside = False
        elif inside:
            found.append(text)
    return found


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_no_solution_before_the_solutions_heading(chapter):
    nb = nbformat.read(learner_path(chapter), as_version=4)
    headings = [i for i, c in enumerate(nb.cells) if c.cell_type == "markdown"
                and c.source.startswith(learner.SOLUTIONS_HEADING)]
    exercises = sum(1 for c in nb.cells if c.cell_type == "markdown" and re.search(r"\*\*Exercise \S+\.\*\*", c.source))
    assert exercises >= 5, f"notebooks/{chapter.stem}.ipynb: {exercises} exercises, the chapter has at least 5"
    assert len(headings) == 1, f"notebooks/{chapter.stem}.ipynb: {len(headings)} '{learner.SOLUTIONS_HEADING}' headings"
    before = [c.source for c in nb.cells[:headings[0]]]
    for code in solution_code(load(chapter)):
        assert code not in before, f"notebooks/{chapter.stem}.ipynb: a solution's code is visible before the " \
                                   f"Solutions heading: {code.splitlines()[0]!r}"
    shown = sum(1 for c in nb.cells[headings[0]:] if c.source.startswith("### Solution to "))
    assert shown == exercises, f"notebooks/{chapter.stem}.ipynb: {exercises} exercises but {shown} solutions"


def comparable(outputs):
    """The text a cell printed or displayed (images are compared by the figure tests), sanitized as nbval is."""
    text = []
    for out in outputs:
        if out.get("metadata", {}).get("scrapbook"):
            continue                                    # a glued value: not shown on the page
        if out["output_type"] == "stream":
            text.append(out["text"])
        elif "data" in out:
            text.append(out["data"].get("text/plain", "") if "image/png" not in out["data"] else "<image>")
    joined = "".join("".join(t) if isinstance(t, list) else t for t in text)
    return re.sub(r"/tmp/[^\s'\"]+", "TMPPATH", re.sub(r"at 0x[0-9a-fA-F]+", "at 0xADDRESS", joined))


@pytest.mark.parametrize("chapter", CHAPTERS, ids=IDS)
def test_learner_notebook_runs_alone_and_prints_what_the_page_prints(chapter):
    """Executed by itself in an empty folder (no _toc.yml, no repository, no myst-nb glue needed)."""
    nb = nbformat.read(learner_path(chapter), as_version=4)
    with tempfile.TemporaryDirectory(prefix="learner-") as folder:
        (Path(folder) / f"{chapter.stem}.ipynb").write_text(nbformat.writes(nb))
        env = {k: v for k, v in os.environ.items() if k != "LAFML_FIGURE_DIR"}
        client = NotebookClient(nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": folder}})
        try:
            client.execute(env=env)
        except Exception as error:  # nbclient's CellExecutionError names the cell and the traceback
            pytest.fail(f"notebooks/{chapter.stem}.ipynb does not run alone: {error}"[:3000])
        assert (Path(folder) / "figures" / chapter.stem).is_dir(), \
            f"notebooks/{chapter.stem}.ipynb: its figures were not saved next to it"
    # Every code cell the learner runs is a chapter cell: the same code, in the same order.
    page = [c for c in load(chapter)["cells"] if c["cell_type"] == "code"]
    by_source = {}
    for cell in page:
        by_source.setdefault(source(cell), []).append(cell)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        original = by_source.get(cell.source, [None]).pop(0)
        assert original is not None, f"notebooks/{chapter.stem}.ipynb, cell {i}: code that is not in the chapter"
        if is_measured(original):
            continue
        assert comparable(cell.outputs) == comparable(original.get("outputs", [])), \
            f"notebooks/{chapter.stem}.ipynb, cell {i}: prints something other than the page " \
            f"(chapter's stored output {comparable(original.get('outputs', []))[:300]!r}, " \
            f"learner's {comparable(cell.outputs)[:300]!r})"
