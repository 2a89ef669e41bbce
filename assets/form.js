/* handoff-gate form enhancements. The form works without any of this.
 *
 * 1. The error summary takes focus, so a screen reader reads it first.
 * 2. Inside the widget's iframe, the page says it is ready and reports its
 *    height to the framing page (only to the origin the gateway validated).
 * 3. As the person types, text that looks like a key, token, password,
 *    card number, IBAN or a pasted export is named, with an offer to
 *    remove it before sending. The check is the server's own scrubber,
 *    compiled to WebAssembly and loaded by detect.js; the server still
 *    scrubs everything, this only warns before the text leaves the device.
 */
(function () {
  "use strict";

  var summary = document.getElementById("error-summary");
  if (summary) { summary.focus(); }

  var parentOrigin = document.body.getAttribute("data-parent-origin");
  function reportHeight() {
    if (!parentOrigin || window.parent === window) { return; }
    // The body's own height: the document's would never shrink below the iframe's.
    var height = Math.ceil(document.body.getBoundingClientRect().height);
    window.parent.postMessage({ type: "handoff-gate:height", height: height }, parentOrigin);
  }
  if (parentOrigin && window.parent !== window) {
    window.parent.postMessage({ type: "handoff-gate:ready" }, parentOrigin);
  }
  if (parentOrigin) {
    reportHeight();
    if (window.ResizeObserver) {
      new ResizeObserver(reportHeight).observe(document.body);
    } else {
      window.addEventListener("resize", reportHeight);
    }
    document.addEventListener("toggle", reportHeight, true);
  }

  var detect = window.HandoffGateDetect;
  var fields = document.querySelectorAll("textarea[data-check]");
  if (!detect || !fields.length || !window.WebAssembly) { return; }

  detect.ready()
    .then(function () {
      Array.prototype.forEach.call(fields, function (field) {
        var timer = null;
        var run = function () { check(field); };
        field.addEventListener("input", function () {
          clearTimeout(timer);
          timer = setTimeout(run, 250);
        });
        if (field.value) { run(); }
      });
    })
    .catch(function () { /* warnings are a courtesy; the server scrubs anyway */ });

  function check(field) {
    var findings = detect.detect(field.value).filter(function (f) { return f.warn; });
    var box = document.getElementById(field.id + "-warning");
    if (!findings.length) {
      if (box) { box.remove(); linkDescription(field, false); reportHeight(); }
      return;
    }
    if (!box) {
      box = document.createElement("div");
      box.id = field.id + "-warning";
      box.className = "warn";
      box.setAttribute("role", "status");
      field.insertAdjacentElement("afterend", box);
      linkDescription(field, true);
    }
    var kinds = [];
    findings.forEach(function (f) {
      if (kinds.indexOf(f.label) < 0) { kinds.push(f.label); }
    });
    box.textContent = "";
    var text = document.createElement("span");
    text.textContent = "This looks like " + kinds.join(", ") +
      ". It would be removed before anyone reads your question; better not to send it at all." +
      (findings.some(function (f) { return f.credential; }) ? " If it is real, rotate it now." : "");
    box.appendChild(text);
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Remove it now";
    button.addEventListener("click", function () {
      field.value = replaceFindings(field.value, findings);
      field.focus();
      check(field);
    });
    box.appendChild(document.createElement("br"));
    box.appendChild(button);
    reportHeight();
  }

  function replaceFindings(value, findings) {
    var sorted = findings.slice().sort(function (a, b) { return b.start - a.start; });
    sorted.forEach(function (f) {
      value = value.slice(0, f.start) + f.placeholder + value.slice(f.end);
    });
    return value;
  }

  function linkDescription(field, on) {
    var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
    var id = field.id + "-warning";
    ids = ids.filter(function (x) { return x !== id; });
    if (on) { ids.push(id); }
    field.setAttribute("aria-describedby", ids.join(" "));
  }
})();
