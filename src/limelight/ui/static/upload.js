// Dataset upload: streamed multipart XHR with a progress bar; a 422 shows the validation report.
"use strict";

(function () {
  function el(id) { return document.getElementById(id); }

  function showReport(body) {
    const err = (body && body.error) || {};
    const details = err.details || {};
    // table rows by line and column; an image archive reports by file instead
    const files = Array.isArray(details.files) ? details.files : [];
    const rows = Array.isArray(details.errors) ? details.errors
      : files.map((f) => ({ line: f.path, column: "", value: f.status, reason: f.message || f.reason }));
    el("report-summary").textContent = err.message || "The file was rejected.";
    const tbody = el("report-table").querySelector("tbody");
    tbody.replaceChildren();
    for (const problem of rows) {
      const tr = document.createElement("tr");
      for (const value of [problem.line, problem.column, problem.value, problem.reason]) {
        const td = document.createElement("td");
        td.textContent = value === null || value === undefined ? "" : String(value);
        tr.appendChild(td);
      }
      tbody.appendChild(tr);
    }
    el("upload-report").hidden = false;
  }

  function setMessage(text, kind) {
    const box = el("upload-message");
    box.textContent = text;
    box.className = kind || "";
  }

  function upload(form) {
    const file = el("upload-file").files[0];
    const name = el("upload-name").value.trim();
    if (!file || !name) {
      setMessage("Choose a file and a name.", "alert");
      return;
    }
    const data = new FormData();
    data.append("name", name);
    data.append("kind", el("upload-kind").value);
    data.append("description", el("upload-description").value);
    const target = el("upload-target").value.trim();
    if (el("upload-kind").value === "tabular" && target) data.append("target", target);
    if (el("upload-kind").value === "images" && el("upload-skip-invalid").checked) data.append("skip_invalid", "true");
    const labels = el("upload-labels").files[0];
    if (el("upload-kind").value === "images" && labels) data.append("labels", labels, labels.name);
    data.append("file", file, file.name);  // the file part last: the fields are known before it streams

    const xhr = new XMLHttpRequest();
    xhr.open("POST", `/api/v1/orgs/${encodeURIComponent(form.dataset.org)}/datasets`);
    xhr.setRequestHeader("X-CSRF-Token", window.limelight.meta("csrf-token"));
    xhr.setRequestHeader("Accept", "application/json");
    xhr.responseType = "json";
    const bar = el("upload-progress");
    const percent = el("upload-percent");
    xhr.upload.addEventListener("progress", (event) => {
      if (!event.lengthComputable) return;
      const value = Math.round((event.loaded / event.total) * 100);
      bar.value = value;
      percent.textContent = `${value}%`;
    });
    xhr.upload.addEventListener("load", () => {
      bar.value = 100;
      percent.textContent = "100% · validating…";
    });
    xhr.addEventListener("load", () => {
      el("upload-button").disabled = false;
      const body = xhr.response;
      if (xhr.status === 201) {
        percent.textContent = "100% · stored";
        setMessage(`Stored ${body.dataset} version ${body.version}: ${body.rows} rows. `, "notice");
        const link = document.createElement("a");
        link.href = `/datasets/${encodeURIComponent(body.dataset)}?version=${body.version}`;
        link.textContent = `Open ${body.dataset} v${body.version}`;
        link.id = "upload-result-link";
        link.className = "button small primary";
        el("upload-message").appendChild(link);
        link.focus();
        return;
      }
      el("upload-status").hidden = true;  // the bar belongs to a live upload; the refusal replaces it
      if (xhr.status === 422 && body && body.error && body.error.code === "dataset_invalid") {
        setMessage("The file was rejected: nothing was stored. See the report below.", "alert");
        showReport(body);
        return;
      }
      setMessage((body && body.error && body.error.message) || `Upload failed (HTTP ${xhr.status}).`, "alert");
    });
    xhr.addEventListener("error", () => {
      el("upload-button").disabled = false;
      el("upload-status").hidden = true;
      setMessage("The upload was interrupted; check the connection and try again.", "alert");
    });
    el("upload-report").hidden = true;
    el("upload-status").hidden = false;
    el("upload-button").disabled = true;
    bar.value = 0;
    percent.textContent = "0%";
    setMessage("", "");
    xhr.send(data);
  }

  document.addEventListener("DOMContentLoaded", () => {
    const form = el("upload-form");
    if (!form) return;
    const kind = el("upload-kind");
    const showKind = () => {
      el("upload-kind-help").textContent = kind.selectedOptions[0].dataset.help || "";
      el("upload-target-field").hidden = kind.value !== "tabular";  // only tabular data has a target
      el("upload-skip-field").hidden = kind.value !== "images";
      el("upload-labels-field").hidden = kind.value !== "images";
    };
    kind.addEventListener("change", showKind);
    showKind();
    el("upload-file").addEventListener("change", () => {
      const file = el("upload-file").files[0];
      const nameInput = el("upload-name");
      if (file && !nameInput.value) {
        nameInput.value = file.name.replace(/\.[^.]*$/, "").toLowerCase().replace(/[^a-z0-9_-]+/g, "-").replace(/^[-_]+/, "").slice(0, 64);
      }
    });
    form.addEventListener("submit", (event) => {
      event.preventDefault();
      upload(form);
    });
  });
})();
