"""Learner notebooks: what Binder, Colab and the download open (notebooks/NN_name.ipynb).

The chapters are written in MyST, which Jupyter and Colab do not understand. This turns each committed
chapter (chapters/NN_name.ipynb, whose stored outputs nbval proves current) into a plain notebook:
- every {glue:text} role becomes its value, formatted as the page shows it (read from the stored output);
- {numref}, {prf:ref} and {ref} become "Fig. 3.2" / "Theorem 6.1" / "Exercise 1.5" linking to the site;
  {cite} becomes "(Author, Year)" linking to the references page, {term} a link to the glossary, {doc} and
  links to sibling notebooks links to the site's page;
- definitions, theorems, exercises become quoted paragraphs with a bold number ("> **Theorem 6.1
  (Spectral theorem).** ..."), proofs end with ∎, and each figure gets its caption underneath;
- solutions (markdown and their asserting code cells) move to a "Solutions" section at the end, so no
  answer is on screen before the learner has tried; plotting-only cells start with their input hidden;
- outputs are not stored (the learner runs the notebook), and hidden cells that only glue numbers into
  the prose are dropped.
Numbers are assigned as the site build assigns them (per chapter, per kind, in reading order);
tests/test_site.py checks them against the built pages.

    python tools/learner.py            # write notebooks/ from chapters/
    python tools/learner.py --check    # exit 1, naming the notebooks, when notebooks/ is stale
"""
import argparse
import ast
import codecs
import json
import re
import sys
from pathlib import Path

import nbformat
import yaml

ROOT = Path(__file__).resolve().parent.parent
CHAPTERS = ROOT / "chapters"
LEARNER = ROOT / "notebooks"

FENCE = re.compile(r"^(?P<fence>`{3,}|:{3,})\{(?P<name>[\w:-]+)\}[ \t]*(?P<arg>.*)$")
ROLE = re.compile(r"\{(?P<role>[\w:-]+)\}`(?P<text>[^`]*)`")
EXPLICIT = re.compile(r"^(?P<title>.*?)\s*<(?P<target>[^<>]+)>$", re.S)
SIBLING = re.compile(r"\]\((?P<stem>(?:\d\d|[A-Z])_[a-z0-9_]+)\.(?:ipynb|md)(?P<anchor>#[^)]*)?\)")
PRF_NAMES = {"definition": "Definition", "theorem": "Theorem", "proposition": "Proposition", "lemma": "Lemma",
             "corollary": "Corollary", "example": "Example", "remark": "Remark", "conjecture": "Conjecture",
             "axiom": "Axiom", "criterion": "Criterion", "algorithm": "Algorithm", "observation": "Observation",
             "property": "Property", "assumption": "Assumption", "notation": "Notation"}
SOLUTIONS_HEADING = "## Solutions"


class LearnerError(ValueError):
    """A chapter that cannot become a learner notebook; the message names the chapter and the cell."""


def site_url():
    """The published site, from the one place that names the repository (_config.yml): GitHub Pages."""
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["repository"]["url"].rstrip("/")
    owner, repo = url.split("/")[-2:]
    return f"https://{owner}.github.io/{repo}/"


def source(cell):
    return "".join(cell["source"]) if isinstance(cell["source"], list) else cell["source"]


def chapter_number(stem):
    number = re.match(r"(\d\d|[A-Z])_", stem).group(1)
    return str(int(number)) if number.isdigit() else number


# ---------------------------------------------------------------------------------------------- parsing
def blocks(text):
    """Split MyST markdown into ("text", str) and ("directive", name, arg, options, body) at top level."""
    lines, out, plain, i = text.split("\n"), [], [], 0
    while i < len(lines):
        match = FENCE.match(lines[i])
        if not match:
            plain.append(lines[i])
            i += 1
            continue
        fence = match["fence"]
        closing = re.compile(rf"^{re.escape(fence[0])}{{{len(fence)},}}\s*$")
        j = i + 1
        while j < len(lines) and not closing.match(lines[j]):
            j += 1
        if j == len(lines):
            raise LearnerError(f"unclosed {fence}{{{match['name']}}} fence: {lines[i]!r}")
        body, options = lines[i + 1:j], {}
        while body and re.match(r"^:[\w-]+:", body[0]):
            key, _, value = body.pop(0)[1:].partition(":")
            options[key] = value.strip()
        if plain:
            out.append(("text", "\n".join(plain)))
            plain = []
        out.append(("directive", match["name"], match["arg"].strip(), options, "\n".join(body).strip("\n")))
        i = j + 1
    if plain:
        out.append(("text", "\n".join(plain)))
    return out


def figure_label(cell):
    return cell["metadata"].get("mystnb", {}).get("figure", {}).get("name")


