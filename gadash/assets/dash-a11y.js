// Dash 4.4's own controls, patched where they render, so no page carries their two
// accessibility faults (axe-core's aria-hidden-focus and aria-allowed-attr):
// - dcc.Dropdown puts an aria-hidden, tabbable <input> before its button (the button
//   itself is tabindex -1; the input forwards focus to it). The input is disabled
//   (nothing hidden can take focus) and the button, which carries the name and the
//   popup, becomes the Tab stop in its place.
// - dcc.DatePickerRange's input wrapper is a <div> with aria-expanded/aria-haspopup
//   (the calendar's trigger) and no role, labelled by ids that do not exist
//   ("undefined"). It becomes a group (a role that allows aria-expanded) labelled by
//   its two inputs.
// React sets these props only when their values change, which they never do, so a
// patch holds; a control rendered again (a new element) is patched as it appears.
(function () {
  function patch() {
    document.querySelectorAll('input.dash-dropdown-focus-target:not([disabled])')
      .forEach(function (input) {
        input.disabled = true;
        const button = input.nextElementSibling;
        if (button instanceof HTMLButtonElement && button.classList.contains('dash-dropdown')) {
          button.tabIndex = 0;
        }
      });
    document.querySelectorAll('.dash-datepicker-input-wrapper:not([role])').forEach(function (box) {
      box.setAttribute('role', 'group');
      const named = (box.getAttribute('aria-labelledby') || '').split(/\s+/)
        .filter(function (id) { return id && id !== 'undefined' && document.getElementById(id); });
      if (named.length) {
        box.setAttribute('aria-labelledby', named.join(' '));
      } else {
        box.removeAttribute('aria-labelledby');
      }
    });
  }

  new MutationObserver(patch).observe(document.documentElement, {childList: true,
                                                                   subtree: true});
})();
