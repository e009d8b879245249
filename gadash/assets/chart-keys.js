// A chart's bars (a donut's slices) as buttons, for the keyboard: clicking a bar
// filters the view to its value, which a mouse alone could do. Each chart that
// filters has an empty list under it (class "chart-keys-list", data-graph naming the
// graph); whenever the graph draws new data, the list gets one button per bar with a
// value (GA's "(other)" is none), largest first. The list is visually hidden until one
// of its buttons has focus (gadash.css). A button sets the graph's clickData as a
// click on its bar would, so the view's callback takes it the same way.
(function () {
  const drawn = new WeakMap();  // list -> what it shows, as JSON

  function bars(graph) {
    const trace = (graph?.data || [])[0];
    if (!trace || !Array.isArray(trace.customdata)) { return []; }
    const flat = trace.type === 'bar' && trace.orientation === 'h';
    const labels = trace.type === 'pie' ? trace.labels : flat ? trace.y : trace.x;
    const values = trace.type === 'pie' ? trace.values : flat ? trace.x : trace.y;
    if (!Array.isArray(labels) || !Array.isArray(values)) { return []; }
    const out = labels.map(function (label, i) {
      return {label: String(label), value: Number(values[i]) || 0, target: trace.customdata[i]};
    }).filter(function (bar) { return bar.target; });
    // Horizontal bars are drawn bottom-up; the buttons read top-down, as the chart does.
    return flat ? out.reverse() : out;
  }

  function draw(list) {
    const graph = document.getElementById(list.dataset.graph)?.querySelector('.js-plotly-plot');
    const shown = bars(graph);
    const key = JSON.stringify(shown);
    if (drawn.get(list) === key) { return; }
    drawn.set(list, key);
    const had = list.contains(document.activeElement) ? document.activeElement : null;
    const unit = list.dataset.unit || '';
    const what = list.dataset.what || '';
    list.replaceChildren(...shown.map(function (bar) {
      const button = document.createElement('button');
      button.type = 'button';
      button.className = 'chart-key';
      button.dataset.value = bar.target;
      button.textContent = `${bar.label}: ${bar.value.toLocaleString('en')} ${unit}`.trim();
      button.title = `Show only ${what} ${bar.target}`.replace(/\s+/g, ' ');
      return button;
    }));
    const box = list.closest('.chart-keys');
    if (box) { box.hidden = !shown.length; }
    if (had) {  // the same value's button, else the first: never <body>
      const again = [...list.children].find(function (b) { return b.dataset.value === had.dataset.value; })
        || list.firstElementChild;
      if (again) {
        again.focus({preventScroll: true});
        again.scrollIntoView({block: 'nearest'});
      }
    }
  }

  let queued = false;
  function drawAll() {
    queued = false;
    document.querySelectorAll('.chart-keys-list[data-graph]').forEach(draw);
  }
  new MutationObserver(function () {
    if (!queued) { queued = true; requestAnimationFrame(drawAll); }
  }).observe(document.documentElement, {childList: true, subtree: true});

  document.addEventListener('click', function (event) {
    const button = event.target instanceof Element && event.target.closest('.chart-keys-list button');
    if (!button || !window.dash_clientside?.set_props) { return; }
    const list = button.closest('.chart-keys-list');
    window.dash_clientside.set_props(list.dataset.graph, {clickData: {
      points: [{customdata: button.dataset.value, label: button.dataset.value}]}});
  });
})();
