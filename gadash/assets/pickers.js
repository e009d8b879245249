// Filter pickers (<details class="picker">): one open at a time; Escape or a click
// elsewhere closes the open one, and Escape gives focus back to its button.
(function () {
  function pickers() { return document.querySelectorAll('details.picker[open]'); }
  document.addEventListener('toggle', function (event) {
    const box = event.target;
    if (!(box instanceof HTMLDetailsElement) || !box.classList.contains('picker') || !box.open) {
      return;
    }
    pickers().forEach(function (other) { if (other !== box) { other.open = false; } });
  }, true);
  document.addEventListener('keydown', function (event) {
    if (event.key !== 'Escape') { return; }
    const box = event.target.closest && event.target.closest('details.picker[open]');
    // A dropdown's own menu takes the first Escape.
    if (box && !box.querySelector('[aria-expanded="true"]')) {
      box.open = false;
      box.querySelector('summary').focus();
    }
  });
  document.addEventListener('click', function (event) {
    pickers().forEach(function (box) {
      if (!box.contains(event.target) && document.contains(event.target)) { box.open = false; }
    });
  });
})();
