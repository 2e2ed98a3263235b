// Image playground: pictures from a drop or the file picker (a phone's camera roll too) go to the
// real :classify as a multipart upload with the session; each answer shows its labels as bars.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  function thumbnail(file) {
    const img = document.createElement("img");
    img.alt = file.name;
    img.className = "image-thumb";
    const reader = new FileReader();  // a data: URL: the page's CSP allows those, not blob:
    reader.addEventListener("load", () => { img.src = String(reader.result); });
    reader.readAsDataURL(file);
    return img;
  }

  function setup(root) {
    const url = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}:classify`;
    const maxImages = parseInt(root.dataset.maxImages, 10) || 16;
    const picker = $("pg-images");
    const drop = $("image-drop");
    const status = $("image-status");
    let chosen = [];

    function choose(files) {
      chosen = Array.from(files || []).filter((f) => !f.type || f.type.startsWith("image/")).slice(0, maxImages);
      $("image-previews").replaceChildren(...chosen.map((file) => {
        const li = document.createElement("li");
        const name = document.createElement("span");
        name.className = "muted";
        name.textContent = file.name;
        li.append(thumbnail(file), name);
        return li;
      }));
      status.textContent = chosen.length ? `${chosen.length} picture(s) ready.` : "Choose or drop a few pictures.";
    }

    picker.addEventListener("change", () => choose(picker.files));
    ["dragenter", "dragover"].forEach((kind) => drop.addEventListener(kind, (event) => {
      event.preventDefault();
      drop.classList.add("dragging");
    }));
    ["dragleave", "drop"].forEach((kind) => drop.addEventListener(kind, () => drop.classList.remove("dragging")));
    drop.addEventListener("drop", (event) => {
      event.preventDefault();
      choose(event.dataTransfer ? event.dataTransfer.files : []);
    });

    $("image-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      if (!chosen.length) { status.textContent = "Choose at least one picture."; return; }
      const form = new FormData();
      chosen.forEach((file) => form.append("images", file, file.name));
      form.append("top_k", String(Math.max(1, parseInt($("pg-image-topk").value, 10) || 1)));
      status.textContent = "Asking…";
      try {
        const answer = await window.limelight.api("POST", url, form);
        const items = (answer.predictions || []).map((p, i) => {
          const li = document.createElement("li");
          li.className = "image-prediction";
          li.dataset.label = p.label;
          const head = document.createElement("div");
          head.className = "prediction-text";
          head.textContent = chosen[i] ? chosen[i].name : `picture ${i + 1}`;
          li.append(head, ...(p.labels || [{ label: p.label, score: p.score }]).map((l) => window.limelight.scoreRow(l.label, l.score)));
          return li;
        });
        $("image-predictions").replaceChildren(...items);
        status.textContent = `${items.length} answered by version ${answer.version}.`;
      } catch (e) {
        $("image-predictions").replaceChildren();
        const index = e.details && typeof e.details.index === "number" ? e.details.index : null;
        const which = index !== null && chosen[index] ? ` (${chosen[index].name})` : "";
        status.textContent = `Refused${which}: ${e.message}`;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const root = $("image-playground");
    if (root) setup(root);
  });
})();