def number_targets(stem, nb):
    """label -> (text the site prints, anchor) for one chapter, numbered as the site numbers them."""
    number, counts, targets = chapter_number(stem), {}, {}

    def add(kind, label):
        counts[kind] = counts.get(kind, 0) + 1
        if label:
            targets[label] = (f"{kind} {number}.{counts[kind]}", label)

    for cell in nb["cells"]:
        if cell["cell_type"] == "code":
            if figure_label(cell):
                add("Fig.", figure_label(cell))
            continue
        for block in blocks(source(cell)):
            if block[0] != "directive":
                continue
            _, name, _, options, _ = block
            if name == "exercise":
                add("Exercise", options.get("label"))
            elif name.startswith("prf:") and name[4:] in PRF_NAMES and "nonumber" not in options:
                add(PRF_NAMES[name[4:]], options.get("label"))
            elif name in ("figure", "table"):
                raise LearnerError(f"{stem}: a {{{name}}} directive; learner notebooks number only figure cells")
    return targets


def titles(paths):
    """stem -> the page title ("7. Eigenvalues and Eigenvectors II") from each notebook's first heading."""
    found = {}
    for path in paths:
        first = source(json.loads(path.read_text())["cells"][0])
        found[path.stem] = first.splitlines()[0].lstrip("# ").strip()
    return found


def glossary_anchor(term):
    """Sphinx's id for a glossary term: "Linear combination" -> "term-Linear-combination"."""
    return "term-" + re.sub(r"[^\w]+", "-", term, flags=re.ASCII).strip("-")


def citation_labels():
    """bib key -> "Author, Year" as sphinxcontrib-bibtex's author_year style prints it."""
    import latexcodec  # noqa: F401  (registers the "ulatex" codec; a dependency of pybtex)
    from pybtex.database import parse_file
    labels = {}
    for key, entry in parse_file(str(ROOT / "references.bib")).entries.items():
        people = entry.persons.get("author") or entry.persons.get("editor") or []
        last = [" ".join(p.last_names) for p in people]
        if len(last) >= 3:
            who = f"{last[0]} et al."
        elif len(last) == 2:
            who = f"{last[0]} and {last[1]}"
        elif last:
            who = last[0]
        else:
            who = entry.fields.get("organization", entry.fields.get("title", key))
        who = re.sub(r"[{}]", "", codecs.decode(who, "ulatex"))   # Sch{\"o}lkopf -> Schölkopf, as the page
        labels[key] = f"{who}, {entry.fields.get('year', 'n.d.')}"
    return labels


# ------------------------------------------------------------------------------------------ translation
class Book:
    """What a learner notebook needs to know about the whole book: numbers, titles, citations."""

    def __init__(self, paths):
        self.paths = sorted(paths)
        self.url = site_url()
        self.titles = titles(self.paths)
        self.targets = {}
        for path in self.paths:
            for label, (text, anchor) in number_targets(path.stem, json.loads(path.read_text())).items():
                self.targets[label] = (text, f"chapters/{path.stem}.html#{anchor}")
        self.citations = citation_labels()

    def page(self, stem, anchor=""):
        return f"{self.url}chapters/{stem}.html{anchor}"


