/* magbot's embedded chat. Everything from the network or the URL is inserted as text, never as HTML;
 * only a citation's own PubMed, PMC or DOI address becomes a link. */
(function () {
  "use strict";
  var SAFE_LINK = /^https:\/\/(pubmed\.ncbi\.nlm\.nih\.gov|pmc\.ncbi\.nlm\.nih\.gov|doi\.org)\//;
  var BANNERS = {
    urgent: "Urgent: get emergency help now",
    not_in_sources: "Not covered by magbot's sources",
    out_of_scope: "Outside what magbot covers",
    invalid: "Please check your question"
  };
  var params = new URLSearchParams(window.location.search);
  var ancestors = window.location.ancestorOrigins;
  var parentOrigin = ancestors && ancestors.length ? ancestors[0] : params.get("host");
  var history = [];
  var log, form, box, send;

  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) { node.className = cls; }
    if (text !== undefined && text !== null) { node.textContent = String(text); }
    return node;
  }

  function tell(type) {
    if (window.parent !== window && parentOrigin) { window.parent.postMessage({ type: type }, parentOrigin); }
  }

  function paragraphs(node, text) {
    String(text).split("\n\n").forEach(function (part) { if (part.trim()) { node.appendChild(el("p", "", part)); } });
  }

  function card(c) {
    var box = el("div", "card");
    var head = el("div");
    head.appendChild(el("span", "marker", c.marker));
    head.appendChild(el("span", "badge " + String(c.evidence_level || "").replace(/[^a-z-]/g, ""), c.evidence_label));
    box.appendChild(head);
    var title = el("div", "title");
    if (typeof c.url === "string" && SAFE_LINK.test(c.url)) {
      var a = el("a", "", c.title);
      a.href = c.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      title.appendChild(a);
    } else {
      title.textContent = c.title;
    }
    box.appendChild(title);
    box.appendChild(el("div", "meta", (c.authors || "") + " (" + (c.year || "n.d.") + "). " + (c.journal || "")));
    box.appendChild(el("div", "note", c.evidence_note || ""));
    var details = el("details");
    details.appendChild(el("summary", "", "Supporting passage"));
    details.appendChild(el("blockquote", "", c.quote || ""));
    box.appendChild(details);
    return box;
  }

  function render(node, answer) {
    node.textContent = "";
    var kind = answer.status === "urgent" ? "urgent" : (BANNERS[answer.status] ? "decline" : "");
    node.className = "msg bot " + kind;
    if (BANNERS[answer.status]) { node.appendChild(el("div", "banner", BANNERS[answer.status])); }
    if (answer.notice) { node.appendChild(el("p", "check", answer.notice)); }
    paragraphs(node, answer.answer || "");
    (answer.citations || []).forEach(function (c) { node.appendChild(card(c)); });
    node.appendChild(el("p", "disclaimer", answer.disclaimer || ""));
  }

  function fail(node, text) {
    node.textContent = "";
    node.className = "msg bot";
    node.appendChild(el("p", "error", text));
  }

  function parseEvents(buffer, onEvent) {
    var parts = buffer.split("\n\n");
    var rest = parts.pop();
    parts.forEach(function (block) {
      var event = "message", data = "";
      block.split("\n").forEach(function (line) {
        if (line.indexOf("event:") === 0) { event = line.slice(6).trim(); }
        else if (line.indexOf("data:") === 0) { data += line.slice(5).trim(); }
      });
      if (data) { onEvent(event, JSON.parse(data)); }
    });
    return rest;
  }

  function ask(question) {
    question = question.trim();
    if (!question) { return; }
    log.appendChild(el("div", "msg user", question));
    var reply = el("div", "msg bot", "…");
    log.appendChild(reply);
    log.scrollTop = log.scrollHeight;
    send.disabled = true;
    var text = "";
    fetch("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question, history: history.slice(-20) })
    }).then(function (resp) {
      if (resp.status === 429) {
        var wait = resp.headers.get("Retry-After") || "60";
        fail(reply, "Too many questions from your connection. Please wait " + wait + " seconds and try again.");
        return null;
      }
      if (resp.status === 422) {
        return resp.json().then(function (body) {
          if (body && body.status) { render(reply, body); } else { fail(reply, "Please check your question."); }
          return null;
        });
      }
      if (!resp.ok || !resp.body) { fail(reply, "magbot could not answer just now (error " + resp.status + ")."); return null; }
      var reader = resp.body.getReader();
      var decoder = new TextDecoder();
      var buffer = "";
      function pump() {
        return reader.read().then(function (chunk) {
          if (chunk.done) { return; }
          buffer = parseEvents(buffer + decoder.decode(chunk.value, { stream: true }), function (event, data) {
            if (event === "delta") { text += data.text; reply.textContent = text; }
            else if (event === "replace") { text = data.text; reply.textContent = text; }
            else if (event === "answer") {
              render(reply, data);
              history.push({ role: "user", content: question }, { role: "assistant", content: data.answer });
            }
          });
          log.scrollTop = log.scrollHeight;
          return pump();
        });
      }
      return pump();
    }).catch(function () {
      fail(reply, "magbot can't be reached right now. Please try again later.");
    }).then(function () {
      send.disabled = false;
      box.focus();
    });
  }

  function start() {
    log = document.getElementById("log");
    form = document.getElementById("form");
    box = document.getElementById("question");
    send = document.getElementById("send");
    var accent = params.get("accent") || "";
    if (/^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/.test(accent)) {
      document.documentElement.style.setProperty("--accent", accent);
    }
    document.getElementById("title").textContent = (params.get("title") || "magbot").slice(0, 80);
    var greeting = params.get("greeting") ||
      "Hi! Ask me what the research says about magnesium and nerve pain. Every answer cites its study.";
    log.appendChild(el("div", "msg bot", greeting.slice(0, 300)));
    var starters = (params.get("starters") || "Does magnesium help nerve pain?|What did the back pain trial find?")
      .split("|").map(function (s) { return s.trim(); }).filter(Boolean).slice(0, 4);
    var holder = document.getElementById("starters");
    starters.forEach(function (q) {
      var b = el("button", "", q.slice(0, 120));
      b.type = "button";
      b.addEventListener("click", function () { ask(q); });
      holder.appendChild(b);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); var q = box.value; box.value = ""; ask(q); });
    box.addEventListener("keydown", function (e) {
      if (e.key === "Enter" && !e.shiftKey) { e.preventDefault(); form.requestSubmit(); }
      if (e.key === "Escape") { tell("magbot:close"); }
    });
    window.addEventListener("message", function (e) {
      if (e.origin === parentOrigin && e.data && e.data.type === "magbot:focus") { box.focus(); }
    });
    box.focus();
    tell("magbot:ready");
  }

  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", start); } else { start(); }
})();
