// Table cells that filter the dashboard (class "cell-link") work from the keyboard
// as they do with the mouse: Enter or Space on the focused cell clicks it.
document.addEventListener('keydown', function (event) {
  if (event.key !== 'Enter' && event.key !== ' ') { return; }
  const cell = event.target;
  if (cell instanceof HTMLElement && cell.matches('.ag-cell.cell-link')) {
    event.preventDefault();
    event.stopPropagation();
    cell.click();
  }
}, true);
