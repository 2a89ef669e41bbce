/* handoff-gate embed loader.
 *
 *   <div id="contact"><a href="https://gate.example.com/">Ask about a broken handoff</a></div>
 *   <script src="https://gate.example.com/embed.js" data-target="#contact" async></script>
 *
 * Replaces the target's content (a plain link, which is what visitors
 * without JavaScript keep) with the intake form in an iframe, passes the
 * page's address (with only its utm_* parameters) as data the visitor
 * never sees, and resizes the iframe to its content. Messages are
 * origin-checked both ways: the form only talks to the origin it was given
 * (and only if that origin is in the gateway's embed.allowed_origins), and
 * this loader only listens to the gateway's origin and its own iframe.
 *
 * If the form does not say it is ready within a few seconds (the usual
 * cause: this page's origin is not in embed.allowed_origins, so the browser
 * refuses to show the frame), the link comes back and one console line
 * names the origin to add.
 *
 * Options (data- attributes on this script tag): data-target (CSS selector,
 * required), data-accent (#rrggbb), data-font (font-family names),
 * data-theme (light | dark | auto), data-title (the iframe's title),
 * data-timeout (seconds to wait for the form, default 8).
 */
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script) { return; }
  var gateway = new URL(script.src).origin;
  var target = document.querySelector(script.getAttribute("data-target") || "#handoff-gate");
  if (!target) {
    if (window.console) { console.warn("handoff-gate: no element matches data-target"); }
    return;
  }

  // Only the page itself and its utm_* parameters: click ids (gclid,
  // fbclid, msclkid, …) and any other parameter can identify the visitor.
  var here = new URL(window.location.href);
  var page = new URL(here.origin + here.pathname);
  here.searchParams.forEach(function (value, name) {
    if (name.toLowerCase().indexOf("utm_") === 0) { page.searchParams.append(name, value); }
  });
  var params = new URLSearchParams();
  params.set("origin", window.location.origin);
  params.set("page", page.toString());
  ["accent", "font", "theme"].forEach(function (name) {
    var value = script.getAttribute("data-" + name);
    if (value) { params.set(name, value); }
  });

  var frame = document.createElement("iframe");
  frame.src = gateway + "/embed?" + params.toString();
  frame.title = script.getAttribute("data-title") || "Ask about a broken handoff";
  frame.setAttribute("scrolling", "no");
  frame.style.width = "100%";
  frame.style.minHeight = "480px";
  frame.style.border = "0";
  frame.style.display = "block";
  frame.style.colorScheme = "normal";

  var ready = false;
  window.addEventListener("message", function (event) {
    if (event.origin !== gateway || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || typeof data.type !== "string") { return; }
    if (data.type === "handoff-gate:ready") { ready = true; }
    if (data.type !== "handoff-gate:height" || typeof data.height !== "number") { return; }
    ready = true;
    var height = Math.max(200, Math.min(Math.ceil(data.height), 20000));
    frame.style.minHeight = "0";
    frame.style.height = height + "px";
  });

  // The link stays at hand, to come back if the form never shows.
  var fallback = document.createDocumentFragment();
  while (target.firstChild) { fallback.appendChild(target.firstChild); }
  target.appendChild(frame);

  var seconds = Number(script.getAttribute("data-timeout")) || 8;
  setTimeout(function () {
    if (ready) { return; }
    frame.remove();
    target.appendChild(fallback);
    if (window.console) {
      console.error("handoff-gate: the form did not load within " + seconds + " s, so the link is shown instead. " +
        "If this page is yours, add \"" + window.location.origin + "\" to embed.allowed_origins on the gateway " +
        "(run: handoff-gate embed check " + window.location.origin + ").");
    }
  }, seconds * 1000);
})();