class Chapter:
    def __init__(self, book, path):
        self.book, self.path, self.stem = book, path, path.stem
        self.nb = json.loads(path.read_text())
        self.glued = self._glued()
        self.pasted = []      # every glued value substituted, in reading order (the site's test reads it)
        self.where = ""

    def fail(self, message):
        raise LearnerError(f"{self.path.relative_to(ROOT)}, {self.where}: {message}")

    def _glued(self):
        values = {}
        for i, cell in enumerate(self.nb["cells"]):
            for output in cell.get("outputs", []):
                name = output.get("metadata", {}).get("scrapbook", {}).get("name")
                if name:
                    text = next((v for k, v in output["data"].items() if k.endswith("text/plain")), None)
                    values[name] = "".join(text) if isinstance(text, list) else text
        return values

    def glue(self, text):
        key, _, spec = text.partition(":")
        if key not in self.glued:
            self.fail(f"{{glue:text}}`{text}`: no stored output glues {key!r} (run make outputs)")
        from myst_nb.core.variables import format_plain_text   # what the page does with the value
        try:
            self.pasted.append(format_plain_text(self.glued[key], spec))
            return self.pasted[-1]
        except (TypeError, ValueError) as error:
            self.fail(f"{{glue:text}}`{text}`: cannot format {self.glued[key]!r} with {spec!r}: {error}")

    def reference(self, role, text):
        match = EXPLICIT.match(text)
        title, label = (match["title"], match["target"]) if match else (None, text)
        if label not in self.book.targets:
            self.fail(f"{{{role}}}`{text}`: no figure, exercise or numbered statement is labelled {label!r}")
        number, link = self.book.targets[label]
        if title:
            number = title.replace("{number}", number.split()[-1]).replace("%s", number.split()[-1])
        return f"[{number}]({self.book.url}{link})"

    def role(self, match):
        role, text = match["role"], match["text"]
        if role == "glue:text":
            return self.glue(text)
        if role in ("numref", "prf:ref", "ref"):
            return self.reference(role, text)
        if role == "term":
            explicit = EXPLICIT.match(text)
            shown, term = (explicit["title"], explicit["target"]) if explicit else (text, text)
            return f"[{shown}]({self.book.url}glossary.html#{glossary_anchor(term)})"
        if role in ("cite", "cite:p", "cite:t"):
            keys = [k.strip() for k in text.split(",")]
            missing = [k for k in keys if k not in self.book.citations]
            if missing:
                self.fail(f"{{cite}}`{text}`: not in references.bib: {missing}")
            cites = "; ".join(f"[{self.book.citations[k]}]({self.book.url}references.html)" for k in keys)
            return f"({cites})"
        if role == "doc":
            explicit = EXPLICIT.match(text)
            shown, target = (explicit["title"], explicit["target"]) if explicit else (None, text)
            stem = Path(target).name
            if stem not in self.book.titles:
                self.fail(f"{{doc}}`{text}`: no chapter {stem!r}")
            return f"[{shown or self.book.titles[stem]}]({self.book.page(stem)})"
        self.fail(f"the role {{{role}}} has no learner-notebook form (add it to tools/learner.py)")

    def inline(self, text):
        text = ROLE.sub(self.role, text)
        return SIBLING.sub(lambda m: f"]({self.book.page(m['stem'], m['anchor'] or '')})", text)

    def directive(self, name, arg, options, body):
        title = f" ({self.inline(arg)})" if arg and name != "admonition" else ""   # before the body, as the page
        body = self.markdown(body)
        if name == "exercise":
            label = options.get("label")
            number = self.book.targets[label][0] if label else "Exercise"
            return quote(f"**{number}.**{title} {body}\n\n*The solution is in the Solutions section at the end.*")
        if name.startswith("prf:") and name[4:] in PRF_NAMES:
            label = options.get("label")
            number = self.book.targets[label][0] if label in self.book.targets else PRF_NAMES[name[4:]]
            return quote(f"**{number}{title}.** {body}")
        if name == "prf:proof":
            return f"*Proof.* {body} ∎"
        if name in ("note", "tip", "important", "warning", "caution", "admonition"):
            heading = self.inline(arg) if name == "admonition" else name.capitalize()   # (title is "" here)
            return quote(f"**{heading}.** {body}")
        self.fail(f"the directive {{{name}}} has no learner-notebook form (add it to tools/learner.py)")

    def markdown(self, text):
        parts = []
        for block in blocks(text):
            parts.append(self.inline(block[1]) if block[0] == "text" else self.directive(*block[1:]))
        return "\n\n".join(p.strip("\n") for p in parts if p.strip())

    def build(self):
        """The learner notebook (an nbformat NotebookNode)."""
        cells, solutions, open_solution = [], [], None
        for index, cell in enumerate(self.nb["cells"]):
            self.where = f"cell {index}"
            if cell["cell_type"] == "code":
                if only_glues(source(cell)) and "remove-cell" in cell["metadata"].get("tags", []):
                    continue
                code = learner_code_cell(cell)
                if solutions and not open_solution:
                    # Solutions move to the end: code between them would run before them, out of order.
                    self.fail("a code cell between two solutions; put it inside an exercise's solution")
                (solutions if open_solution else cells).append(code)
                if figure_label(cell):
                    caption = cell["metadata"]["mystnb"]["figure"].get("caption", "")
                    number = self.book.targets[figure_label(cell)][0]
                    target = solutions if open_solution else cells
                    target.append(nbformat.v4.new_markdown_cell(f"*{number}.* {caption}"))
                continue
            text, pending = [], []        # this cell's prose, and the pieces not yet placed

            def place():
                """Pending pieces go to the open solution (as one cell) or to this cell's prose."""
                piece = "\n\n".join(p.strip("\n") for p in pending if p.strip())
                pending.clear()
                if piece and open_solution:
                    solutions.append(nbformat.v4.new_markdown_cell(piece))
                elif piece:
                    text.append(piece)

            for block in blocks(source(cell)):
                if block[0] == "directive" and block[1] == "solution-start":
                    place()
                    if open_solution:
                        self.fail(f"solution-start {block[2]} inside the solution of {open_solution}")
                    open_solution = block[2]
                    if open_solution not in self.book.targets:
                        self.fail(f"solution-start {open_solution}: no exercise with that label")
                    number, link = self.book.targets[open_solution]
                    solutions.append(nbformat.v4.new_markdown_cell(
                        f"### Solution to [{number}]({self.book.url}{link})"))
                elif block[0] == "directive" and block[1] == "solution-end":
                    if not open_solution:
                        self.fail("solution-end without a solution-start")
                    place()
                    open_solution = None
                else:
                    pending.append(self.inline(block[1]) if block[0] == "text" else self.directive(*block[1:]))
            place()
            if text:
                cells.append(nbformat.v4.new_markdown_cell("\n\n".join(text)))
        if open_solution:
            self.where = "end of notebook"
            self.fail(f"the solution of {open_solution} is never closed (solution-end)")
        if cells and cells[0].cell_type == "markdown":
            cells[0].source += (f"\n\n*This is the learner's copy of [the chapter's page]({self.book.page(self.stem)}): "
                                "run it top to bottom, change it, break it. The solutions to the exercises are in "
                                "the Solutions section at the end.*")
        if solutions:
            intro = (f"{SOLUTIONS_HEADING}\n\nTry each exercise before you read its solution. The code cells "
                     "below check the answers; they run after the rest of the notebook.")
            cells += [nbformat.v4.new_markdown_cell(intro), *solutions]
        nb = nbformat.v4.new_notebook(cells=cells, metadata=learner_metadata(self.stem, self.book))
        for i, cell in enumerate(nb.cells):
            cell["id"] = f"{self.stem[:2].lower()}-{i:03d}"
        return nb


