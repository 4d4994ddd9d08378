// tisiwatch workspace: no inline script anywhere (the Content-Security-Policy forbids it).
// Keyboard shortcuts are declared in the page as data-key attributes on buttons and links:
// pressing the key (outside a text field) clicks the element.
document.addEventListener("keydown", (event) => {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  const target = event.target;
  if (target instanceof HTMLElement && target.closest("input, textarea, select, [contenteditable]")) return;
  const element = document.querySelector(`[data-key="${CSS.escape(event.key)}"]`);
  if (element instanceof HTMLElement) {
    event.preventDefault();
    element.click();
  }
});
