// 预算编辑 grid keys (issue 11 item 19), for inputs marked data-grid-col: Enter saves the cell (its blur saves it)
// and moves to the same column of the next row; Esc puts back the stored value (the input's defaultValue) and
// leaves the cell, so nothing is saved. Keys typed while an IME is composing Chinese text are left alone.
document.addEventListener("keydown", (event) => {
  const input = event.target;
  if (!(input instanceof HTMLInputElement) || !input.dataset.gridCol || event.isComposing) {
    return;
  }
  if (event.key === "Escape") {
    event.preventDefault();
    input.value = input.defaultValue;
    input.blur();
  } else if (event.key === "Enter") {
    event.preventDefault();
    const row = input.closest("tr");
    let next = row ? row.nextElementSibling : null;
    let target = null;
    while (next && !target) {
      target = next.querySelector(`input[data-grid-col="${input.dataset.gridCol}"]`);
      next = next.nextElementSibling;
    }
    if (target) {
      target.focus();  // the current cell's blur saves it
      target.select();
    } else {
      input.blur();
    }
  }
});
