"""The committed book is well-formed: table of contents, chapter anatomy, stored outputs, figures."""
import re

import pytest

from book import (CHAPTER_NAME, CHAPTERS, FIGURES, ROOT, SETUP_CELL, chapter_number, chapter_paths, code_cells, is_measured,
                  load, saved_figure_names, source, toc_files)

CHAPTERS_FOUND = chapter_paths()
IDS = [p.stem for p in CHAPTERS_FOUND]


def test_every_toc_entry_exists():
    missing = [f for f in toc_files() if not any((ROOT / f).with_suffix(s).exists() for s in (".md", ".ipynb"))]
    assert not missing, f"_toc.yml lists files that do not exist: {missing}"


def test_every_chapter_is_in_the_toc():
    listed = set(toc_files())
    orphans = [p.name for p in CHAPTERS_FOUND if f"chapters/{p.stem}" not in listed]
    assert not orphans, f"chapters/ holds notebooks that _toc.yml does not list: {orphans}"
    assert CHAPTERS_FOUND, "no chapter notebooks found in chapters/"


def test_chapters_are_listed_in_number_order():
    listed = [f for f in toc_files() if f.startswith("chapters/")]
    assert listed == sorted(listed), f"_toc.yml lists chapters out of order: {listed}"


def test_no_figure_folder_without_a_chapter():
    stems = {p.stem for p in CHAPTERS_FOUND}
    strays = [d.name for d in FIGURES.iterdir() if d.is_dir() and d.name not in stems]
    assert not strays, f"figures/ has folders for chapters that do not exist: {strays}"


@pytest.fixture(params=CHAPTERS_FOUND, ids=IDS)
def chapter(request):
    path = request.param
    return path, load(path)


def test_file_name(chapter):
    path, _ = chapter
    assert CHAPTER_NAME.match(path.stem), f"{path.name}: chapter files are named NN_name.ipynb, appendices L_name.ipynb (A_, B_, ...)"


def test_title_cell(chapter):
    path, nb = chapter
    first = source(nb["cells"][0])
    number = chapter_number(path.stem)
    assert nb["cells"][0]["cell_type"] == "markdown" and first.startswith(f"# {number}. "), \
        f"{path.name}: the first cell must be the title '# {number}. Title'"
    for needed in ("Learning objectives", "Prerequisites"):
        assert needed.lower() in first.lower(), f"{path.name}: the title cell lacks '{needed}'"


def test_setup_cell_is_the_shared_one(chapter):
    path, nb = chapter
    cells = code_cells(nb)
    assert cells, f"{path.name}: no code cells"
    index, setup = cells[0]
    assert source(setup).strip() == SETUP_CELL, \
        f"{path.name}: cell {index} must be tools/setup_cell.py exactly (the shared setup cell)"
    tags = setup["metadata"].get("tags", [])
    assert "hide-input" in tags or "remove-cell" in tags, f"{path.name}: tag the setup cell hide-input"
    index, second = cells[1]
    assert source(second).strip() == f'CHAPTER = "{path.stem}"', \
        f'{path.name}: code cell {index} must be exactly CHAPTER = "{path.stem}"'


def test_sections(chapter):
    path, nb = chapter
    headings = [line for c in nb["cells"] if c["cell_type"] == "markdown"
                for line in source(c).splitlines() if line.startswith("## ")]
    for needed in ("## Summary", "## Exercises", "## Further reading"):
        assert needed in headings, f"{path.name}: missing section '{needed}'"
    assert headings[-3:] == ["## Summary", "## Exercises", "## Further reading"], \
        f"{path.name}: the chapter must end with Summary, Exercises, Further reading; found {headings[-3:]}"


def test_enough_explanation(chapter):
    path, nb = chapter
    prose = " ".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    prose = re.sub(r"\$\$.*?\$\$|\$[^$]*\$|```.*?```", " ", prose, flags=re.S)
    words = len(re.findall(r"[A-Za-z][A-Za-z'-]*", prose))
    assert words >= 1500, f"{path.name}: {words} words of explanation, at least 1500 expected"


def test_stored_outputs_are_from_one_clean_run(chapter):
    path, nb = chapter
    counts = []
    for index, cell in code_cells(nb):
        if not source(cell).strip():
            continue
        assert cell.get("execution_count") is not None, \
            f"{path.name}: code cell {index} has no stored execution; run `make outputs`"
        counts.append(cell["execution_count"])
        for out in cell.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: code cell {index} stores an error"
            assert out.get("name") != "stderr", \
                f"{path.name}: code cell {index} stores stderr output: {''.join(out.get('text', ''))[:200]!r}"
    assert counts == list(range(1, len(counts) + 1)), \
        f"{path.name}: execution counts {counts[:12]}... are not one top-to-bottom run; run `make outputs`"