def quote(text):
    return "\n".join("> " + line if line.strip() else ">" for line in text.split("\n"))


def only_glues(code):
    """True for a cell whose every statement glues a value into the prose (nothing a later cell needs)."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return False

    def is_glue(node):
        if isinstance(node, ast.Expr) and isinstance(node.value, ast.Call):
            return getattr(node.value.func, "id", None) == "glue"
        if isinstance(node, ast.For):
            return all(is_glue(n) for n in node.body) and not node.orelse
        return False
    return bool(tree.body) and all(is_glue(n) for n in tree.body)


def learner_code_cell(cell):
    tags = [t for t in cell["metadata"].get("tags", []) if t in ("hide-input", "hide-output", "remove-cell",
                                                                      "nbval-ignore-output")]
    metadata = {"tags": tags} if tags else {}
    if "hide-input" in tags:
        metadata["jupyter"] = {"source_hidden": True}   # JupyterLab starts it collapsed, as the page does
    return nbformat.v4.new_code_cell(source(cell), metadata=metadata)


def learner_metadata(stem, book):
    """A plain Python 3 notebook that says where it comes from and which page it belongs to."""
    return {"kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
            "lafml": {"generated_from": f"chapters/{stem}.ipynb", "page": book.page(stem),
                      "note": "Generated by tools/learner.py; edit the chapter, then run make learner."}}


def render(nb):
    return nbformat.writes(nb) + "\n"


def learner_notebooks(paths=None):
    """{stem: text of the learner notebook} for every chapter."""
    paths = sorted(paths or CHAPTERS.glob("*.ipynb"))
    book = Book(paths)
    out, errors = {}, []
    for path in paths:
        try:
            out[path.stem] = render(Chapter(book, path).build())
        except LearnerError as error:
            errors.append(str(error))
    if errors:
        raise LearnerError("\n".join(errors))
    return out


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--check", action="store_true", help="fail if notebooks/ differs from what chapters/ gives")
    args = parser.parse_args(argv)
    try:
        wanted = learner_notebooks()
    except LearnerError as error:
        print(f"tools/learner.py: cannot make the learner notebooks:\n{error}", file=sys.stderr)
        return 2
    LEARNER.mkdir(exist_ok=True)
    stale = [stem for stem, text in wanted.items()
             if not (LEARNER / f"{stem}.ipynb").exists() or (LEARNER / f"{stem}.ipynb").read_text() != text]
    strays = sorted(p.name for p in LEARNER.glob("*.ipynb") if p.stem not in wanted)
    if args.check:
        for stem in stale:
            print(f"notebooks/{stem}.ipynb is stale against chapters/{stem}.ipynb (run: make learner)")
        for name in strays:
            print(f"notebooks/{name} has no chapter (delete it)")
        return 1 if stale or strays else 0
    for stem in stale:
        (LEARNER / f"{stem}.ipynb").write_text(wanted[stem])
    for name in strays:
        (LEARNER / name).unlink()
    print(f"learner notebooks: {len(stale)} written, {len(wanted) - len(stale)} unchanged, {len(strays)} removed")
    return 0


if __name__ == "__main__":
    sys.exit(main())
