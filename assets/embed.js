/* handoff-gate embed loader.
 *
 *   <div id="contact"><a href="https://gate.example.com/">Ask about a broken handoff</a></div>
 *   <script src="https://gate.example.com/embed.js" data-target="#contact" async></script>
 *
 * Replaces the target's content (a plain link, which is what visitors
 * without JavaScript keep) with the intake form in an iframe, passes the
 * page's address and UTM parameters as the "where the path starts" field,
 * and resizes the iframe to its content. Messages are origin-checked both
 * ways: the form only talks to the origin it was given (and only if that
 * origin is in the gateway's embed.allowed_origins), and this loader only
 * listens to the gateway's origin and its own iframe.
 *
 * Options (data- attributes on this script tag): data-target (CSS selector,
 * required), data-accent (#rrggbb), data-font (font-family names),
 * data-theme (light | dark | auto), data-title (the iframe's title).
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

  var here = new URL(window.location.href);
  here.hash = "";
  var params = new URLSearchParams();
  params.set("origin", window.location.origin);
  params.set("source", here.toString());
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

  window.addEventListener("message", function (event) {
    if (event.origin !== gateway || event.source !== frame.contentWindow) { return; }
    var data = event.data;
    if (!data || data.type !== "handoff-gate:height" || typeof data.height !== "number") { return; }
    var height = Math.max(200, Math.min(Math.ceil(data.height), 20000));
    frame.style.minHeight = "0";
    frame.style.height = height + "px";
  });

  target.textContent = "";
  target.appendChild(frame);
})();
