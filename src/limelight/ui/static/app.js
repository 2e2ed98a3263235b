// limelight console: shared behaviour (menu, confirmation dialogs, copy buttons, API calls).
"use strict";

(function () {
  const meta = (name) => {
    const el = document.querySelector(`meta[name="${name}"]`);
    return el ? el.getAttribute("content") : "";
  };

  class ApiError extends Error {
    constructor(status, body) {
      const err = (body && body.error) || {};
      super(err.message || `HTTP ${status}`);
      this.status = status;
      this.code = err.code || "http_error";
      this.details = err.details || {};
    }
  }

  // JSON call to the API with the session cookie and the CSRF header (a FormData body goes as
  // multipart/form-data, its boundary set by the browser).
  async function api(method, url, body) {
    const headers = { "Accept": "application/json", "X-CSRF-Token": meta("csrf-token") };
    const init = { method, headers, credentials: "same-origin" };
    if (body instanceof FormData) {
      init.body = body;
    } else if (body !== undefined) {
      headers["Content-Type"] = "application/json";
      init.body = JSON.stringify(body);
    }
    const response = await fetch(url, init);
    const text = await response.text();
    let data = null;
    try { data = text ? JSON.parse(text) : null; } catch (e) { data = null; }
    if (!response.ok) throw new ApiError(response.status, data);
    return data;
  }

  function setupMenu() {
    const toggle = document.querySelector(".nav-toggle");
    const bar = document.getElementById("topbar");
    if (!toggle || !bar) return;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") === "true";
      toggle.setAttribute("aria-expanded", String(!open));
      bar.classList.toggle("open", !open);
    });
  }

  // Forms with data-confirm ask first, in an accessible <dialog>.
  function setupConfirmations() {
    const dialog = document.getElementById("confirm-dialog");
    if (!dialog || typeof dialog.showModal !== "function") return;
    let pending = null;
    document.addEventListener("submit", (event) => {
      const form = event.target;
      if (!(form instanceof HTMLFormElement) || !form.dataset.confirm) return;
      event.preventDefault();
      pending = form;
      document.getElementById("confirm-text").textContent = form.dataset.confirm;
      dialog.returnValue = "";
      dialog.showModal();
      document.getElementById("confirm-ok").focus();
    });
    dialog.addEventListener("close", () => {
      if (dialog.returnValue === "ok" && pending) HTMLFormElement.prototype.submit.call(pending);
      pending = null;
    });
  }

  function setupCopyButtons() {
    document.addEventListener("click", async (event) => {
      const button = event.target.closest("button.copy");
      if (!button) return;
      const source = document.getElementById(button.dataset.copy);
      if (!source) return;
      try {
        await navigator.clipboard.writeText(source.textContent);
        button.textContent = "Copied";
      } catch (e) {
        // Clipboard refused (permissions): select the text so Ctrl+C works.
        const range = document.createRange();
        range.selectNodeContents(source);
        const selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      }
      setTimeout(() => { button.textContent = "Copy"; }, 2000);
    });
  }

  // A label with its probability as a bar: the classifier playgrounds (text and images) answer so.
  function scoreRow(label, score) {
    const row = document.createElement("div");
    row.className = "label-score";
    const name = document.createElement("span");
    name.className = "chip";
    name.textContent = label;
    const meter = document.createElement("meter");
    meter.min = 0; meter.max = 1; meter.value = score;
    const value = document.createElement("span");
    value.textContent = score.toFixed(3);
    row.append(name, meter, value);
    return row;
  }

  // On a phone each table row is drawn as a card (app.css): every cell names its column through
  // data-label, copied here from the table's header, also for rows scripts add later.
  function labelCells(table) {
    const heads = [...table.querySelectorAll("thead th")].map((th) => th.textContent.trim());
    if (!heads.length) return;
    for (const body of table.tBodies) {
      for (const row of body.rows) {
        let column = 0;
        for (const cell of row.cells) {
          if (!cell.hasAttribute("data-label") && heads[column]) cell.setAttribute("data-label", heads[column]);
          column += cell.colSpan || 1;
        }
      }
    }
  }

  function setupStackedTables() {
    // tables written in a model card's Markdown stack like the console's own
    document.querySelectorAll(".model-card-body table").forEach((t) => t.classList.add("stacks"));
    const labelAll = () => document.querySelectorAll("table").forEach(labelCells);
    labelAll();
    new MutationObserver((changes) => {
      const tables = new Set();
      for (const change of changes) {
        const table = change.target.closest && change.target.closest("table");
        if (table) tables.add(table);
      }
      tables.forEach(labelCells);
    }).observe(document.body, { childList: true, subtree: true });
  }

  window.limelight = { api, ApiError, meta, scoreRow };
  document.addEventListener("DOMContentLoaded", () => {
    setupMenu();
    setupConfirmations();
    setupCopyButtons();
    setupStackedTables();
  });
})();
