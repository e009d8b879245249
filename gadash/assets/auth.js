// When the server answers a callback with 401 (the session ended or a TV link was
// revoked), say so on the page instead of failing silently: the TV shows
// "Signed out", the analyst view offers to sign in again.
(function () {
  const original = window.fetch;
  let shown = false;
  function show(message) {
    if (shown) { return; }
    shown = true;
    const tv = document.querySelector(".tv");
    const box = document.createElement("div");
    box.id = "signed-out";
    box.setAttribute("role", "alert");
    if (tv && /[?&]key=/.test(location.search)) {
      // A TV opened from its link keeps the key in its URL: reopen the link (if it
      // was revoked or expired, the page then says so).
      box.className = "signed-out tv-mode";
      box.textContent = "Reconnecting: " + message + ".";
      setTimeout(function () { location.reload(); }, 5000);
    } else if (tv) {
      box.className = "signed-out tv-mode";
      box.textContent = "Signed out: " + message + ". The numbers below are no longer updated.";
    } else {
      box.className = "signed-out";
      const next = encodeURIComponent(location.pathname + location.search);
      box.innerHTML = "Your session has ended. <a href='/login?next=" + next +
        "'>Sign in again</a> to keep working; this page stays as it is.";
    }
    document.body.appendChild(box);
  }
  window.fetch = function (input, init) {
    return original.apply(this, arguments).then(function (response) {
      const url = typeof input === "string" ? input : (input && input.url) || "";
      if (response.status !== 401 || url.indexOf("_dash-") < 0) { return response; }
      return response.json().catch(function () { return {}; }).then(function (body) {
        show((body && body.message) || "sign in again");
        // To Dash, "no content" means "change nothing": every panel keeps its numbers.
        return new Response(null, { status: 204 });
      });
    });
  };
})();
