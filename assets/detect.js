/*
 * handoff-gate browser detector: the server's own scrubber (crates/scrub),
 * compiled to WebAssembly (assets/wasm/scrub_bg.wasm and its wasm-bindgen
 * glue assets/wasm/scrub.js, built by scripts/build-wasm.sh), behind this
 * thin wrapper, which loads the module once and turns the scrubber's UTF-8
 * byte offsets into string (UTF-16) indexes.
 *
 * The browser only warns: the server still scrubs everything it receives.
 *
 * Usage: HandoffGateDetect.ready().then(function (d) {
 *          d.detect(text); // [{kind, label, placeholder, warn, credential, start, end}]
 *        });
 */
(function (root) {
  'use strict';

  var MODULE = '/assets/wasm/scrub_bg.wasm';
  var loading = null;

  /** The glue's `wasm_bindgen`: a global `let`, so not a property of window. */
  function glue() {
    /* global wasm_bindgen */
    return typeof wasm_bindgen !== 'undefined' ? wasm_bindgen : root.wasm_bindgen;
  }

  /** Load and instantiate the module once; resolves to the API. */
  function ready(url) {
    if (!loading) {
      var init = glue();
      loading = init
        ? init({ module_or_path: url || MODULE }).then(function () { return api; })
        : Promise.reject(new Error('assets/wasm/scrub.js (the scrubber glue) is not loaded'));
    }
    return loading;
  }

  /**
   * Map UTF-8 byte offsets (at character boundaries, as the scrubber gives
   * them) to string indexes, in one pass over the text. A lone surrogate
   * reaches the scrubber as U+FFFD, three bytes.
   */
  function byteToIndex(text, offsets) {
    var marks = offsets.slice().sort(function (a, b) { return a - b; });
    var map = {}, bytes = 0, i = 0, k = 0;
    while (k < marks.length) {
      while (k < marks.length && marks[k] <= bytes) map[marks[k++]] = i;
      if (i >= text.length) break;
      var c = text.charCodeAt(i), next = text.charCodeAt(i + 1);
      if (c >= 0xd800 && c <= 0xdbff && next >= 0xdc00 && next <= 0xdfff) {
        bytes += 4;
        i += 2;
      } else {
        bytes += c < 0x80 ? 1 : c < 0x800 ? 2 : 3;
        i += 1;
      }
    }
    while (k < marks.length) map[marks[k++]] = text.length;
    return map;
  }

  /** The scrubber's findings in `text`, in order, with string offsets. */
  function detect(text) {
    text = String(text == null ? '' : text);
    var found = JSON.parse(glue().findings(text));
    var offsets = [];
    found.forEach(function (f) { offsets.push(f.start, f.end); });
    var index = byteToIndex(text, offsets);
    found.forEach(function (f) {
      f.start = index[f.start];
      f.end = index[f.end];
    });
    return found;
  }

  var api = { ready: ready, detect: detect };
  root.HandoffGateDetect = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
