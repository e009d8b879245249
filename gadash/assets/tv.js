// Big screen: rotation, clock and the stale mark run in the browser, so they
// keep working while the server cannot be reached.
(function () {
  const SCREENS = ["overview", "realtime", "pages", "sources", "trending"];
  const seen = { data: { at: null, okAt: null }, rt: { at: null, okAt: null } };

  function dot(active, title) {
    return { type: "Span", namespace: "dash_html_components",
             props: { className: active ? "dot on" : "dot", title: title } };
  }

  function note(status, key, periodSeconds) {
    // Why this stream of data is stale, or null when it is fresh.
    const track = seen[key];
    if (status && status.at !== track.at) {
      track.at = status.at;
      if (status.ok) { track.okAt = Date.now(); }
    }
    if (!status) { return null; }
    const since = status.label ? "Stale since " + status.label : "No data yet";
    if (!status.ok) { return [since + " · " + (status.short || "error"), status.error]; }
    if (track.okAt && Date.now() - track.okAt > (2 * periodSeconds + 10) * 1000) {
      return [since + " · dashboard server not answering", ""];
    }
    return null;
  }

  window.dash_clientside = Object.assign({}, window.dash_clientside, {
    gadashTv: {
      rotate: function (n, config) {
        const screens = (config && config.screens) || SCREENS;
        const index = (n || 0) % screens.length;
        const classes = SCREENS.map(function (s) {
          return s === screens[index] ? "tv-screen active" : "tv-screen";
        });
        // Panels from Explore (panel:<id>): their screens, as the page drew them.
        const outputs = (window.dash_clientside.callback_context || {}).outputs_list || [];
        const panels = (outputs[SCREENS.length] || []).map(function (o) {
          return o.id.panel === screens[index] ? "tv-screen active" : "tv-screen";
        });
        const dots = screens.length > 1
          ? screens.map(function (s, i) { return dot(i === index, s); }) : [];
        return classes.concat([panels, dots]);
      },
      tick: function (n, status, rtStatus, config) {
        // The room's own clock; data times carry the property's zone.
        const clock = new Date().toLocaleTimeString([], {
          hour: "2-digit", minute: "2-digit", hourCycle: "h23" });
        if (!config) { return [clock, "", "tv-stale"]; }
        const problems = [note(status, "data", config.refresh)];
        if (config.screens.indexOf("realtime") >= 0) {
          problems.push(note(rtStatus, "rt", config.realtime));
        }
        const found = problems.filter(Boolean)[0];
        if (!found) { return [clock, "", "tv-stale"]; }
        // Short in the header, the detail in small type under it.
        const mark = [
          { type: "Span", namespace: "dash_html_components",
            props: { className: "tv-stale-main", children: found[0] } },
          { type: "Span", namespace: "dash_html_components",
            props: { className: "tv-stale-detail", children: found[1] } }];
        return [clock, mark, "tv-stale on"];
      },
      reload: function (n) {
        if (n) { window.location.reload(); }
        return window.dash_clientside.no_update;
      }
    }
  });
})();
