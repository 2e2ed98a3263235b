// Model monitoring: refresh the server-rendered charts every few seconds.
"use strict";

(function () {
  const REFRESH_MS = 5000;

  document.addEventListener("DOMContentLoaded", () => {
    const panel = document.getElementById("monitoring-panel");
    if (!panel) return;
    async function refresh() {
      if (document.hidden) return;
      try {
        const response = await fetch(panel.dataset.refresh, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
        if (response.ok && !response.redirected) panel.innerHTML = await response.text();  // our own escaped template
      } catch (e) {
        // offline for a moment: keep the last charts
      }
    }
    setInterval(refresh, REFRESH_MS);
  });
})();
