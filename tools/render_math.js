#!/usr/bin/env node
// Typeset the book's TeX into SVG at build time (called by tools/lafml_site.py), so that readers'
// browsers download no MathJax script and no math font.
//
// stdin:  {"pages": [{"name": "chapters/01_vectors", "math": [{"tex": "x^2", "display": false}, ...]}, ...]}
// stdout: {"css": "<MathJax's SVG stylesheet>",
//          "pages": [{"svgs": ["<mjx-container ...>", ...], "glyphs": "<svg id=\"MJX-SVG-global-cache\" ...>"}]}
//
// Each page's glyph outlines are stored once (fontCache "global") and referenced with <use>. Every
// equation also carries its MathML, hidden on screen, for screen readers (the assistive-mml extension,
// as in the browser). A TeX error (an unknown macro, unbalanced braces) fails with the page and the TeX.
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {SVG} = require('mathjax-full/js/output/svg.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AssistiveMmlHandler} = require('mathjax-full/js/a11y/assistive-mml.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
const adaptor = liteAdaptor();
AssistiveMmlHandler(RegisterHTMLHandler(adaptor));

let current = null;  // the equation being typeset, for the error message
const tex = new TeX({
  // noerrors/noundefined would print a red box into the page instead of failing the build
  packages: AllPackages.filter(name => name !== 'noerrors' && name !== 'noundefined'),
  formatError(jax, error) {
    throw new Error(`${current.page}: TeX error in ${JSON.stringify(current.tex)}: ${error.message}`);
  },
});
const svg = new SVG({fontCache: 'global'});
const doc = mathjax.document('', {InputJax: tex, OutputJax: svg});

const pages = input.pages.map(page => {
  svg.clearFontCache();
  const svgs = page.math.map(({tex: source, display}) => {
    current = {page: page.name, tex: source};
    const node = doc.convert(source, {display, em: 16, ex: 8, containerWidth: 80 * 16});
    return adaptor.outerHTML(node);
  });
  const glyphs = page.math.length ? adaptor.outerHTML(svg.pageElements(doc)) : '';
  return {svgs, glyphs};
});
const css = adaptor.textContent(svg.styleSheet(doc));
process.stdout.write(JSON.stringify({css, pages}));
