/* magbot's embedded chat. Everything from the network or the URL is inserted as text, never as HTML;
 * only a citation's own PubMed, PMC or DOI address becomes a link. */
(function () {
  "use strict";
  var SAFE_LINK = null;  // the server's link rule (/api/config); until it is known, nothing is a link
  // Banners, certainty labels, feedback reasons, the history limit and the stored-data notice come from the
  // server (/api/config), so every front end shows the same words.
  var config = { banners: {}, certainty: {}, reasons: [], history_items: 20, stored_notice: "" };
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
    var name = c.label || c.title || "";
    if (typeof c.url === "string" && SAFE_LINK && SAFE_LINK.test(c.url)) {
      var a = el("a", "", name);
      a.href = c.url;
      a.target = "_blank";
      a.rel = "noopener noreferrer";
      title.appendChild(a);
    } else {
      title.textContent = name;
    }
    box.appendChild(title);
    box.appendChild(el("div", "note", c.evidence_note || ""));
    var details = el("details");
    details.appendChild(el("summary", "", "Supporting passage"));
    details.appendChild(el("blockquote", "", c.quote || ""));
    box.appendChild(details);
    return box;
  }

  function post(body, done) {
    fetch("/api/feedback", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (resp) {
      done(resp.ok ? "Thanks, your feedback was saved." : "Feedback could not be saved (error " + resp.status + ").");
    }).catch(function () { done("Feedback could not be saved right now."); });
  }

  function rating(answer) {
    var box = el("div", "rate");
    var up = el("button", "thumb", "👍");
    var down = el("button", "thumb", "👎");
    up.type = down.type = "button";
    up.setAttribute("aria-label", "Helpful");
    down.setAttribute("aria-label", "Not helpful");
    var said = el("p", "said");
    said.setAttribute("role", "status");
    function finish(text) { box.textContent = ""; box.appendChild(said); said.textContent = text; }
    up.addEventListener("click", function () { post({ rating: "up", answer: answer }, finish); });
    down.addEventListener("click", function () {
      box.textContent = "";
      var why = el("fieldset", "why");
      why.appendChild(el("legend", "", "What was wrong with this answer? (optional)"));
      config.reasons.forEach(function (r, i) {
        var label = el("label");
        var radio = el("input");
        radio.type = "radio";
        radio.name = "reason-" + Math.random().toString(36).slice(2);
        radio.value = r;
        label.appendChild(radio);
        label.appendChild(document.createTextNode(" " + r));
        why.appendChild(label);
        if (i === 0) { why.dataset.group = radio.name; }
      });
      var comment = el("textarea", "comment");
      comment.maxLength = 2000;
      comment.rows = 2;
      comment.setAttribute("aria-label", "Anything else? (optional)");
      comment.placeholder = "Anything else? (optional)";
      why.appendChild(comment);
      var save = el("button", "save", "Send feedback");
      save.type = "button";
      save.addEventListener("click", function () {
        var picked = why.querySelector("input:checked");
        var body = { rating: "down", answer: answer, reason: picked ? picked.value : null };
        if (comment.value.trim()) { body.comment = comment.value.trim(); }
        post(body, finish);
      });
      why.appendChild(save);
      box.appendChild(why);
      why.scrollIntoView({ block: "nearest" });
      var first = why.querySelector("input");
      if (first) { first.focus(); }
    });
    box.appendChild(up);
    box.appendChild(down);
    return box;
  }

  function render(node, answer) {
    node.textContent = "";
    var banner = config.banners[answer.status];
    node.className = "msg bot " + (banner ? banner.kind : "");
    if (banner) { node.appendChild(el("div", "banner", banner.title)); }
    if (answer.notice) { node.appendChild(el("p", "check", answer.notice)); }
    var text = String(answer.answer || "");
    var bottom = String(answer.bottom_line || "");
    if (bottom && text.indexOf(bottom) === 0) {  // the bottom line first and prominent, with its certainty
      var lead = el("p", "bottom");
      lead.appendChild(el("strong", "", bottom));
      var label = config.certainty[answer.certainty];
      if (label) { lead.appendChild(el("span", "certainty", label)); }
      node.appendChild(lead);
      text = text.slice(bottom.length);
    }
    paragraphs(node, text);
    (answer.citations || []).forEach(function (c) { node.appendChild(card(c)); });
    node.appendChild(el("p", "disclaimer", answer.disclaimer || ""));
    node.appendChild(rating(answer));
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
    var asked = el("div", "msg user", question);
    log.appendChild(asked);
    var reply = el("div", "msg bot", "…");
    log.appendChild(reply);
    log.scrollTop = log.scrollHeight;
    send.disabled = true;
    var text = "";
    fetch("/api/ask/stream", {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ question: question, history: history.slice(-config.history_items) })
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
              asked.scrollIntoView({ block: "start" });  // the question and the start of its answer
            }
            else if (event === "error") { fail(reply, data.detail || "magbot could not answer just now."); }
          });
          if (!reply.querySelector(".bottom, .banner")) { log.scrollTop = log.scrollHeight; }
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
    fetch("/api/config").then(function (r) { return r.ok ? r.json() : null; }).then(function (body) {
      if (body) {
        config = body;
        document.getElementById("stored").textContent = body.stored_notice || "";
        if (typeof body.link_rule === "string") { SAFE_LINK = new RegExp(body.link_rule); }
      }
    }).catch(function () { /* the defaults above still show answers */ });
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