def test_checks_in_the_notebook(chapter):
    path, nb = chapter
    asserts = sum(len(re.findall(r"^\s*assert\b", source(c), flags=re.M)) for _, c in code_cells(nb))
    assert asserts >= 3, f"{path.name}: {asserts} asserts; key facts must be checked (at least 3)"


def test_exercises_with_checked_dropdown_solutions(chapter):
    """Exercises use sphinx-exercise; each solution is gated (solution-start ... solution-end),
    collapsed (:class: dropdown), and holds a code cell that asserts the answer."""
    path, nb = chapter
    md = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    exercises = re.findall(r"^[`:]{3,}\{exercise(?:-start)?\}", md, flags=re.M)
    assert len(exercises) >= 3, f"{path.name}: {len(exercises)} exercises, at least 3 expected"
    solutions, inside = [], None
    for index, cell in enumerate(nb["cells"]):
        text = source(cell)
        if cell["cell_type"] == "markdown" and "{solution-start}" in text:
            assert ":class: dropdown" in text, f"{path.name}: cell {index}: solutions are collapsed (:class: dropdown)"
            inside = {"cell": index, "asserts": 0}
        elif cell["cell_type"] == "markdown" and "{solution-end}" in text:
            assert inside, f"{path.name}: cell {index}: solution-end without solution-start"
            solutions.append(inside)
            inside = None
        elif cell["cell_type"] == "code" and inside is not None:
            inside["asserts"] += len(re.findall(r"^\s*assert\b", text, flags=re.M))
    assert inside is None, f"{path.name}: a solution-start is never closed"
    assert len(solutions) >= len(exercises), \
        f"{path.name}: {len(exercises)} exercises but {len(solutions)} gated solutions"
    for solution in solutions:
        assert solution["asserts"], f"{path.name}: the solution at cell {solution['cell']} checks nothing (no assert)"


def test_figure_cells_have_caption_alt_text_and_are_saved(chapter):
    path, nb = chapter
    md = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    names = saved_figure_names(nb)
    assert len(names) >= 5, f"{path.name}: {len(names)} saved figures, at least 5 expected"
    assert len(names) == len(set(names)), f"{path.name}: a figure name is saved twice: {names}"
    for index, cell in code_cells(nb):
        saves = re.search(r"(?<!def )save_figure\(", source(cell)) is not None
        shows_image = any("image/png" in out.get("data", {}) for out in cell.get("outputs", [])) \
            or (saves and is_measured(cell))  # a measured cell is stored without outputs
        if not (shows_image or saves):
            continue
        meta = cell["metadata"].get("mystnb", {})
        caption = meta.get("figure", {}).get("caption", "")
        name = meta.get("figure", {}).get("name", "")
        alt = meta.get("image", {}).get("alt", "")
        where = f"{path.name}: figure cell {index}"
        assert shows_image and saves, f"{where} must both show its figure and call save_figure"
        assert len(caption.split()) >= 4, f"{where} needs a caption (mystnb.figure.caption)"
        assert name, f"{where} needs a figure name (mystnb.figure.name) to be referenced by"
        assert len(alt.split()) >= 6 and alt.rstrip().endswith("."), \
            f"{where} needs a one-sentence alt text (mystnb.image.alt), found {alt!r}"
        assert not re.search(r"\.(png|svg|jpe?g)\b", alt), f"{where}: alt text is a file name"
        for kind, text in (("caption", caption), ("alt text", alt)):  # both are shown as plain text
            tex = re.findall(r"[\^_]\{|\\[a-zA-Z]+|\$[^$]+\$", text)
            assert not tex, f"{where}: the {kind} is plain text, so TeX shows raw: {tex}; write it in Unicode (x₀, Aᵏ, θ)"
        assert re.search(r"\{numref\}`[^`]*" + re.escape(name) + "`", md), \
            f"{where}: the text never refers to figure '{name}' ({{numref}}`{name}`)"


def test_measured_cells_store_no_outputs(chapter):
    """A measured cell (a timing, a rounding error) shows this machine's digits: storing them would put
    one machine's measurement into the book as if it were a fact. `make outputs` stores them empty."""
    path, nb = chapter
    stored = [index for index, cell in code_cells(nb) if is_measured(cell) and cell.get("outputs")]
    assert not stored, f"{path.name}: measured cells {stored} store outputs; run `make outputs`"


# How the prose shows a glued value: {glue:text}`key:.4f` shows 4 decimals; `.1%` a percentage with 1.
GLUE_ROLE = re.compile(r"\{glue(?::\w+)?\}`(\w+)(?::([^`]*))?`")


