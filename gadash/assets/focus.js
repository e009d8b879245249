// Focus stays where the user was when an action of theirs redraws what they acted on.
// A "What changed" Filter button, a chip (removing its filter), a table cell or a
// chart's bar button (cross-filtering) each set a filter; the view redraws, and the
// element that had focus is replaced or hidden while its panel loads, so the browser
// drops focus to <body> and the next Tab (and a screen reader) starts at the top.
// After such an action, for a while and until the user presses a key or clicks
// elsewhere, focus lost to <body> is put back where the user was:
// - a Filter button: the same button, else the one now in its place, else the box;
// - a chip: the chip that took its place (the next), else the last, else the filter's
//   picker;
// - a table cell: the same row and column (the last row when fewer), else the header;
// - a chart's bar button: the same value's button, else the one in its place.
(function () {
  const KEEP_MS = 60000;  // a slow GA answer redraws late
  let keeping = null;  // {find: () => Element | null, until: ms, timer: id}

  function stop() {
    if (keeping) { clearInterval(keeping.timer); keeping = null; }
  }

  function lost() {
    const now = document.activeElement;
    return !now || now === document.body || !now.isConnected;
  }

  function restore() {
    if (!keeping) { return; }
    if (Date.now() > keeping.until) { stop(); return; }
    if (!lost()) { return; }
    const target = keeping.find();
    if (target) {  // the page stays put unless the element is out of sight
      target.focus({preventScroll: true});
      if (document.activeElement === target) { target.scrollIntoView({block: 'nearest'}); }
    }
  }

  function keep(find) {
    stop();
    keeping = {find: find, until: Date.now() + KEEP_MS, timer: setInterval(restore, 50)};
  }

  function at(list, index) {
    return list.length ? list[Math.min(index, list.length - 1)] : null;
  }

  function changeButton(button) {
    const box = button.closest('#an-changes');
    const id = button.id;
    const index = [...box.querySelectorAll('button')].indexOf(button);
    return function () {
      return document.getElementById(id)
        || at(document.querySelectorAll('#an-changes button'), index)
        || document.getElementById('an-changes');
    };
  }

  function chip(button) {
    const index = [...document.querySelectorAll('#an-chips .chip')].indexOf(button);
    let name = '';
    try { name = JSON.parse(button.id).filter; } catch (e) { /* no filter named */ }
    return function () {
      return at(document.querySelectorAll('#an-chips .chip'), index)
        || document.querySelector(`details.picker[data-filter="${name}"] > summary`);
    };
  }

  function cell(target) {
    const gridId = target.closest('.ag-theme-quartz[id]')?.id;  // the AgGrid's own id
    const row = Number(target.closest('.ag-row')?.getAttribute('row-index') || 0);
    const column = target.getAttribute('col-id');
    if (!gridId) { return null; }
    return function () {
      const root = document.getElementById(gridId);
      if (!root) { return null; }
      const api = window.dash_ag_grid?.getApi?.(gridId);
      let index = row;
      if (api) {
        const count = api.getDisplayedRowCount();
        if (!count) { return root.querySelector('.ag-header-cell'); }
        index = Math.min(row, count - 1);
        api.ensureIndexVisible(index);
        api.setFocusedCell(index, column);
      }
      return root.querySelector(
        `.ag-center-cols-container .ag-row[row-index="${index}"] .ag-cell[col-id="${column}"]`)
        || root.querySelector('.ag-header-cell');
    };
  }

  function barButton(button) {
    const list = button.closest('.chart-keys-list');
    const graph = list.dataset.graph;
    const value = button.dataset.value;
    const index = [...list.querySelectorAll('button')].indexOf(button);
    return function () {
      const box = document.querySelector(`.chart-keys-list[data-graph="${graph}"]`);
      if (!box) { return null; }
      return [...box.querySelectorAll('button')].find(b => b.dataset.value === value)
        || at(box.querySelectorAll('button'), index);
    };
  }

  // Where the action happened decides what to keep; a click by mouse or keyboard.
  document.addEventListener('click', function (event) {
    const target = event.target instanceof Element ? event.target : null;
    if (!target) { return; }
    let find = null;
    const button = target.closest('button');
    if (button?.closest('#an-changes')) {
      find = changeButton(button);
    } else if (button?.matches('#an-chips .chip')) {
      find = chip(button);
    } else if (button?.closest('.chart-keys-list')) {
      find = barButton(button);
    } else if (target.closest('.ag-cell.cell-link')) {
      find = cell(target.closest('.ag-cell'));
    }
    if (find) { keep(find); }
  }, true);

  // The user moving on ends it: their next key or click elsewhere is theirs.
  document.addEventListener('keydown', function (event) {
    if (keeping && !['Enter', ' '].includes(event.key)) { stop(); }
  }, true);
  document.addEventListener('pointerdown', stop, true);
})();
