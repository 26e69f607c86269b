/* magbot site widget loader. Paste on a page:
 *   <script src="https://MAGBOT-HOST/widget.js" async data-title="Ask magbot"></script>
 * Options (data- attributes): title, accent (#hex), position (left|right), greeting, starters (separated
 * by |), open (true|false). The chat runs in an iframe to MAGBOT-HOST/embed inside a shadow root, so the
 * page's CSS cannot restyle it and it cannot restyle the page. */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__magbotWidgetLoaded) { return; }
  window.__magbotWidgetLoaded = true;

  var base = new URL(script.src, window.location.href).origin;
  var data = script.dataset || {};
  var accent = /^#[0-9a-fA-F]{3}([0-9a-fA-F]{3})?$/.test(data.accent || "") ? data.accent : "#0b6e4f";
  var title = (data.title || "Ask magbot").slice(0, 80);
  var side = data.position === "left" ? "left" : "right";

  // A custom element (not a div) with inline !important resets: page rules for div, * or body cannot reach it.
  var host = document.createElement("magbot-widget");
  host.setAttribute("data-magbot-widget", "");
  host.style.cssText = "all: initial !important; display: block !important; position: static !important;";
  var root = host.attachShadow({ mode: "open" });
  var style = document.createElement("style");
  style.textContent = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".launcher { all: initial; position: fixed; bottom: 20px; " + side + ": 20px; z-index: 2147483000;",
    "  height: 48px; min-width: 60px; max-width: 260px; padding: 0 18px; border-radius: 999px; cursor: pointer;",
    "  background: " + accent + "; color: #fff; white-space: nowrap; overflow: hidden; text-overflow: ellipsis;",
    "  font: 600 14px/48px system-ui, sans-serif; text-align: center; box-shadow: 0 4px 14px rgba(0,0,0,.3); }",
    ".launcher:focus-visible, .close:focus-visible { outline: 3px solid #ffbf47; outline-offset: 3px; }",
    ".panel { position: fixed; bottom: 92px; " + side + ": 20px; z-index: 2147483001; width: 380px;",
    "  height: min(620px, calc(100vh - 120px)); background: #fff; border-radius: 12px; overflow: hidden;",
    "  box-shadow: 0 10px 30px rgba(0,0,0,.3); display: flex; flex-direction: column;",
    "  font: 14px/1.4 system-ui, sans-serif; color: #1c2b3a; }",
    ".panel[hidden] { display: none; }",
    ".bar { display: flex; align-items: center; justify-content: space-between; padding: 8px 12px;",
    "  background: " + accent + "; color: #fff; font-weight: 600; font-size: 15px; }",
    ".close { all: initial; cursor: pointer; color: #fff; font: 700 20px/1 system-ui, sans-serif; padding: 4px 8px; }",
    "iframe { border: 0; width: 100%; flex: 1; background: #fff; }",
    ".message { padding: 16px; font-size: 14px; color: #1c2b3a; }",
    "@media (max-width: 480px) { .panel { inset: 0; width: 100vw; height: 100vh; height: 100dvh;",
    "  bottom: 0; " + side + ": 0; border-radius: 0; } }"
  ].join("\n");
  root.appendChild(style);

  var launcher = document.createElement("button");
  launcher.className = "launcher";
  launcher.type = "button";
  launcher.textContent = title;  // the site's own label (data-title)
  launcher.setAttribute("aria-label", "Open chat: " + title);
  launcher.setAttribute("aria-expanded", "false");
  launcher.setAttribute("aria-controls", "magbot-panel");

  var panel = document.createElement("div");
  panel.className = "panel";
  panel.id = "magbot-panel";
  panel.hidden = true;
  panel.setAttribute("role", "dialog");
  panel.setAttribute("aria-label", title);
  var bar = document.createElement("div");
  bar.className = "bar";
  var heading = document.createElement("span");
  heading.textContent = title;
  var close = document.createElement("button");
  close.className = "close";
  close.type = "button";
  close.textContent = "\u00d7";
  close.setAttribute("aria-label", "Close chat");
  bar.appendChild(heading);
  bar.appendChild(close);
  var message = document.createElement("div");
  message.className = "message";
  message.setAttribute("role", "status");
  message.hidden = true;
  panel.appendChild(bar);
  panel.appendChild(message);
  root.appendChild(launcher);
  root.appendChild(panel);

  var frame = null;
  var ready = false;

  function say(text) {
    message.textContent = text;
    message.hidden = false;
  }

  function embedUrl() {
    var params = new URLSearchParams();
    params.set("title", title);
    params.set("accent", accent);
    params.set("host", window.location.origin);
    if (data.greeting) { params.set("greeting", data.greeting.slice(0, 300)); }
    if (data.starters) { params.set("starters", data.starters.slice(0, 600)); }
    return base + "/embed?" + params.toString();
  }

  function load() {
    fetch(base + "/api/health", { credentials: "omit" }).then(function (r) { return r.json(); }).then(function (h) {
      if (!h.origin_allowed) {
        say("This chat is not enabled for this website. The site owner can ask magbot's operator to allow it.");
        return;
      }
      frame = document.createElement("iframe");
      frame.title = title;
      frame.src = embedUrl();
      frame.setAttribute("referrerpolicy", "origin");
      panel.appendChild(frame);
      setTimeout(function () { if (!ready) { say("The chat could not be loaded on this page."); } }, 15000);
    }).catch(function () {
      say("magbot can't be reached right now. Please try again later.");
    });
  }

  function open() {
    panel.hidden = false;
    launcher.setAttribute("aria-expanded", "true");
    if (!frame && message.hidden) { load(); }
    if (frame && ready) { frame.contentWindow.postMessage({ type: "magbot:focus" }, base); frame.focus(); }
    else { close.focus(); }
  }

  function shut() {
    panel.hidden = true;
    launcher.setAttribute("aria-expanded", "false");
    launcher.focus();
  }

  launcher.addEventListener("click", function () { if (panel.hidden) { open(); } else { shut(); } });
  close.addEventListener("click", shut);
  root.addEventListener("keydown", function (e) { if (e.key === "Escape" && !panel.hidden) { shut(); } });
  window.addEventListener("message", function (e) {
    if (e.origin !== base || !frame || e.source !== frame.contentWindow || !e.data) { return; }
    if (e.data.type === "magbot:ready") {
      ready = true;
      message.hidden = true;
      if (!panel.hidden) { frame.contentWindow.postMessage({ type: "magbot:focus" }, base); frame.focus(); }
    } else if (e.data.type === "magbot:close") {
      shut();
    }
  });

  function attach() {
    document.body.appendChild(host);
    if (data.open === "true") { open(); }
  }
  if (document.body) { attach(); } else { document.addEventListener("DOMContentLoaded", attach); }
})();
