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
// - Their popups (a dropdown's menu, the calendar) are dialogs, and the menu a listbox,
//   with no name: each is named after its control's label.
// - The date picker's "Clear date" is an <a> with no href (no role allows its
//   aria-label, and the keyboard cannot reach it): it becomes a button.
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

  function labelOf(trigger) {  // the visible label of the control a popup belongs to
    const group = trigger?.closest('[role=group][aria-labelledby]:not(.dash-datepicker-input-wrapper)');
    const label = group && document.getElementById(group.getAttribute('aria-labelledby'));
    const text = label?.textContent || trigger?.closest('label')?.firstChild?.textContent || '';
    return text.trim();
  }

  function name(popup) {
    const lists = popup.querySelectorAll('[role=listbox]:not([aria-label])');
    if (popup.hasAttribute('aria-label') && !lists.length) { return; }
    const trigger = document.querySelector(`[aria-controls="${CSS.escape(popup.id)}"]`);
    const calendar = popup.classList.contains('dash-datepicker-content');
    const label = labelOf(trigger);
    if (!popup.hasAttribute('aria-label')) {
      popup.setAttribute('aria-label', calendar ? `${label || 'Dates'}: calendar`
                                                 : label || 'Options');
    }
    lists.forEach(function (list) { list.setAttribute('aria-label', label || 'Options'); });
  }

  function patchPopups() {
    document.querySelectorAll('.dash-dropdown-content[role=dialog], '
                              + '.dash-datepicker-content[role=dialog]').forEach(name);
    document.querySelectorAll('a.dash-datepicker-clear:not([role])').forEach(function (clear) {
      clear.setAttribute('role', 'button');
      clear.tabIndex = 0;
    });
  }

  document.addEventListener('keydown', function (event) {
    if ((event.key === 'Enter' || event.key === ' ')
        && event.target instanceof Element && event.target.matches('a.dash-datepicker-clear')) {
      event.preventDefault();
      event.target.click();
    }
  });

  new MutationObserver(function () { patch(); patchPopups(); }).observe(document.documentElement, {childList: true,
                                                                   subtree: true});
})();
