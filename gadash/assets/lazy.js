// Panels below the fold are mounted when their box comes near the viewport: each
// box (class "lazy", data-seen naming its store) sets that store to true once it
// is within 200 px of the viewport, and the page's callback mounts the panel. A
// first visit builds only the panels on screen.
// Keyboard users get the panels ahead of their focus: each Tab press mounts those
// within a screen's height below the focused element (above it with Shift), so no
// table is tabbed past while it loads, and the first Tab does not build every panel
// of the page in one go. Printing starts mounting them all, but the browser prints
// at once: a print shows the panels scrolled to (or, printed again, all of them).
// No page loads AG Grid's code up front (gadash.web.middleware.speed names it in a meta tag): a
// table's box (data-grid) loads it first, once.
(function () {
  let gridCode = null;

  function loadGridCode() {
    if (window.dash_ag_grid) { return Promise.resolve(); }
    if (!gridCode) {
      const meta = document.querySelector('meta[name="gadash-grid-scripts"]');
      const sources = (meta?.content || '').split(' ').filter(Boolean);
      gridCode = sources.reduce(function (previous, src) {
        return previous.then(function () {
          return new Promise(function (resolve, reject) {
            const script = document.createElement('script');
            script.src = src;
            script.onload = resolve;
            script.onerror = function () {
              gridCode = null;
              script.remove();
              reject(new Error(src));
            };
            document.head.appendChild(script);
          });
        });
      }, Promise.resolve());
    }
    return gridCode;
  }

  function mount(box) {
    if (box.dataset.mounted) { return true; }
    if (!window.dash_clientside?.set_props) { return false; }  // Dash not ready yet
    box.dataset.mounted = '1';
    const ready = box.dataset.grid ? loadGridCode() : Promise.resolve();
    ready.then(function () {
      window.dash_clientside.set_props(box.dataset.seen, {data: true});
    }, function () {
      setTimeout(function () {  // the code did not load: look again in 5 s
        delete box.dataset.mounted;
        if (seen) { seen.observe(box); } else { mount(box); }
      }, 5000);
    });
    return true;
  }

  // Without IntersectionObserver (old browsers), every panel mounts at once.
  const seen = !('IntersectionObserver' in window) ? null : new IntersectionObserver(
    function (entries) {
      entries.forEach(function (entry) {
        if (!entry.isIntersecting) { return; }
        seen.unobserve(entry.target);
        if (!mount(entry.target)) {  // look again soon
          setTimeout(function () { seen.observe(entry.target); }, 100);
        }
      });
    }, {rootMargin: '0px 0px 200px 0px'});

  // A box marked data-near="0" (a table's heavy code, just under the first screen)
  // mounts only once it is actually in view.
  const inView = !seen ? null : new IntersectionObserver(function (entries) {
    entries.forEach(function (entry) {
      if (!entry.isIntersecting) { return; }
      inView.unobserve(entry.target);
      if (!mount(entry.target)) {
        setTimeout(function () { inView.observe(entry.target); }, 100);
      }
    });
  });

  function watch() {
    document.querySelectorAll('.lazy[data-seen]:not([data-watched])').forEach(function (box) {
      box.dataset.watched = '1';
      if (seen) {
        (box.dataset.near === '0' ? inView : seen).observe(box);
      } else if (!mount(box)) {  // Dash not ready yet: look again soon
        delete box.dataset.watched;
        setTimeout(watch, 100);
      }
    });
  }

  function mountAll() {
    document.querySelectorAll('.lazy[data-seen]:not([data-mounted])').forEach(mount);
  }

  function mountAhead(back) {
    const here = document.activeElement;
    const at = here && here !== document.body ? here.getBoundingClientRect()
      : {top: 0, bottom: 0};
    const reach = window.innerHeight;
    document.querySelectorAll('.lazy[data-seen]:not([data-mounted])').forEach(function (box) {
      const where = box.getBoundingClientRect();
      const near = back ? where.bottom >= at.top - reach && where.top <= at.bottom
        : where.top <= at.bottom + reach && where.bottom >= at.top;
      if (near) { mount(box); }
    });
  }

  // Boxes appear whenever Dash renders the page (and again after navigating).
  new MutationObserver(watch).observe(document.documentElement, {childList: true,
                                                                 subtree: true});
  document.addEventListener('keydown', function (event) {
    if (event.key === 'Tab') { mountAhead(event.shiftKey); }
  }, true);
  window.addEventListener('beforeprint', mountAll);
})();
