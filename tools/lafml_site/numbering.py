"""Figures, exercises and numbered statements numbered within their chapter: Fig. 7.2, Theorem A.1."""
import re

CHAPTER_DOC = re.compile(r"chapters/(\d\d|[A-Z])_")  # a chapter (07_...) or an appendix (A_...)


def number_by_chapter(assign_figure_numbers):
    """Figures, tables and listings numbered within their chapter ("Fig. 7.2", not "Fig. 61").

    Sphinx numbers them per chapter only under a numbered toctree, which would print "7. 7. ..."
    since the chapter numbers live in the titles; so renumber what it assigned, by the chapter number
    in the file name, keeping the order. Wraps TocTreeCollector.assign_figure_numbers (Sphinx 7.4).
    """
    def assign(collector, env):
        before = env.toc_fignumbers
        assign_figure_numbers(collector, env)
        for docname, by_type in env.toc_fignumbers.items():
            chapter = CHAPTER_DOC.match(docname)
            if chapter:
                for figtype, numbers in by_type.items():
                    ordered = sorted(numbers, key=numbers.get)
                    number = chapter.group(1)
                    number = int(number) if number.isdigit() else number   # Fig. 7.2, Fig. A.1
                    by_type[figtype] = {node_id: (number, k) for k, node_id in enumerate(ordered, 1)}
        return [doc for doc, numbers in env.toc_fignumbers.items() if numbers != before.get(doc)]
    return assign


def install(app):
    """Wrap Sphinx's TocTreeCollector.assign_figure_numbers once per process."""
    from sphinx.environment.collectors.toctree import TocTreeCollector
    if not getattr(TocTreeCollector.assign_figure_numbers, "by_chapter", False):
        TocTreeCollector.assign_figure_numbers = number_by_chapter(TocTreeCollector.assign_figure_numbers)
        TocTreeCollector.assign_figure_numbers.by_chapter = True
