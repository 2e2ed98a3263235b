// Playground: call the real inference and events APIs with the session, show what clients get.
"use strict";

(function () {
  const EXPLAINED = 5;          // "because you watched" for the first few titles
  const CHANGE_RETRIES = 4;     // after an event, re-ask until the list reflects it
  const RETRY_MS = 350;

  const $ = (id) => document.getElementById(id);
  const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

  function newEventId() {
    if (window.crypto && typeof window.crypto.randomUUID === "function") return window.crypto.randomUUID();
    return `ev-${Date.now()}-${Math.random().toString(36).slice(2)}`;
  }

  // ":explain" answers {"explanations": [{"item_id", "title", "because": [{"item_id", "title", "contribution"}]}]}
  function becauseText(answer, itemId) {
    const explanations = (answer && Array.isArray(answer.explanations)) ? answer.explanations : [];
    const entry = explanations.find((e) => e && e.item_id === itemId) || explanations[0];
    const because = entry && Array.isArray(entry.because) ? entry.because : [];
    return because.slice(0, 3).map((b) => (b && (b.title || b.item_id)) || "").filter(Boolean).join(", ");
  }

  function setupRecommender(root) {
    const base = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}`;
    const recs = $("recs");
    const canSendEvents = root.dataset.events === "yes";  // live events belong to the owning org
    const status = $("recs-status");
    let shownIds = [];
    let currentUser = "";

    async function explain(userId, item, holder) {
      try {
        const answer = await window.limelight.api("POST", `${base}:explain`, { user_id: userId, item_id: item.item_id });
        const text = becauseText(answer, item.item_id);
        if (text) holder.textContent = `Because you watched ${text}`;
      } catch (e) {
        holder.textContent = "";
      }
    }

    function renderItem(item, previous, userId) {
      const li = document.createElement("li");
      li.className = "rec" + (previous.length && !previous.includes(item.item_id) ? " rec-new" : "");
      li.dataset.item = item.item_id;
      const head = document.createElement("div");
      head.className = "rec-head";
      const title = document.createElement("span");
      title.className = "rec-title";
      title.textContent = item.title || item.item_id;
      const score = document.createElement("span");
      score.className = "rec-score";
      score.textContent = typeof item.score === "number" ? item.score.toFixed(3) : "";
      const play = document.createElement("button");
      play.type = "button";
      play.className = "button small ghost rec-play";
      play.textContent = "▶ play";
      play.setAttribute("aria-label", `send a play event for ${item.title || item.item_id}`);
      play.addEventListener("click", () => sendEvent(item.item_id, "play"));
      head.append(title, score);
      if (canSendEvents) head.append(play);
      const meta = document.createElement("div");
      meta.className = "rec-meta muted";
      const bits = [item.item_id];
      if (Array.isArray(item.genres) && item.genres.length) bits.push(item.genres.join(", "));
      if (item.year) bits.push(String(item.year));
      meta.textContent = bits.join(" · ");
      const why = document.createElement("div");
      why.className = "rec-why";
      li.append(head, meta, why);
      return li;
    }

    async function recommend(userId, { quiet = false } = {}) {
      const k = Math.max(1, Math.min(100, parseInt($("pg-k").value, 10) || 10));
      const body = { user_id: userId, k, exclude_seen: $("pg-exclude").checked };
      if (!quiet) status.textContent = "Asking…";
      const answer = await window.limelight.api("POST", `${base}:recommend`, body);
      const items = Array.isArray(answer.items) ? answer.items : [];
      const previous = userId === currentUser ? shownIds : [];
      recs.replaceChildren(...items.map((item) => renderItem(item, previous, userId)));
      currentUser = userId;
      const ids = items.map((item) => item.item_id);
      const changed = previous.length ? ids.filter((id, i) => previous[i] !== id).length : 0;
      shownIds = ids;
      $("recs-for").textContent = `for ${userId}`;
      let text = `${items.length} titles from version ${answer.version}`;
      if (answer.fallback) {
        const kind = typeof answer.fallback === "string" ? answer.fallback : "popularity";
        text += ` · fallback: ${kind} (unknown user)`;
      }
      if (previous.length) text += changed ? ` · ${changed} changed` : " · unchanged";
      status.textContent = text;
      document.querySelectorAll(".js-user").forEach((span) => { span.textContent = userId; });
      if (root.dataset.explain === "yes") {
        items.slice(0, EXPLAINED).forEach((item, i) => explain(userId, item, recs.children[i].querySelector(".rec-why")));
      }
      return ids;
    }

    async function sendEvent(itemId, type) {
      const userId = $("pg-user").value.trim();
      if (!userId || !itemId) return;
      const eventStatus = $("event-status");
      eventStatus.textContent = `Sending ${type} of ${itemId}…`;
      try {
        const before = shownIds.slice();
        const result = await window.limelight.api("POST", `/api/v1/orgs/${encodeURIComponent(root.dataset.org)}/events`, {
          events: [{ event_id: newEventId(), user_id: userId, item_id: itemId, type }],
        });
        eventStatus.textContent = `Event stored (${result.accepted} accepted). Updating the list…`;
        for (let attempt = 0; attempt < CHANGE_RETRIES; attempt++) {
          const now = await recommend(userId, { quiet: true });
          if (now.join("|") !== before.join("|")) break;
          await sleep(RETRY_MS);
        }
        eventStatus.textContent = `Sent ${type} of ${itemId} for ${userId}.`;
      } catch (e) {
        eventStatus.textContent = `The event was refused: ${e.message}`;
      }
    }

    $("recommend-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const userId = $("pg-user").value.trim();
      if (!userId) return;
      try {
        await recommend(userId);
      } catch (e) {
        recs.replaceChildren();
        status.textContent = `No answer: ${e.message}`;
      }
    });
    if (canSendEvents) {
      $("event-form").addEventListener("submit", (event) => {
        event.preventDefault();
        sendEvent($("pg-item").value.trim(), $("pg-type").value);
      });
      recs.addEventListener("click", (event) => {
        const li = event.target.closest("li.rec");
        if (li && !event.target.closest("button")) $("pg-item").value = li.dataset.item;
      });
    }
  }

  function setupPredictor(root) {
    const url = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}:predict`;
    $("predict-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = $("predict-status");
      let body;
      try {
        body = JSON.parse($("pg-body").value);
      } catch (e) {
        status.textContent = "The request body is not valid JSON.";
        return;
      }
      status.textContent = "Asking…";
      try {
        const answer = await window.limelight.api("POST", url, body);
        $("predict-output").textContent = JSON.stringify(answer, null, 2);
        status.textContent = `Answered by version ${answer.version}.`;
      } catch (e) {
        $("predict-output").textContent = "";
        status.textContent = `Refused: ${e.message}`;
      }
    });
  }

  // ":classify" answers {"predictions": [{"label", "score", "labels": [{"label", "score"}], "truncated"}]}
  function setupClassifier(root) {
    const url = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}:classify`;
    $("classify-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = $("classify-status");
      const texts = $("pg-texts").value.split("\n").map((t) => t.trim()).filter(Boolean);
      if (!texts.length) { status.textContent = "Write at least one text."; return; }
      const topK = Math.max(1, parseInt($("pg-topk").value, 10) || 1);
      status.textContent = "Asking…";
      try {
        const answer = await window.limelight.api("POST", url, { texts, top_k: topK });
        const items = (answer.predictions || []).map((p, i) => {
          const li = document.createElement("li");
          const text = document.createElement("div");
          text.className = "prediction-text";
          text.textContent = texts[i] + (p.truncated ? " (truncated to the model's limit)" : "");
          li.append(text, ...(p.labels || [{ label: p.label, score: p.score }]).map((l) => window.limelight.scoreRow(l.label, l.score)));
          li.dataset.label = p.label;
          return li;
        });
        $("predictions").replaceChildren(...items);
        status.textContent = `${items.length} answered by version ${answer.version}.`;
      } catch (e) {
        $("predictions").replaceChildren();
        status.textContent = `Refused: ${e.message}`;
      }
    });
  }

  // Text with [start, end) spans wrapped in <mark>, built as DOM nodes (never as HTML).
  function highlighted(text, spans) {
    const box = document.createElement("span");
    let at = 0;
    (Array.isArray(spans) ? spans : []).slice().sort((a, b) => a[0] - b[0]).forEach(([start, end]) => {
      if (start < at || end <= start) return;
      box.append(text.slice(at, start));
      const mark = document.createElement("mark");
      mark.textContent = text.slice(start, end);
      box.append(mark);
      at = end;
    });
    box.append(text.slice(at));
    return box;
  }

  function setupSearch(root) {
    const url = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}:search`;
    $("search-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const status = $("search-status");
      const body = { query: $("pg-query").value, k: Math.max(1, Math.min(100, parseInt($("pg-search-k").value, 10) || 10)),
                     mode: $("pg-mode").value };
      const filters = $("pg-filters").value.trim();
      if (filters) {
        try { body.filters = JSON.parse(filters); } catch (e) { status.textContent = "The filters are not valid JSON."; return; }
      }
      status.textContent = "Searching…";
      try {
        const answer = await window.limelight.api("POST", url, body);
        const items = (answer.items || []).map((item) => {
          const li = document.createElement("li");
          li.dataset.item = item.item_id;
          const marks = item.highlights || {};
          const title = document.createElement("div");
          title.className = "rec-title";
          title.append(highlighted(item.title || item.item_id, marks.title));
          const meta = document.createElement("div");
          meta.className = "rec-meta muted";
          meta.textContent = [item.item_id, typeof item.score === "number" ? item.score.toFixed(3) : ""].filter(Boolean).join(" · ");
          li.append(title, meta);
          if (item.description) {
            const text = document.createElement("div");
            text.className = "prediction-text";
            text.append(highlighted(item.description, marks.description));
            li.append(text);
          }
          return li;
        });
        $("search-results").replaceChildren(...items);
        status.textContent = `${items.length} results from version ${answer.version}` + (answer.index ? ` (${answer.index} index)` : "");
      } catch (e) {
        $("search-results").replaceChildren();
        status.textContent = `Refused: ${e.message}`;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const classifier = $("classify-playground");
    if (classifier) setupClassifier(classifier);
    const search = $("search-playground");
    if (search) setupSearch(search);
    const recommender = $("recommend-playground");
    if (recommender) setupRecommender(recommender);
    const predictor = $("predict-playground");
    if (predictor) setupPredictor(predictor);
  });
})();
