// Job page: live progress and logs from the server-sent events stream; results appear at the end.
"use strict";

(function () {
  const TERMINAL = new Set(["succeeded", "failed", "cancelled"]);
  const CURVE_REFRESH_MS = 1500;  // at most one redraw of the training curve per this interval

  // The curve is server-rendered; a new metric point asks for the fragment again (throttled).
  function curveRefresher(holder) {
    let pending = false;
    return function () {
      if (!holder || pending) return;
      pending = true;
      setTimeout(async () => {
        pending = false;
        try {
          const response = await fetch(holder.dataset.refresh, { headers: { "Accept": "text/html" }, credentials: "same-origin" });
          if (response.ok && !response.redirected) holder.innerHTML = await response.text();  // our own escaped template
        } catch (e) {
          // offline for a moment: keep the last curve
        }
      }, CURVE_REFRESH_MS);
    };
  }

  function renderState(box, state) {
    const badge = document.createElement("span");
    badge.className = `state state-${state}`;
    badge.textContent = state;
    box.replaceChildren(badge);
  }

  function appendLog(list, line) {
    if (list.querySelector(`li[data-seq="${line.seq}"]`)) return;
    const item = document.createElement("li");
    item.className = `log-${line.level}`;
    item.dataset.seq = String(line.seq);
    const time = document.createElement("time");
    time.textContent = new Date(line.ts).toISOString().slice(11, 19);
    item.append(time, " " + line.message);
    list.appendChild(item);
    list.scrollTop = list.scrollHeight;
  }

  document.addEventListener("DOMContentLoaded", () => {
    const box = document.getElementById("job");
    if (!box || TERMINAL.has(box.dataset.state)) return;
    const url = `/api/v1/orgs/${encodeURIComponent(box.dataset.org)}/jobs/${encodeURIComponent(box.dataset.job)}/logs`;
    const source = new EventSource(url);
    const bar = document.getElementById("job-progress");
    const percent = document.getElementById("job-percent");
    const list = document.getElementById("job-log");

    const refreshCurve = curveRefresher(document.getElementById("training-curve"));
    source.addEventListener("log", (event) => {
      const line = JSON.parse(event.data);
      appendLog(list, line);
      if (line.level === "metric") refreshCurve();
    });
    source.addEventListener("progress", (event) => {
      const data = JSON.parse(event.data);
      bar.value = data.progress;
      percent.textContent = `${Math.round(data.progress)}%`;
      document.getElementById("job-message").textContent = data.message || "";
      renderState(document.getElementById("job-state"), data.state);
      box.dataset.state = data.state;
    });
    source.addEventListener("end", (event) => {
      source.close();
      const job = JSON.parse(event.data);
      bar.value = job.progress;
      percent.textContent = `${Math.round(job.progress)}%`;
      renderState(document.getElementById("job-state"), job.state);
      box.dataset.state = job.state;
      // The results (metrics, candidates, chart) are rendered by the server: show the finished page.
      setTimeout(() => window.location.reload(), 600);
    });
  });
})();