def glued_values(nb):
    """{key: (code cell index, the stored text/plain of the glued value)} from the stored outputs."""
    found = {}
    for index, cell in code_cells(nb):
        for out in cell.get("outputs", []):
            name = out.get("metadata", {}).get("scrapbook", {}).get("name")
            if name:
                text = out["data"].get("application/papermill.record/text/plain", "")
                found[name] = (index, "".join(text) if isinstance(text, list) else text)
    return found


def glued_in_prose(nb):
    """(key, format spec, code cell index, stored text) for every glue role of the prose whose value is
    stored. A measured cell's glue is stored without outputs, and a missing key fails the build itself."""
    md = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    values = glued_values(nb)
    for match in GLUE_ROLE.finditer(md):
        if match.group(1) in values:
            yield (match.group(1), match.group(2) or "", *values[match.group(1)])


def test_glued_numbers_carry_only_the_digits_the_page_shows(chapter):
    """A glued float carries exactly the digits its prose shows (glue round(x, 4) for `:.4f`).

    The last digits of a full-precision float change with the CPU's BLAS kernel, and nbval compares the
    stored repr: a glued 0.8566706059498349 fails on another machine though the page shows 0.8567."""
    path, nb = chapter
    problems = []
    for key, spec, index, text in glued_in_prose(nb):
        try:
            value = float(text)
        except ValueError:
            continue  # not a number
        if value.is_integer() and "e" not in text.lower():
            continue
        shown = format(value, spec) if spec else text
        number = float(shown.rstrip("%")) / (100 if shown.endswith("%") else 1)
        if number != value or len(text.lstrip("-").replace(".", "").lstrip("0")) > 8:
            problems.append(f"code cell {index}: '{key}' is glued as {text} but the page shows {shown}")
    assert not problems, f"{path.name}: glue the value rounded as the page shows it:\n" + "\n".join(problems)


def test_glued_values_format_as_the_page_asks(chapter):
    """myst-nb formats a glued value from its stored repr; a numpy scalar's repr (np.float64(4.5)) is not
    a number to it, and the build fails. Glue Python numbers: round(float(x), 1)."""
    from myst_nb.core.variables import format_plain_text

    path, nb = chapter
    problems = []
    for key, spec, index, text in glued_in_prose(nb):
        try:
            format_plain_text(text, spec)
        except (TypeError, ValueError) as error:
            problems.append(f"code cell {index}: '{key}' is glued as {text}, which ':{spec}' cannot format ({error})")
    assert not problems, f"{path.name}: glue a Python number (float(x), int(x)), not a numpy scalar:\n" + \
        "\n".join(problems)


# ---------------------------------------------------------------- second edition
# Every chapter and appendix states its definitions and results as numbered sphinx-proof environments
# (labelled, referred to from the text) and carries at least five exercises.
PRF = re.compile(r"^:{3,}\{prf:(\w+)\}", re.M)


def test_numbered_definitions_and_theorems(chapter):
    path, nb = chapter
    md = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    kinds = PRF.findall(md)
    results = [k for k in kinds if k in ("theorem", "proposition", "lemma", "corollary")]
    assert kinds.count("definition") >= 2, f"{path.name}: {kinds.count('definition')} prf:definition, at least 2 expected"
    assert len(results) >= 2, f"{path.name}: {len(results)} theorems/propositions, at least 2 expected"
    assert kinds.count("proof") >= 1, f"{path.name}: no prf:proof"
    unlabelled = re.findall(r"^:{3,}\{prf:(?!proof)\w+\}[^\n]*\n(?!:label:)", md, re.M)
    assert not unlabelled, f"{path.name}: numbered statements without a :label: line: {unlabelled[:3]}"
    refs = set(re.findall(r"\{prf:ref\}`([^`<]+?)(?:\s*<[^>]+>)?`", md)) | set(re.findall(r"\{prf:ref\}`[^`<]*<([^>]+)>`", md))
    labels = re.findall(r"^:label:\s*(\S+)", md, re.M)
    assert set(labels) & refs, f"{path.name}: no numbered statement is referred to from the text ({{prf:ref}})"


def test_five_exercises(chapter):
    """At least five exercises (the anatomy test above asks for three)."""
    path, nb = chapter
    md = "\n".join(source(c) for c in nb["cells"] if c["cell_type"] == "markdown")
    count = len(re.findall(r"^[`:]{3,}\{exercise(?:-start)?\}", md, flags=re.M))
    assert count >= 5, f"{path.name}: {count} exercises, the second edition has at least 5"


def test_back_matter_in_the_toc():
    listed = set(toc_files())
    for page in ("notation", "errata", "glossary", "references"):
        assert page in listed, f"_toc.yml does not list the back-matter page {page}.md"
