#!/usr/bin/env node
// Typeset the book's TeX into MathML at build time (called by tools/lafml_site/typeset_math.py), so that
// readers' browsers run no MathJax script: they render MathML Core natively (Chromium >= 109, Firefox,
// Safari) with the book's subset math font, and screen readers read the same MathML.
//
// stdin:  {"pages": [{"name": "chapters/01_vectors", "math": [{"tex": "x^2", "display": false}, ...]}, ...],
//          "variants": {"bold": {"A": "𝐀", ...}, ...}}
// stdout: {"pages": [{"mathml": ["<math>...</math>", ...]}, ...]}
//
// MathML Core leaves out what MathJax's MathML leans on, so it is rewritten into what Core renders:
// - mathvariant (bold, double-struck, ...) other than "normal": the letters become the Unicode
//   mathematical alphanumerics (𝐀, ℝ), from the table "variants" that typeset_math.py derives from Unicode names;
// - mtable's columnalign / columnspacing / rowspacing / columnlines: styles on its cells;
// - an operator of TeX class ORD (a bar |x|, a unary minus in x = -2): explicit zero spacing.
// MathJax's own data-mjx-* attributes (for its renderer) are dropped. A TeX error (an unknown macro,
// unbalanced braces) fails with the page and the TeX.
const {mathjax} = require('mathjax-full/js/mathjax.js');
const {TeX} = require('mathjax-full/js/input/tex.js');
const {liteAdaptor} = require('mathjax-full/js/adaptors/liteAdaptor.js');
const {RegisterHTMLHandler} = require('mathjax-full/js/handlers/html.js');
const {AllPackages} = require('mathjax-full/js/input/tex/AllPackages.js');
const {STATE} = require('mathjax-full/js/core/MathItem.js');
const {TEXCLASS} = require('mathjax-full/js/core/MmlTree/MmlNode.js');
const {SerializedMmlVisitor} = require('mathjax-full/js/core/MmlTree/SerializedMmlVisitor.js');

const input = JSON.parse(require('fs').readFileSync(0, 'utf8'));
RegisterHTMLHandler(liteAdaptor());

let current = null;  // the equation being typeset, for the error message
const tex = new TeX({
  // noerrors/noundefined would print a red box into the page instead of failing the build; bussproofs
  // (proof trees, unused) needs an output renderer to measure boxes
  packages: AllPackages.filter(name => !['noerrors', 'noundefined', 'bussproofs'].includes(name)),
  formatError(jax, error) {
    throw new Error(`${current.page}: TeX error in ${JSON.stringify(current.tex)}: ${error.message}`);
  },
});
const doc = mathjax.document('', {InputJax: tex});

const unset = (attributes, name) => { delete attributes.getAllAttributes()[name]; };
const TOKENS = new Set(['mi', 'mn', 'mo', 'mtext', 'ms']);
const list = (value, n) => {  // "right left" repeated to n entries (MathML's rule: the last one repeats)
  const items = String(value || '').trim().split(/\s+/).filter(Boolean);
  return Array.from({length: n}, (_, i) => items[Math.min(i, items.length - 1)]);
};
const half = length => {  // half of a spacing ("1em" -> "0.5em"), each cell gets half of the gap on each side
  const m = /^([\d.]+)([a-z%]*)$/.exec(length || '');
  return m ? `${+m[1] / 2}${m[2]}` : null;
};

function toCore(node) {
  const attributes = node.attributes;
  if (TOKENS.has(node.kind) && attributes.isSet('mathvariant')) {
    const variant = attributes.get('mathvariant');
    const table = input.variants[variant];
    if (table) {
      let mapped = true;
      for (const child of node.childNodes) {
        if (!child.isKind('text')) continue;
        const text = [...child.getText()].map(c => table[c] || (/[A-Za-z0-9\u0391-\u03c9]/.test(c) ? (mapped = false, c) : c)).join('');
        child.setText(text);
      }
      if (mapped) unset(attributes, 'mathvariant');  // kept where a letter has no Unicode form (Firefox uses it)
    }
  }
  // MathJax spaces an <mo> by its TeX class, not by MathML's operator dictionary: a bar used as a
  // delimiter (\vert, |f|) or a unary sign (= -2) is ORD, no space; the browser would space it as infix
  const bar = node.isKind('mo') && /^[|\u2016\u2223\u2225]$/.test(node.getText ? node.getText() : '') && attributes.get('stretchy') === false;
  if ((bar || (node.isKind('mo') && node.texClass === TEXCLASS.ORD)) && !attributes.isSet('lspace') && !attributes.isSet('rspace')) {
    attributes.set('lspace', '0');
    attributes.set('rspace', '0');
  }
  if (node.isKind('mtable')) {
    const rows = node.childNodes.filter(r => r.isKind('mtr') || r.isKind('mlabeledtr'));
    const columns = Math.max(0, ...rows.map(r => r.childNodes.length));
    const align = list(attributes.get('columnalign'), columns);
    const spacing = list(attributes.get('columnspacing'), Math.max(columns - 1, 1));
    const rowGap = half(list(attributes.get('rowspacing'), 1)[0]);
    const lines = list(attributes.isSet('columnlines') ? attributes.get('columnlines') : 'none', Math.max(columns - 1, 1));
    rows.forEach(row => row.childNodes.forEach((cell, j) => {
      const left = j > 0 ? half(spacing[j - 1]) : '0';
      const right = j < columns - 1 ? half(spacing[j]) : '0';
      // Chromium centres a cell's content and sets any explicit text-align to the start (left): so a
      // left-aligned column (the right-hand sides of an aligned environment) says so, the rest stay centred
      const style = (cell.attributes.get('columnalign') || align[j]) === 'left' ? ['text-align:left'] : [];
      if (left !== null && right !== null && rowGap !== null) style.push(`padding:${rowGap} ${right} ${rowGap} ${left}`);
      if (j < columns - 1 && lines[j] === 'solid') style.push('border-right:1px solid');
      cell.attributes.set('style', style.join(';'));
    }));
    ['columnalign', 'columnspacing', 'rowspacing', 'columnlines'].forEach(name => unset(attributes, name));
  }
  if (!node.isToken) node.childNodes.forEach(toCore);
}

const visitor = new SerializedMmlVisitor();
const pages = input.pages.map(page => ({
  mathml: page.math.map(({tex: source, display}) => {
    current = {page: page.name, tex: source};
    const math = doc.convert(source, {display, end: STATE.CONVERT});
    math.setTeXclass(null);  // the TeX classes of the operators (REL, BIN, ORD ...), as MathJax's renderers compute them
    toCore(math);
    // one line per equation: the page's bytes, and no indentation inside inline text
    return visitor.visitTree(math).replace(/>\s*\n\s*</g, '><').replace(/ data-mjx-[\w-]+="[^"]*"/g, '');
  }),
}));
process.stdout.write(JSON.stringify({pages}));
