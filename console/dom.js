// Building the page: elements from data (strings always become text, never HTML), and the one
// place a page replaces the view.

export const view = document.getElementById('view');
let refreshTimer = null;

/** Builds an element; strings become text, never HTML. */
export function h(tag, attrs = {}, ...children) {
  const el = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith('on')) el.addEventListener(name.slice(2), value);
    else if (name === 'class') el.className = value;
    else el.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children.flat()) {
    if (child === undefined || child === null || child === false) continue;
    el.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
  return el;
}

const SVG = 'http://www.w3.org/2000/svg';

/** Builds an SVG element. */
export function svg(tag, attrs = {}, ...children) {
  const el = document.createElementNS(SVG, tag);
  for (const [name, value] of Object.entries(attrs)) el.setAttribute(name, value);
  el.append(...children);
  return el;
}

/** Replaces the page: its title, then its parts (a part left out is null and skipped). */
export function show(title, ...content) {
  clearInterval(refreshTimer);
  document.title = `${title} · Integrations`;
  // `replaceChildren` would print a left-out part as the text "null".
  view.replaceChildren(h('h1', {}, title), ...content.filter((part) => part !== null && part !== undefined && part !== false));
  view.focus();
}

/** Runs `tick` every few seconds until the page changes. */
export function keepFresh(tick, ms = 3000) {
  clearInterval(refreshTimer);
  refreshTimer = setInterval(() => { if (!document.hidden) tick(); }, ms);
}

export const notice = (text, bad) => h('p', { class: bad ? 'notice bad' : 'notice', role: bad ? 'alert' : 'status' }, text);

export const plural = (n, one, many) => `${n} ${n === 1 ? one : many}`;
