// Generation playgrounds: chat (OpenAI-compatible, streamed), templates (:generate, streamed) and the
// support assistant (:ask with its citations). Every call is the real API with the session cookie.
"use strict";

(function () {
  const $ = (id) => document.getElementById(id);

  function intOrNull(value) {
    const n = parseInt(value, 10);
    return Number.isFinite(n) ? n : null;
  }

  function numberIn(value, low, high, fallback) {
    const n = parseFloat(value);
    return Number.isFinite(n) ? Math.max(low, Math.min(high, n)) : fallback;
  }

  // POST `body` and call onEvent(parsedJson) for each server-sent event until `data: [DONE]` or the end.
  // A refusal before the stream starts arrives as a normal JSON error body; one during it as {"error"}.
  async function streamEvents(url, body, signal, onEvent) {
    const response = await fetch(url, {
      method: "POST", signal, credentials: "same-origin",
      headers: { "Content-Type": "application/json", "Accept": "text/event-stream",
                 "X-CSRF-Token": window.limelight.meta("csrf-token") },
      body: JSON.stringify(body),
    });
    if (!response.ok) {
      let message = `HTTP ${response.status}`;
      try { message = (await response.json()).error.message || message; } catch (e) { /* not JSON */ }
      throw new Error(message);
    }
    const reader = response.body.getReader();
    const decoder = new TextDecoder();
    let buffer = "";
    for (;;) {
      const { value, done } = await reader.read();
      if (done) return;
      buffer += decoder.decode(value, { stream: true });
      let cut;
      while ((cut = buffer.indexOf("\n\n")) >= 0) {
        const block = buffer.slice(0, cut);
        buffer = buffer.slice(cut + 2);
        const data = block.split("\n").filter((l) => l.startsWith("data:")).map((l) => l.slice(5).trimStart()).join("\n");
        if (!data) continue;
        if (data === "[DONE]") return;
        const event = JSON.parse(data);
        if (event.error) throw new Error(event.error.message || "the stream failed");
        onEvent(event);
      }
    }
  }

  // Run one streamed call with a Stop button wired to abort it (the server stops generating).
  async function withStop(sendButton, stopButton, status, run) {
    const controller = new AbortController();
    const stop = () => controller.abort();
    sendButton.disabled = true;
    stopButton.disabled = false;
    stopButton.addEventListener("click", stop, { once: true });
    try {
      await run(controller.signal);
    } catch (e) {
      status.textContent = e.name === "AbortError" ? "Stopped." : `Refused: ${e.message}`;
    } finally {
      sendButton.disabled = false;
      stopButton.disabled = true;
      stopButton.removeEventListener("click", stop);
    }
  }

  function setupChat(root) {
    const log = $("chat-log");
    const status = $("chat-status");
    let history = [];

    function bubble(role, text) {
      const li = document.createElement("li");
      li.className = `chat-${role}`;
      li.dataset.role = role;
      const who = document.createElement("div");
      who.className = "muted";
      who.textContent = role === "user" ? "You" : "Model";
      const body = document.createElement("div");
      body.className = "chat-text";
      body.textContent = text;
      li.append(who, body);
      log.append(li);
      return body;
    }

    function settings() {
      const body = { model: root.dataset.ref, stream: true, stream_options: { include_usage: true },
                     max_tokens: Math.max(1, intOrNull($("pg-max-tokens").value) || 128),
                     temperature: numberIn($("pg-temperature").value, 0, 2, 0.7),
                     top_p: numberIn($("pg-top-p").value, 0.01, 1, 0.95) };
      const seed = intOrNull($("pg-seed").value);
      if (seed !== null) body.seed = seed;
      const stop = $("pg-stop").value;
      if (stop) body.stop = [stop];
      return body;
    }

    $("chat-clear").addEventListener("click", () => { history = []; log.replaceChildren(); status.textContent = "New chat."; });
    $("chat-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const text = $("pg-message").value.trim();
      if (!text) return;
      const system = $("pg-system").value.trim();
      const messages = [...(system ? [{ role: "system", content: system }] : []), ...history, { role: "user", content: text }];
      bubble("user", text);
      const out = bubble("assistant", "");
      $("pg-message").value = "";
      status.textContent = "Generating…";
      const started = performance.now();
      let answer = "";
      let usage = null;
      let firstMs = null;
      await withStop($("chat-send"), $("chat-stop"), status, async (signal) => {
        await streamEvents("/v1/chat/completions", { ...settings(), messages }, signal, (chunk) => {
          const delta = chunk.choices && chunk.choices[0] && chunk.choices[0].delta;
          if (delta && delta.content) {
            if (firstMs === null) firstMs = performance.now() - started;
            answer += delta.content;
            out.textContent = answer;
          }
          if (chunk.usage) usage = chunk.usage;
        });
        const seconds = (performance.now() - started) / 1000;
        const tokens = usage ? usage.completion_tokens : null;
        status.textContent = tokens === null ? "Done." :
          `${tokens} tokens in ${seconds.toFixed(1)} s (first after ${Math.round(firstMs || 0)} ms).`;
      });
      history = [...history, { role: "user", content: text }, { role: "assistant", content: answer }];
    });
  }

  function base64Url(base64, type) {
    const bytes = Uint8Array.from(atob(base64), (c) => c.charCodeAt(0));
    return URL.createObjectURL(new Blob([bytes], { type }));
  }

  function showMusic(output) {
    if (!output || !output.midi_base64) return;
    $("template-music").hidden = false;
    $("template-midi").href = base64Url(output.midi_base64, "audio/midi");
    if (output.audio_base64) $("template-audio").src = base64Url(output.audio_base64, output.audio_media_type || "audio/wav");
  }

  function setupTemplate(root) {
    const url = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}:generate`;
    const status = $("template-status");
    $("template-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const variables = {};
      root.querySelectorAll("[data-variable]").forEach((field) => {
        if (field.value !== "") variables[field.dataset.variable] = field.value;
      });
      const body = { variables, stream: true, max_tokens: Math.max(1, intOrNull($("pg-tpl-max-tokens").value) || 256),
                     temperature: numberIn($("pg-tpl-temperature").value, 0, 2, 0.8) };
      const seed = intOrNull($("pg-tpl-seed").value);
      if (seed !== null) body.seed = seed;
      $("template-text").textContent = "";
      $("template-json").hidden = true;
      $("template-music").hidden = true;
      status.textContent = "Generating…";
      let text = "";
      await withStop($("template-send"), $("template-stop"), status, async (signal) => {
        await streamEvents(url, body, signal, (ev) => {
          if (ev.event === "delta") { text += ev.text; $("template-text").textContent = text; }
          if (ev.event === "end") {
            if (ev.output && root.dataset.output === "json") {
              $("template-json").hidden = false;
              $("template-json").textContent = JSON.stringify(ev.output, null, 2);
            }
            if (root.dataset.output === "abc") showMusic(ev.output);
            status.textContent = `Done: ${ev.completion_tokens} tokens (${ev.finish_reason}).`;
          }
        });
      });
    });
  }

  function setupAsk(root) {
    const url = `/v1/models/${encodeURIComponent(root.dataset.org)}/${encodeURIComponent(root.dataset.model)}:ask`;
    const status = $("ask-status");
    $("ask-form").addEventListener("submit", async (event) => {
      event.preventDefault();
      const question = $("pg-question").value.trim();
      if (!question) return;
      status.textContent = "Looking it up…";
      $("ask-answer").textContent = "";
      try {
        const answer = await window.limelight.api("POST", url, { question, k: Math.max(1, intOrNull($("pg-ask-k").value) || 3) });
        $("ask-answer").textContent = answer.answer;
        const items = (answer.citations || []).map((c, i) => {
          const li = document.createElement("li");
          li.dataset.doc = c.doc_id;
          const title = document.createElement("div");
          title.className = "rec-title";
          title.textContent = `[${i + 1}] ${c.title || c.doc_id}`;
          const passage = document.createElement("div");
          passage.className = "prediction-text muted";
          passage.textContent = c.passage;
          li.append(title, passage);
          return li;
        });
        $("ask-citations").replaceChildren(...items);
        status.textContent = answer.abstained
          ? "The documents do not answer this; the closest passages are listed."
          : `Answered by version ${answer.version} from ${items.length} passages.`;
      } catch (e) {
        $("ask-citations").replaceChildren();
        status.textContent = `Refused: ${e.message}`;
      }
    });
  }

  document.addEventListener("DOMContentLoaded", () => {
    const chat = $("chat-playground");
    if (chat) setupChat(chat);
    const template = $("template-playground");
    if (template) setupTemplate(template);
    const ask = $("ask-playground");
    if (ask) setupAsk(ask);
  });
})();
