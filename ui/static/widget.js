/*
 * Help widget for the EMA medicine overviews chatbot. Add to any page:
 *   <script src="http://HOST:PORT/widget.js" data-title="Medicine help" defer></script>
 * Optional: data-medicine="Conexxence" answers from that medicine's overview only.
 * It talks to the /api/ask of the server it was loaded from; pages on other origins must be listed in
 * that server's CORS_ORIGINS. Everything from the server is shown with textContent, never parsed as HTML.
 */
(function () {
  "use strict";
  var script = document.currentScript || document.querySelector("script[src*='widget.js']");
  if (!script || !script.src || window.__emaHelpWidget) return;
  window.__emaHelpWidget = true;

  var title = script.getAttribute("data-title") || "Medicine help";
  var medicine = script.getAttribute("data-medicine") || null;
  var askUrl = new URL("api/ask", script.src).href;
  var feedbackUrl = new URL("api/feedback", script.src).href;
  var SENT_TURNS = 10;
  var LANGUAGES = { en: "English", sv: "Swedish", de: "German", fr: "French" };
  // The only links a card ever gets: pages of the EMA website, with plain path characters.
  var EMA_URL = /^https:\/\/www\.ema\.europa\.eu\/[A-Za-z0-9\/_.~%-]*$/;
  var history = [];
  var busy = false;

  var CSS = [
    ":host { all: initial; }",
    "* { box-sizing: border-box; }",
    ".root { position: fixed; right: 20px; bottom: 20px; z-index: 2147483000;",
    "  font: 14px/1.45 system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif; color: #1f2933; }",
    ".launcher { width: 56px; height: 56px; border-radius: 50%; border: 0; cursor: pointer;",
    "  background: #0b5cad; color: #fff; font-size: 26px; font-weight: 700;",
    "  box-shadow: 0 4px 14px rgba(0,0,0,.25); display: block; margin-left: auto; }",
    ".launcher:hover { background: #084a8c; }",
    ".launcher:focus-visible, button:focus-visible, textarea:focus-visible, summary:focus-visible {",
    "  outline: 3px solid #f5a623; outline-offset: 2px; }",
    ".panel { width: min(380px, calc(100vw - 40px)); height: min(560px, calc(100vh - 110px));",
    "  margin-bottom: 12px; background: #fff; border-radius: 12px; overflow: hidden;",
    "  box-shadow: 0 10px 30px rgba(0,0,0,.25); display: flex; flex-direction: column; }",
    ".panel[hidden] { display: none; }",
    ".head { background: #0b5cad; color: #fff; padding: 10px 12px; display: flex; align-items: center; }",
    ".head h2 { font-size: 15px; margin: 0; flex: 1; font-weight: 600; }",
    ".close { background: transparent; border: 0; color: #fff; font-size: 22px; cursor: pointer; line-height: 1; }",
    ".notice { margin: 0; padding: 6px 12px; font-size: 12px; color: #52606d; background: #f0f4f8; }",
    ".log { flex: 1; overflow-y: auto; padding: 10px 12px; display: flex; flex-direction: column; gap: 8px; }",
    ".msg { padding: 8px 10px; border-radius: 10px; max-width: 92%; white-space: pre-wrap; word-wrap: break-word; }",
    ".msg p { margin: 0 0 6px; } .msg p:last-child { margin-bottom: 0; }",
    ".user { align-self: flex-end; background: #0b5cad; color: #fff; }",
    ".bot { align-self: flex-start; background: #f0f4f8; }",
    ".bot.refused { background: #fff8e6; }",
    ".bot.error { background: #fdecea; color: #8a1c13; }",
    ".pending { color: #52606d; font-style: italic; }",
    ".cites { list-style: none; margin: 8px 0 0; padding: 0; display: flex; flex-direction: column; gap: 6px; white-space: normal; }",
    ".cite { background: #fff; border: 1px solid #d9e2ec; border-radius: 8px; padding: 6px 8px; }",
    ".cite summary { cursor: pointer; }",
    ".num { display: inline-block; min-width: 20px; height: 20px; border-radius: 10px; background: #0b5cad;",
    "  color: #fff; font-size: 12px; font-weight: 700; text-align: center; line-height: 20px; margin-right: 6px; }",
    ".med { font-weight: 600; } .sec { display: block; margin-top: 2px; }",
    ".meta { display: block; color: #52606d; font-size: 12px; overflow-wrap: anywhere; }",
    ".more { display: flex; flex-wrap: wrap; gap: 2px 14px; font-size: 12px; }",
    ".more a { color: #0b5cad; font-weight: 600; }",
    ".toggle::after { content: 'Show the whole section'; color: #52606d; text-decoration: underline dotted; }",
    "details[open] .toggle::after { content: 'Hide the section'; }",
    ".context { margin: 6px 0 0; padding-left: 8px; border-left: 3px solid #0b5cad; color: #1f2933; }",
    ".context p { margin: 0 0 6px; } .context p:last-child { margin-bottom: 0; }",
    ".context mark { background: #fff1b8; color: inherit; border-radius: 2px; }",
    ".votes { margin-top: 6px; display: flex; gap: 6px; align-items: center; font-size: 12px; color: #52606d; }",
    ".votes button { border: 1px solid #d9e2ec; background: #fff; border-radius: 6px; cursor: pointer; padding: 1px 10px; font: inherit; font-size: 12px; color: #1f2933; }",
    "form { display: flex; gap: 6px; padding: 10px 12px; border-top: 1px solid #d9e2ec; }",
    "textarea { flex: 1; resize: none; font: inherit; padding: 6px 8px; border: 1px solid #9aa5b1; border-radius: 8px; }",
    ".send { border: 0; border-radius: 8px; background: #0b5cad; color: #fff; padding: 0 14px; cursor: pointer; font: inherit; font-weight: 600; }",
    ".send:disabled { background: #9aa5b1; cursor: wait; }"
  ].join("\n");

  function el(tag, attrs, text) {
    var node = document.createElement(tag);
    if (attrs) Object.keys(attrs).forEach(function (k) { node.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) node.textContent = String(text);
    return node;
  }

  var host = el("div", { "data-ema-help": "" });
  var shadow = host.attachShadow({ mode: "open" });
  if ("adoptedStyleSheets" in shadow && "replaceSync" in CSSStyleSheet.prototype) {
    // Constructed style sheets also work on host pages whose CSP forbids inline <style>.
    var sheet = new CSSStyleSheet();
    sheet.replaceSync(CSS);
    shadow.adoptedStyleSheets = [sheet];
  } else {
    shadow.appendChild(el("style", null, CSS));
  }
  var root = el("div", { class: "root" });
  var panel = el("section", { class: "panel", id: "panel", role: "dialog", "aria-label": title, hidden: "" });
  var head = el("div", { class: "head" });
  head.appendChild(el("h2", null, title));
  var close = el("button", { class: "close", type: "button", "aria-label": "Close" }, "\u00d7");
  head.appendChild(close);
  var log = el("div", { class: "log", role: "log", "aria-live": "polite" });
  var notice = el("p", { class: "notice" },
    "Answers quote the EMA medicine overviews and are not medical advice.");
  var form = el("form", { class: "ask" });
  var input = el("textarea", { rows: "2", name: "question", "aria-label": "Your question",
    placeholder: "Ask about a medicine\u2026" });
  var send = el("button", { class: "send", type: "submit" }, "Ask");
  form.appendChild(input);
  form.appendChild(send);
  panel.appendChild(head);
  panel.appendChild(notice);
  panel.appendChild(log);
  panel.appendChild(form);
  var launcher = el("button", { class: "launcher", type: "button", "aria-label": title,
    "aria-expanded": "false", "aria-controls": "panel", title: title }, "?");
  root.appendChild(panel);
  root.appendChild(launcher);
  shadow.appendChild(root);

  function setOpen(open) {
    if (open) panel.removeAttribute("hidden"); else panel.setAttribute("hidden", "");
    launcher.setAttribute("aria-expanded", open ? "true" : "false");
    (open ? input : launcher).focus();
  }

  function scrollDown() { log.scrollTop = log.scrollHeight; }

  function addMessage(kind, text) {
    var msg = el("div", { class: "msg " + kind });
    String(text).split(/\n{2,}/).forEach(function (part) { msg.appendChild(el("p", null, part.trim())); });
    log.appendChild(msg);
    scrollDown();
    return msg;
  }

  function citationMeta(c) {
    var parts = [];
    parts.push(c.ref ? c.ref + (c.ref_inferred ? " (inferred)" : "") : "no EMA reference");
    if (c.product_number) parts.push(c.product_number);
    parts.push(LANGUAGES[c.language] || c.language || "");
    if (c.source) parts.push(c.page ? c.source + ", p. " + c.page : c.source);
    return parts.join(" \u00b7 ");
  }

  // The whole section as paragraphs, the quoted sentences in <mark>; all text nodes, never parsed as HTML.
  function sectionText(c) {
    var context = typeof c.context === "string" && c.context ? c.context : String(c.quote || "");
    var quote = String(c.quote || "");
    var start = quote ? context.indexOf(quote) : -1;
    var end = start >= 0 ? start + quote.length : -1;
    var box = el("blockquote", { class: "context" });
    var gap = /\n\s*\n/g, pos = 0, spans = [], m;
    while ((m = gap.exec(context)) !== null) { spans.push([pos, m.index]); pos = m.index + m[0].length; }
    spans.push([pos, context.length]);
    spans.forEach(function (span) {
      var a = span[0], b = span[1];
      while (a < b && /\s/.test(context.charAt(a))) a++;
      while (b > a && /\s/.test(context.charAt(b - 1))) b--;
      if (a >= b) return;
      var cuts = [a, b];
      [start, end].forEach(function (x) { if (x > a && x < b) cuts.push(x); });
      cuts.sort(function (x, y) { return x - y; });
      var p = el("p");
      for (var i = 0; i + 1 < cuts.length; i++) {
        var text = context.slice(cuts[i], cuts[i + 1]);
        if (start >= 0 && start <= cuts[i] && cuts[i + 1] <= end) p.appendChild(el("mark", null, text));
        else p.appendChild(document.createTextNode(text));
      }
      box.appendChild(p);
    });
    return box;
  }

  function addCitations(msg, citations) {
    if (!citations || !citations.length) return;
    var list = el("ol", { class: "cites", "aria-label": "Sources" });
    citations.forEach(function (c) {
      var item = el("li", { class: "cite" });
      var details = el("details");
      var summary = el("summary");
      summary.appendChild(el("span", { class: "num" }, c.number));
      summary.appendChild(el("span", { class: "med" }, c.medicine));
      summary.appendChild(el("span", { class: "sec" }, c.section_title || c.section));
      var meta = el("span", { class: "meta" }, citationMeta(c));
      if (c.ref_inferred) meta.setAttribute("title", "Reference number taken from another language version of the same overview");
      summary.appendChild(meta);
      var more = el("span", { class: "more" });
      if (typeof c.url === "string" && EMA_URL.test(c.url)) {
        more.appendChild(el("a", { href: c.url, target: "_blank", rel: "noopener noreferrer" },
          "EMA page of " + (c.medicine || "the medicine")));
      }
      more.appendChild(el("span", { class: "toggle" }));
      summary.appendChild(more);
      details.appendChild(summary);
      details.appendChild(sectionText(c));
      item.appendChild(details);
      list.appendChild(item);
    });
    msg.appendChild(list);
  }

  function addVotes(msg, data) {
    var votes = el("div", { class: "votes", role: "group", "aria-label": "Was this answer helpful?" });
    votes.appendChild(el("span", null, "Helpful?"));
    [["up", "Yes"], ["down", "No"]].forEach(function (v) {
      var b = el("button", { type: "button", "data-vote": v[0] }, v[1]);
      b.addEventListener("click", function () {
        votes.textContent = "Thank you.";
        fetch(feedbackUrl, {
          method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
          body: JSON.stringify({ question: data.question, answer: data.answer, refused: data.refused, vote: v[0],
            citations: (data.citations || []).map(function (c) {
              var copy = {};
              Object.keys(c).forEach(function (k) { if (k !== "context") copy[k] = c[k]; });
              return copy;
            }) })
        }).then(function (response) {
          if (!response.ok) throw new Error(String(response.status));
        }).catch(function () { votes.textContent = "Your feedback could not be sent."; });
      });
      votes.appendChild(b);
    });
    msg.appendChild(votes);
  }

  function problemText(status, body) {
    if (body && typeof body.detail === "string") return body.detail;
    if (status === 401) return "This page is not allowed to use the help service.";
    return "The help service answered with an error (" + status + ").";
  }

  function ask(question) {
    busy = true;
    send.disabled = true;
    addMessage("user", question);
    var pending = addMessage("bot pending", "Looking in the EMA overviews\u2026");
    log.setAttribute("aria-busy", "true");
    var body = { question: question, history: history.slice(-SENT_TURNS) };
    if (medicine) body.medicine = medicine;
    fetch(askUrl, {
      method: "POST", credentials: "omit", headers: { "Content-Type": "application/json" },
      body: JSON.stringify(body)
    }).then(function (response) {
      return response.json().catch(function () { return null; }).then(function (data) {
        pending.remove();
        if (!response.ok || !data || typeof data.answer !== "string") {
          addMessage("bot error", problemText(response.status, data));
          return;
        }
        var msg = addMessage("bot" + (data.refused ? " refused" : ""), data.answer);
        addCitations(msg, data.citations);
        addVotes(msg, data);
        history.push({ role: "user", content: question }, { role: "assistant", content: data.answer });
        scrollDown();
      });
    }).catch(function () {
      pending.remove();
      addMessage("bot error", "The help service cannot be reached right now.");
    }).then(function () {
      busy = false;
      send.disabled = false;
      log.removeAttribute("aria-busy");
      input.focus();
    });
  }

  launcher.addEventListener("click", function () { setOpen(panel.hasAttribute("hidden")); });
  close.addEventListener("click", function () { setOpen(false); });
  panel.addEventListener("keydown", function (e) { if (e.key === "Escape") setOpen(false); });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var question = input.value.trim();
    if (!question || busy) return;
    input.value = "";
    ask(question);
  });

  function attach() { document.body.appendChild(host); }
  if (document.body) attach(); else document.addEventListener("DOMContentLoaded", attach);
})();
