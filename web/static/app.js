// tisiwatch workspace: no inline script anywhere (the Content-Security-Policy forbids it).
// Keyboard shortcuts are declared in the page as data-key attributes on buttons and links:
// pressing the key (outside a text field) clicks the element. In a list of rows (tr[data-row]),
// j/k move the current row, x ticks it, o opens its link; a "select-all" box ticks every row.
function rows() {
  return Array.from(document.querySelectorAll("tr[data-row]"));
}

function move(step) {
  const all = rows();
  if (all.length === 0) return;
  const current = all.findIndex((row) => row.classList.contains("current"));
  const next = Math.min(all.length - 1, Math.max(0, current < 0 ? 0 : current + step));
  all.forEach((row) => row.classList.remove("current"));
  all[next].classList.add("current");
  all[next].scrollIntoView({ block: "nearest" });
}

function current() {
  return document.querySelector("tr[data-row].current");
}

const ROW_KEYS = {
  j: () => move(1),
  k: () => move(-1),
  x: () => current()?.querySelector("input[type=checkbox]")?.click(),
  o: () => current()?.querySelector("a.open")?.click(),
};

document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  const typing = "input:not([type=checkbox]):not([type=radio]), textarea, select, [contenteditable]";
  if (target instanceof HTMLElement && target.closest(typing)) return;
  if (ROW_KEYS[event.key] && rows().length > 0) {
    event.preventDefault();
    ROW_KEYS[event.key]();
    return;
  }
  const element = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (element instanceof HTMLElement) {
    event.preventDefault();
    element.click();
  }
});

document.addEventListener("change", (event) => {
  const box = event.target;
  if (!(box instanceof HTMLInputElement) || !box.classList.contains("select-all")) return;
  const table = box.closest("table");
  table?.querySelectorAll("tbody input[type=checkbox]").forEach((row) => {
    row.checked = box.checked;
  });
});

// On a phone the filters start folded (unless one is in use), so the rows are on the first screen.
document.addEventListener("DOMContentLoaded", () => {
  if (!window.matchMedia("(max-width: 700px)").matches) return;
  document.querySelectorAll("details.filters-box:not([data-active])").forEach((box) => {
    box.open = false;
  });
});

// A refused decision answers with its reason as HTML (status 400): show it rather than nothing.
document.addEventListener("htmx:beforeSwap", (event) => {
  if (event.detail.xhr.status === 400 && event.detail.xhr.getResponseHeader("content-type")?.startsWith("text/html")) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});
