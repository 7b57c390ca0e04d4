// Progress pages of runs and drills: while <meta name="ebo-refresh" content="seconds"> is present, fetch the
// page again every few seconds and update its heading, progress bar and figures in place. The page is never
// reloaded while the run goes on, so nothing steals focus or restarts a screen reader (WCAG 2.2.1, axe
// "meta-refresh"); once the run is done or failed, the page is loaded anew to show the result. Without
// JavaScript, the page's "Refresh now" link does the same by hand.
(function () {
  "use strict";
  var meta = document.querySelector('meta[name="ebo-refresh"]');
  if (!meta || !window.fetch || !window.DOMParser) {
    return;
  }
  var every = Math.max(1, parseFloat(meta.getAttribute("content")) || 2) * 1000;
  var parts = ["main h1", "main progress", "main progress + span", "main dl.facts"];

  function update(fresh) {
    parts.forEach(function (selector) {
      var now = document.querySelectorAll(selector);
      var next = fresh.querySelectorAll(selector);
      for (var i = 0; i < now.length && i < next.length; i++) {
        if (now[i].tagName === "PROGRESS") {
          now[i].value = next[i].value;
        }
        if (now[i].innerHTML !== next[i].innerHTML) {
          now[i].innerHTML = next[i].innerHTML;
        }
      }
    });
  }

  function tick() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (resp) {
        if (!resp.ok) {
          throw new Error(String(resp.status));
        }
        return resp.text();
      })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html");
        if (!fresh.querySelector('meta[name="ebo-refresh"]')) {
          window.location.reload();  // done or failed: show the review or the reason
          return;
        }
        update(fresh);
        window.setTimeout(tick, every);
      })
      .catch(function () {
        window.setTimeout(tick, every * 5);  // the server is busy or gone: try again later
      });
  }

  window.setTimeout(tick, every);
})();
