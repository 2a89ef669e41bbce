/*
 * handoff-gate browser detector: warns before text leaves the device.
 *
 * A dependency-free port of the server's detector engine. It mirrors
 * src/scrub/engine.rs (keyword and shape prefilters, per-detector windows,
 * match widening, group trimming, context words), src/scrub/validate.rs
 * (every validator the browser rows use), src/scrub/export.rs (pasted
 * customer lists) and the overlap merge and placeholder rescan of
 * src/scrub/mod.rs. Rules come from GET /api/v1/rules.json
 * (`handoff-gate rules browser`).
 *
 * The browser only warns: the server still scrubs everything it receives.
 *
 * Offsets: Rust counts windows in UTF-8 bytes; this script walks the same
 * byte distances over the JavaScript string and reports findings as string
 * (UTF-16) indexes.
 *
 * Usage: var c = HandoffGateDetect.compile(rules);
 *        HandoffGateDetect.detect(c, text) -> [{kind, id, start, end}]
 */
(function (root) {
  'use strict';

  var BEFORE = 128; // engine.rs: bytes a detector looks before a keyword hit
  var AFTER = 128; // engine.rs: bytes after; a match touching the end widens by 4x
  var DENSE = 0.5; // past this share of the text in windows, scan it whole
  var RESCAN_MARGIN = 192; // mod.rs: bytes around a placeholder scanned again
  var EXPORT_ID = 'account_export_rows';

  // ───────────────────────── character and byte helpers ─────────────────────────

  var ALNUM_RE = /[\p{Alphabetic}\p{N}]/u;
  var HAS_INDICES = (function () {
    try { return new RegExp('a', 'd').hasIndices === true; } catch (e) { return false; }
  })();

  /** Rust `char::is_whitespace` (Unicode White_Space) for one UTF-16 unit. */
  function isWhite(c) {
    return (c >= 9 && c <= 13) || c === 32 || c === 0x85 || c === 0xa0 || c === 0x1680 ||
      (c >= 0x2000 && c <= 0x200a) || c === 0x2028 || c === 0x2029 || c === 0x202f ||
      c === 0x205f || c === 0x3000;
  }
  function isDigit(c) { return c >= 48 && c <= 57; }
  function isUpper(c) { return c >= 65 && c <= 90; }
  function isLower(c) { return c >= 97 && c <= 122; }
  function isAlpha(c) { return isUpper(c) || isLower(c); }
  function isAlnum(c) { return isAlpha(c) || isDigit(c); }
  function isHex(c) { return isDigit(c) || (c >= 65 && c <= 70) || (c >= 97 && c <= 102); }
  /** Rust `u8::is_ascii_punctuation`. */
  function isPunct(c) {
    return (c >= 33 && c <= 47) || (c >= 58 && c <= 64) || (c >= 91 && c <= 96) || (c >= 123 && c <= 126);
  }
  function isHigh(c) { return c >= 0xd800 && c <= 0xdbff; }
  function isLow(c) { return c >= 0xdc00 && c <= 0xdfff; }
  /** Unicode `char::is_alphanumeric` for a code point string. */
  function isUniAlnum(ch) { return ch !== undefined && ALNUM_RE.test(ch); }

  function asciiLower(s) { return s.replace(/[A-Z]+/g, function (m) { return m.toLowerCase(); }); }
  function all(s, test) {
    for (var i = 0; i < s.length; i++) if (!test(s.charCodeAt(i))) return false;
    return true;
  }
  function any(s, test) { return !all(s, function (c) { return !test(c); }); }
  function count(s, test) {
    var n = 0;
    for (var i = 0; i < s.length; i++) if (test(s.charCodeAt(i))) n++;
    return n;
  }
  function containsAny(s, chars) {
    for (var i = 0; i < chars.length; i++) if (s.indexOf(chars[i]) >= 0) return true;
    return false;
  }
  function trimEndChars(s, chars) {
    var e = s.length;
    while (e > 0 && chars.indexOf(s[e - 1]) >= 0) e--;
    return s.slice(0, e);
  }
  /** Rust `str::trim` (White_Space at both ends). */
  function trimWhite(s) {
    var b = 0, e = s.length;
    while (b < e && isWhite(s.charCodeAt(b))) b++;
    while (e > b && isWhite(s.charCodeAt(e - 1))) e--;
    return s.slice(b, e);
  }
  function trimChars(s, chars) {
    var b = 0;
    while (b < s.length && chars.indexOf(s[b]) >= 0) b++;
    return trimEndChars(s.slice(b), chars);
  }

  /** UTF-8 bytes of `s` (a lone surrogate counts as U+FFFD). */
  function utf8(s) {
    var out = [];
    for (var i = 0; i < s.length; i++) {
      var c = s.charCodeAt(i);
      if (isHigh(c) && isLow(s.charCodeAt(i + 1))) {
        c = 0x10000 + ((c - 0xd800) << 10) + (s.charCodeAt(++i) - 0xdc00);
      } else if (c >= 0xd800 && c <= 0xdfff) c = 0xfffd;
      if (c < 0x80) out.push(c);
      else if (c < 0x800) out.push(0xc0 | (c >> 6), 0x80 | (c & 63));
      else if (c < 0x10000) out.push(0xe0 | (c >> 12), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
      else out.push(0xf0 | (c >> 18), 0x80 | ((c >> 12) & 63), 0x80 | ((c >> 6) & 63), 0x80 | (c & 63));
    }
    return out;
  }
  /** UTF-8 length of one UTF-16 unit (a surrogate half counts 2 of its pair's 4). */
  function unitBytes(c) { return c < 0x80 ? 1 : c < 0x800 ? 2 : c >= 0xd800 && c <= 0xdfff ? 2 : 3; }
  function byteLen(text, lo, hi) {
    var n = 0;
    for (var i = lo; i < hi; i++) n += unitBytes(text.charCodeAt(i));
    return n;
  }
  function onBoundary(text, i) { return !(isLow(text.charCodeAt(i)) && isHigh(text.charCodeAt(i - 1))); }
  /** floor_char_boundary(byte(pos) - n), as a string index. */
  function backBytes(text, pos, n) {
    var j = pos, acc = 0;
    while (j > 0 && acc < n) acc += unitBytes(text.charCodeAt(--j));
    return onBoundary(text, j) ? j : j - 1;
  }
  /** floor_char_boundary(byte(pos) + n), clamped to the text, as a string index. */
  function fwdBytes(text, pos, n) {
    var j = pos, acc = 0;
    while (j < text.length && acc + unitBytes(text.charCodeAt(j)) <= n) acc += unitBytes(text.charCodeAt(j++));
    return onBoundary(text, j) ? j : j - 1;
  }
  function prevChar(text, i) {
    if (i <= 0) return undefined;
    var a = isLow(text.charCodeAt(i - 1)) && i > 1 && isHigh(text.charCodeAt(i - 2)) ? i - 2 : i - 1;
    return text.slice(a, i);
  }
  function nextChar(text, i) {
    if (i >= text.length) return undefined;
    return String.fromCodePoint(text.codePointAt(i));
  }

  /** engine.rs `around`: bytes before and after a hit, widened to whitespace (kept). */
  function around(text, start, end, before, after) {
    var lo = backBytes(text, start, before);
    var w = lo - 1;
    while (w >= 0 && !isWhite(text.charCodeAt(w))) w--;
    lo = w >= 0 ? w : 0;
    var hi = fwdBytes(text, end, after);
    while (hi < text.length && !isWhite(text.charCodeAt(hi))) hi++;
    return [lo, hi];
  }

  /** Sort windows and join those that overlap or touch. */
  function mergeWindows(windows) {
    windows.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
    var merged = [];
    windows.forEach(function (w) {
      var last = merged[merged.length - 1];
      if (last && w[0] <= last[1]) last[1] = Math.max(last[1], w[1]);
      else merged.push([w[0], w[1]]);
    });
    return merged;
  }

  // ───────────────────────── validators (validate.rs) ─────────────────────────

  function digits(value) {
    var d = [];
    for (var i = 0; i < value.length; i++) {
      var c = value.charCodeAt(i);
      if (isDigit(c)) d.push(c - 48);
    }
    return d;
  }
  function allSame(d) {
    for (var i = 1; i < d.length; i++) if (d[i] !== d[0]) return false;
    return true;
  }
  function luhnCard(value) {
    var d = digits(value);
    if (d.length < 12 || d.length > 19 || allSame(d)) return false;
    var sum = 0;
    for (var i = 0; i < d.length; i++) {
      var x = d[d.length - 1 - i];
      if (i % 2 === 1) x = x * 2 > 9 ? x * 2 - 9 : x * 2;
      sum += x;
    }
    return sum % 10 === 0;
  }

  var IBAN_LENGTHS = {
    AD: 24, AE: 23, AL: 28, AT: 20, AZ: 28, BA: 20, BE: 16, BG: 22, BH: 22, BI: 27, BR: 29,
    BY: 28, CH: 21, CR: 22, CY: 28, CZ: 24, DE: 22, DJ: 27, DK: 18, DO: 28, EE: 20, EG: 29,
    ES: 24, FI: 18, FK: 18, FO: 18, FR: 27, GB: 22, GE: 22, GI: 23, GL: 18, GR: 27, GT: 28,
    HR: 21, HU: 28, IE: 22, IL: 23, IQ: 23, IS: 26, IT: 27, JO: 30, KW: 30, KZ: 20, LB: 28,
    LC: 32, LI: 21, LT: 20, LU: 20, LV: 21, LY: 25, MC: 27, MD: 24, ME: 22, MK: 19, MN: 20,
    MR: 27, MT: 31, MU: 30, NI: 28, NL: 18, NO: 15, OM: 23, PK: 24, PL: 28, PS: 29, PT: 25,
    QA: 29, RO: 24, RS: 22, RU: 33, SA: 24, SC: 31, SD: 18, SE: 24, SI: 19, SK: 24, SM: 27,
    SO: 23, ST: 25, SV: 28, TL: 23, TN: 24, TR: 26, UA: 29, VA: 22, VG: 24, XK: 20, YE: 30
  };
  function iban(value) {
    var compact = value.replace(/[^A-Za-z0-9]/g, '').toUpperCase();
    if (compact.length < 15 || !isDigit(compact.charCodeAt(2)) || !isDigit(compact.charCodeAt(3))) return false;
    var len = Object.prototype.hasOwnProperty.call(IBAN_LENGTHS, compact.slice(0, 2)) && IBAN_LENGTHS[compact.slice(0, 2)];
    if (!len || compact.length !== len) return false;
    var rearranged = compact.slice(4) + compact.slice(0, 4), rem = 0;
    for (var i = 0; i < rearranged.length; i++) {
      var c = rearranged.charCodeAt(i);
      var v = isDigit(c) ? c - 48 : c - 55;
      rem = v >= 10 ? (rem * 100 + v) % 97 : (rem * 10 + v) % 97;
    }
    return rem === 1;
  }
  function aba(value) {
    var d = digits(value), w = [3, 7, 1], sum = 0;
    if (d.length !== 9 || allSame(d)) return false;
    for (var i = 0; i < 9; i++) sum += w[i % 3] * d[i];
    return sum % 10 === 0;
  }
  function ssn(value) {
    var d = digits(value);
    if (d.length !== 9 || allSame(d)) return false;
    var area = d[0] * 100 + d[1] * 10 + d[2], group = d[3] * 10 + d[4];
    return area !== 0 && area !== 666 && area < 900 && group !== 0 && !d.slice(5).every(function (x) { return x === 0; });
  }
  /** Rust `Ipv4Addr::from_str` on the part before any `/` or `:`. */
  function ipv4(value) {
    var parts = value.split(/[/:]/)[0].split('.');
    return parts.length === 4 && parts.every(function (p) { return /^(0|[1-9][0-9]{0,2})$/.test(p) && +p <= 255; });
  }
  function phone(value) {
    var n = digits(value).length;
    var ok = value[0] === '+' ? n >= 8 && n <= 15
      : containsAny(value, ' -.()') ? n >= 9 && n <= 15 : n >= 10 && n <= 13;
    return ok && phoneShort(value) && !ipv4(value);
  }
  function phoneShort(value) {
    var d = digits(value);
    if (d.length < 7 || d.length > 15 || allSame(d)) return false;
    return !looksLikeDate(value) && !looksLikeDecimal(value);
  }
  function looksLikeDate(value) {
    var groups = value.split(/[^0-9]/).filter(function (g) { return g.length > 0; });
    if (groups.length !== 3) return false;
    var n = groups.map(function (g) { var v = Number(g); return v > 4294967295 ? 0 : v; });
    var year = function (g, v) { return g.length === 4 && v >= 1900 && v <= 2100; };
    var md = function (a, b) { return a >= 1 && a <= 12 && b >= 1 && b <= 31; };
    return (year(groups[0], n[0]) && (md(n[1], n[2]) || md(n[2], n[1]))) ||
      (year(groups[2], n[2]) && (md(n[0], n[1]) || md(n[1], n[0])));
  }
  function looksLikeDecimal(value) {
    var v = trimWhite(value), n = v.length;
    return n >= 3 && v[n - 3] === '.' && !containsAny(v.slice(0, n - 3), '. -()+');
  }

  /** Shannon entropy in bits per UTF-8 byte. */
  function entropy(value) {
    var bytes = utf8(value), counts = {}, h = 0;
    bytes.forEach(function (b) { counts[b] = (counts[b] || 0) + 1; });
    Object.keys(counts).forEach(function (k) {
      var p = counts[k] / bytes.length;
      h -= p * Math.log2(p);
    });
    return h;
  }
  function classes(v) {
    return [isLower, isUpper, isDigit, isPunct].filter(function (t) { return any(v, t); }).length;
  }
  function hasTemplateVariable(value) {
    if (value.indexOf('$(') >= 0) return true;
    for (var i = value.indexOf('${'); i >= 0; i = value.indexOf('${', i + 2)) {
      var rest = value.slice(i + 2), k = 0;
      while (k < rest.length && (isAlnum(rest.charCodeAt(k)) || rest[k] === '_')) k++;
      if (k > 0 && (rest[k] === '}' || rest[k] === ':')) return true;
    }
    return false;
  }
  function isPlaceholderLike(value) {
    var v = trimChars(value, '"\'`'), lower = asciiLower(v);
    return /^(\{\{|\$\{|<|\[|%)/.test(v) || lower.indexOf('your') === 0 || lower.indexOf('_your_') >= 0 ||
      lower.indexOf('placeholder') >= 0 || lower.indexOf('redacted') >= 0 ||
      (v[0] === '{' && v[v.length - 1] === '}') || hasTemplateVariable(v) ||
      lower.indexOf('process.env') === 0 || lower.indexOf('env.') === 0 || /^[xX*.\-]*$/.test(v);
  }
  function unquote(value) {
    var quoted = value.length >= 2 && '"\'`'.indexOf(value[0]) >= 0 && '"\'`'.indexOf(value[value.length - 1]) >= 0;
    return { v: trimChars(value, '"\'`'), quoted: quoted };
  }
  /** A code identifier (`real_key`, `K8S_CRED`, `Content-Type`, `file.cer`), not a secret. */
  function isIdentifier(v) {
    var lowerWord = /^[a-z_\-/.]*$/.test(v) && (utf8(v).length <= 16 || containsAny(v, '_-/.'));
    var titleWords = v.split(/[-/]/).every(function (w) { return /^[A-Z][a-z]*$/.test(w); });
    var screaming = v.indexOf('_') >= 0 && /^[A-Z0-9_]*$/.test(v);
    var camelWord = /^[A-Z][A-Za-z]*$/.test(v) && count(v, isUpper) <= 3;
    var dot = v.lastIndexOf('.');
    var fileName = dot >= 0 && /^[a-z]{2,4}$/.test(v.slice(dot + 1)) && /^[A-Za-z0-9_\-]*$/.test(v.slice(0, dot));
    return lowerWord || titleWords || screaming || camelWord || fileName;
  }
  function looksLikeCode(v) {
    return trimEndChars(v, '=').indexOf('=') >= 0 && containsAny(v, '.,');
  }
  function secretLike(value) {
    var u = unquote(value), v = u.v, len = utf8(v).length;
    if (len < 8 || isPlaceholderLike(v) || v[0] === '$') return false;
    if (v.indexOf('://') >= 0 || v.indexOf('http') === 0 || isIdentifier(v)) return false;
    if (!any(v, isAlpha)) return false;
    if (v.indexOf(' ') >= 0) return u.quoted && value[0] !== '`' && len >= 12;
    if (!u.quoted && (len < 10 || looksLikeCode(v))) return false;
    return classes(v) >= 2 || len >= 20;
  }
  function passwordLike(value) {
    var u = unquote(value), v = u.v;
    if (Array.from(v).length < 4 || isPlaceholderLike(v) || v[0] === '$') return false;
    if (!Array.from(v).some(isUniAlnum) || isIdentifier(v)) return false;
    return v.indexOf(' ') < 0 || u.quoted;
  }
  function credentialPair(value) {
    var v = unquote(value).v, colon = v.indexOf(':');
    if (colon < 0) return false;
    var user = v.slice(0, colon), pass = v.slice(colon + 1);
    var template = function (s) { return /^([$%<]|\{\{)/.test(trimChars(s, '"\'')); };
    if (template(user) || template(pass) || user === pass) return false;
    return (passwordLike(user) && utf8(user).length >= 8) || passwordLike(pass);
  }
  function hexSecret(value) {
    var v = value.indexOf('0x') === 0 ? value.slice(2) : value;
    return v.length >= 16 && all(v, isHex) && any(v, isDigit) && any(v, isAlpha) && entropy(v) >= 2.5;
  }
  function longestRun(value) {
    var best = 0, run = 0, prev;
    Array.from(value).forEach(function (c) {
      run = c === prev ? run + 1 : 1;
      best = Math.max(best, run);
      prev = c;
    });
    return best;
  }
  function looksLikeMarkupOrCode(value) {
    var tag = /<[A-Za-z/]/.test(value) && value.indexOf('>') >= 0;
    return tag || /[A-Za-z]{3}\(['"]/.test(value);
  }
  function symbolSoup(value) {
    if (value.indexOf('://') >= 0 || value.indexOf('{{') === 0 || value[0] === '/' ||
      hasTemplateVariable(value) || looksLikeMarkupOrCode(value) || longestRun(value) > 3 ||
      entropy(value) < 3.5) return false;
    var marks = {};
    for (var i = 0; i < value.length; i++) if (isPunct(value.charCodeAt(i))) marks[value[i]] = true;
    return Object.keys(marks).length >= 6 && count(value, isAlnum) >= 8;
  }
  function isUuid(value) {
    return /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/.test(value);
  }
  function randomToken(value) {
    if (isPlaceholderLike(value) || isUuid(value)) return false;
    var lower = any(value, isLower), upper = any(value, isUpper), digit = any(value, isDigit);
    return (lower && upper && digit && entropy(value) >= 4.0) ||
      (utf8(value).length >= 32 && (lower || upper) && digit && entropy(value) >= 3.0);
  }
  function mixed(value) { return any(value, isDigit) && any(value, isAlpha); }

  /** Validators by their snake_case name in the rules; each takes (value, after). */
  var VALIDATORS = {
    luhn: luhnCard, iban: iban, aba: aba, ssn: ssn, ipv4: ipv4, phone: phone,
    phone_short: phoneShort, secret_like: secretLike, password_like: passwordLike,
    hex_secret: hexSecret, credential_pair: credentialPair, symbol_soup: symbolSoup,
    random_token: randomToken, mixed: mixed
  };
  /** Validators whose failed match may be retried without trailing digit groups. */
  var TRIMS_GROUPS = { luhn: true, iban: true, phone: true, phone_short: true, ssn: true };

  // ───────────────────────── compiling the rules ─────────────────────────

  /** Compile browser rules (the JSON of `handoff-gate rules browser`). */
  function compile(rules) {
    var detectors = [], skipped = [], keywords = {}, shapes = {}, alwaysOn = [];
    uniqueRows(rules.detectors || []).forEach(function (spec) {
      var why = spec.validator && !VALIDATORS[spec.validator] ? 'unknown validator ' + spec.validator : null;
      var regex = null;
      try {
        regex = unicodeRegExp(rustSpaces(spec.pattern), withFlags(spec.flags || 'g'));
      } catch (e) {
        why = why || 'pattern: ' + e.message;
      }
      if (why) {
        skipped.push({ id: spec.id, reason: why });
        return;
      }
      var index = detectors.length;
      detectors.push(compileDetector(spec, regex));
      if (spec.shape) addShape(shapes, spec.shape, index);
      else if (!spec.keywords || spec.keywords.length === 0) alwaysOn.push(index);
      (spec.keywords || []).forEach(function (word) { addKeyword(keywords, word, index); });
    });
    return {
      detectors: detectors,
      keywords: Object.keys(keywords).map(function (k) { return keywords[k]; }),
      shapes: Object.keys(shapes).map(function (k) { return shapes[k]; }),
      alwaysOn: alwaysOn,
      placeholders: placeholders(rules.kinds || {}),
      exportMin: rules.export_min_records || 3,
      skipped: skipped.concat(rules.skipped || [])
    };
  }
  /** Rows by id: a later row with the same id replaces the earlier one in place. */
  function uniqueRows(specs) {
    var rows = [], at = {};
    specs.forEach(function (spec) {
      if (Object.prototype.hasOwnProperty.call(at, spec.id)) rows[at[spec.id]] = spec;
      else at[spec.id] = rows.push(spec) - 1;
    });
    return rows;
  }
  /** Rust's `\s` (White_Space) as class ranges: JavaScript's adds U+FEFF and lacks U+0085. */
  var WHITE_SPACE = '\\t-\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
  /** Spell `\s` and `\S` as Rust means them (a class holding both, `[\s\S]`, is left alone). */
  function rustSpaces(source) {
    var out = '', inClass = false, classStart = 0;
    for (var i = 0; i < source.length; i++) {
      var c = source[i];
      if (c === '\\') {
        var pair = source.slice(i, i + 2);
        i++;
        if (pair === '\\s' && !(inClass && /^(?:[^\\\]]|\\.)*\\S/.test(source.slice(classStart)))) {
          out += inClass ? WHITE_SPACE : '[' + WHITE_SPACE + ']';
        } else if (pair === '\\S' && !inClass) {
          out += '[^' + WHITE_SPACE + ']';
        } else {
          out += pair;
        }
        continue;
      }
      if (c === '[' && !inClass) { inClass = true; classStart = i + 1; } else if (c === ']' && inClass) inClass = false;
      out += c;
    }
    return out;
  }
  /** With the `u` flag where the source allows it: Rust counts code points, not UTF-16 units. */
  function unicodeRegExp(source, flags) {
    if (flags.indexOf('u') < 0) {
      try { return new RegExp(source, flags + 'u'); } catch (e) { /* not valid in u mode */ }
    }
    return new RegExp(source, flags);
  }
  function withFlags(flags) {
    var f = flags.indexOf('g') >= 0 ? flags : flags + 'g';
    return HAS_INDICES && f.indexOf('d') < 0 ? f + 'd' : f;
  }
  function compileDetector(spec, regex) {
    return {
      id: spec.id,
      kind: spec.kind,
      regex: regex,
      hasSecret: spec.pattern.indexOf('(?<secret>') >= 0,
      validator: spec.validator ? VALIDATORS[spec.validator] : null,
      trims: !!(spec.validator && TRIMS_GROUPS[spec.validator]),
      context: (spec.context || []).map(asciiLower),
      exclude: (spec.exclude_context || []).map(asciiLower),
      excludeValues: (spec.exclude_values || []).map(asciiLower),
      window: spec.context_window === undefined ? 48 : spec.context_window,
      standalone: !!spec.standalone,
      confidence: spec.confidence,
      // [before, after] around a keyword hit, when the row narrows the default.
      keywordWindow: spec.keyword_window || null
    };
  }
  function addShape(shapes, shape, index) {
    var key = shape.pattern + '|' + shape.before + '|' + shape.after;
    if (!shapes[key]) {
      shapes[key] = { regex: unicodeRegExp(rustSpaces(shape.pattern), 'g'), before: shape.before, after: shape.after, owners: [] };
    }
    shapes[key].owners.push(index);
  }
  function addKeyword(keywords, word, index) {
    if (!word) return;
    var key = '=' + word;
    if (!keywords[key]) {
      var sensitive = /[A-Z]/.test(word);
      keywords[key] = {
        word: sensitive ? word : asciiLower(word),
        sensitive: sensitive,
        letterStart: isAlpha(word.charCodeAt(0)),
        owners: []
      };
    }
    keywords[key].owners.push(index);
  }
  function placeholders(kinds) {
    var out = {};
    Object.keys(kinds).forEach(function (k) { out[k] = kinds[k].placeholder; });
    return out;
  }

  // ───────────────────────── scanning (engine.rs) ─────────────────────────

  /** Run every detector that can match `text`; return the candidates that pass. */
  function scan(compiled, text) {
    var windows = compiled.detectors.map(function () { return []; });
    compiled.alwaysOn.forEach(function (i) { windows[i].push([0, text.length]); });
    collectKeywords(compiled.keywords, compiled.detectors, text, windows);
    compiled.shapes.forEach(function (shape) { collectShape(shape, text, windows); });
    var out = [], prefixes = {}, textBytes = byteLen(text, 0, text.length);
    compiled.detectors.forEach(function (det, index) {
      var merged = mergeWindows(windows[index]);
      var covered = merged.reduce(function (n, w) { return n + byteLen(text, w[0], w[1]); }, 0);
      if (covered > DENSE * textBytes) merged = [[0, text.length]];
      merged.forEach(function (w) { scanWindow(det, index, text, w[0], w[1], out, prefixes); });
    });
    if (text.indexOf('[') >= 0) {
      sparePlaceholders(text, out);
      out = out.filter(function (c) { return c.start < c.end; });
    }
    return out;
  }

  /** A keyword starting with a letter counts only where a word starts (incl. camelCase). */
  function startsWord(kw, text, at) {
    if (!kw.letterStart || at === 0) return true;
    var prev = text.charCodeAt(at - 1), first = text.charCodeAt(at);
    return !isAlnum(prev) || isDigit(prev) || (isLower(prev) && isUpper(first));
  }
  function collectKeywords(keywords, detectors, text, windows) {
    var lower = null;
    keywords.forEach(function (kw) {
      var hay = kw.sensitive ? text : (lower = lower || asciiLower(text));
      for (var at = hay.indexOf(kw.word); at >= 0; at = hay.indexOf(kw.word, at + 1)) {
        if (!startsWord(kw, text, at)) continue;
        var w = around(text, at, at + kw.word.length, BEFORE, AFTER);
        kw.owners.forEach(function (i) {
          var own = detectors[i].keywordWindow;
          windows[i].push(own ? around(text, at, at + kw.word.length, own[0], own[1]) : w);
        });
      }
    });
  }
  function collectShape(shape, text, windows) {
    var re = shape.regex, m;
    re.lastIndex = 0;
    while ((m = re.exec(text)) !== null) {
      if (m[0].length === 0) re.lastIndex++;
      var w = around(text, m.index, m.index + m[0].length, shape.before, shape.after);
      shape.owners.forEach(function (i) { windows[i].push(w); });
    }
  }

  /** Detector.scan: run one detector on text[lo..hi] (text before lo counts for \b). */
  function scanWindow(det, index, text, lo, hi, out, prefixes) {
    var at = lo;
    while (at < hi) {
      var hay = prefixes[hi] || (prefixes[hi] = text.slice(0, hi));
      det.regex.lastIndex = at;
      var m = det.regex.exec(hay);
      if (m === null) break;
      var ws = m.index, we = ws + m[0].length;
      if (we === hi && hi < text.length) {
        hi = fwdBytes(text, hi, 4 * AFTER); // the match may go on: widen and look again
        while (hi < text.length && !isWhite(text.charCodeAt(hi))) hi++;
        continue;
      }
      var secret = secretSpan(det, m, ws, we);
      var end = acceptedEnd(det, text, secret[0], secret[1]);
      if (end !== null) {
        out.push({ start: secret[0], end: end, kind: det.kind, detector: index, confidence: det.confidence });
        at = Math.max(we, ws + 1);
      } else {
        at = ws + 1; // a rejected match may hide an acceptable one inside it
      }
      if (at < text.length && !onBoundary(text, at)) at++;
    }
  }

  /** The `secret` group's span, or the whole match when it did not take part. */
  function secretSpan(det, m, ws, we) {
    var value = m.groups && m.groups.secret;
    if (!det.hasSecret || value === undefined) return [ws, we];
    if (m.indices && m.indices.groups) return m.indices.groups.secret;
    var at = m[0].lastIndexOf(value); // no `d` flag: the secret ends the match in every row
    return [ws + at, ws + at + value.length];
  }

  var UNITS = ['hours', 'hour', 'hrs', 'hr', 'minutes', 'minute', 'mins', 'min', 'seconds', 'secs',
    'days', 'day', 'weeks', 'week', 'months', 'month', 'years', 'year', 'am', 'pm', '%',
    'percent', 'times', 'leads', 'contacts', 'people', 'users', 'members'];
  /** "24 hours", "3 days", "50 %": the number before is a quantity. */
  function beforeAUnit(after) {
    var rest = after.replace(/^ +/, '');
    return UNITS.some(function (unit) {
      return asciiLower(rest.slice(0, unit.length)) === unit && !isAlnum(rest.charCodeAt(unit.length));
    });
  }

  /** Where an accepted finding starting at `start` ends, or null (digit kinds drop trailing groups). */
  function acceptedEnd(det, text, start, end) {
    if (det.trims && beforeAUnit(text.slice(end))) {
      var v = text.slice(start, end);
      var last = Math.max(v.lastIndexOf(' '), v.lastIndexOf('-'), v.lastIndexOf('.'), 0);
      end = start + trimEndChars(v.slice(0, last), ' -.').length;
    }
    if (end === start) return null;
    if (accepts(det, text, start, end)) return end;
    if (!det.trims) return null;
    var value = text.slice(start, end);
    for (var i = value.length - 1; i >= 0; i--) {
      if (' -.()'.indexOf(value[i]) < 0) continue;
      var e = start + trimEndChars(value.slice(0, i), ' -.(').length;
      if (e > start && accepts(det, text, start, e)) return e;
    }
    return null;
  }

  function accepts(det, text, start, end) {
    var value = text.slice(start, end);
    if (value.length === 0 || isPlaceholder(value)) return false;
    if (det.standalone && !standsAlone(text, start, end)) return false;
    if (det.validator && !det.validator(value, text.slice(end))) return false;
    if (det.excludeValues.indexOf(asciiLower(value)) >= 0) return false;
    if (det.exclude.length === 0 && det.context.length === 0) return true;
    var before = asciiLower(text.slice(backBytes(text, start, det.window), start));
    var has = function (w) { return before.indexOf(w) >= 0; };
    if (det.exclude.some(has)) return false;
    return det.context.length === 0 || det.context.some(has);
  }

  var GLUED_BEFORE = '_/=@#.-$€£&?';
  var GLUED_AFTER = '_/@%';
  /** Not glued to a word, a path, a parameter or an amount on either side. */
  function standsAlone(text, start, end) {
    var prev = prevChar(text, start), next = nextChar(text, end);
    var gluedBefore = prev !== undefined && (isUniAlnum(prev) || GLUED_BEFORE.indexOf(prev) >= 0);
    var gluedAfter = next !== undefined && (isUniAlnum(next) || GLUED_AFTER.indexOf(next) >= 0);
    return !gluedBefore && !gluedAfter;
  }

  /** One of the scrubber's own placeholders, such as `[API_KEY]` (engine.rs `is_placeholder`). */
  function isPlaceholder(value) {
    return /^\[[A-Z_]+\]$/.test(trimEndChars(value, '.,;:)"\''));
  }

  /** Cut placeholders out of the edges of candidates; empty those left with < 3 alphanumerics. */
  function sparePlaceholders(text, candidates) {
    var spans = [], re = /\[[A-Z][A-Z_]+\]/g, m;
    while ((m = re.exec(text)) !== null) spans.push([m.index, m.index + m[0].length]);
    if (spans.length === 0) return;
    candidates.forEach(function (c) {
      spans.forEach(function (s) {
        if (s[0] <= c.start && c.start < s[1]) c.start = Math.min(s[1], c.end);
        if (s[0] < c.end && c.end <= s[1]) c.end = Math.max(s[0], c.start);
      });
      if (Array.from(text.slice(c.start, c.end)).filter(isUniAlnum).length < 3) c.end = c.start;
    });
  }

  // ───────────────────────── exports (export.rs) ─────────────────────────

  var RECORD_KINDS = { email: 1, phone: 1, person: 1, address: 1, dob: 1, ssn: 1, card: 1, iban: 1 };

  /** Spans holding `min` or more customer records: runs of record lines, or one line of contacts. */
  function findExports(text, candidates, min) {
    var records = candidates.filter(function (c) { return RECORD_KINDS[c.kind]; });
    if (records.length < min) return [];
    records.sort(function (a, b) { return a.start - b.start; });
    var exports = [], run = null, next = 0, lineStart = 0;
    var flush = function () {
      if (run && run.n >= min) exports.push([run.start, run.end]);
      run = null;
    };
    while (lineStart < text.length) {
      var nl = text.indexOf('\n', lineStart);
      var lineEnd = nl < 0 ? text.length : nl + 1;
      var contentEnd = lineStart + trimEndChars(text.slice(lineStart, lineEnd), '\n\r').length;
      var first = next;
      while (next < records.length && records[next].start < lineEnd) next++;
      var inLine = records.slice(first, next);
      if (contactValues(inLine) >= min) exports.push([lineStart, contentEnd]);
      if (inLine.length > 0) {
        run = run ? { start: run.start, end: contentEnd, n: run.n + 1 } : { start: lineStart, end: contentEnd, n: 1 };
      } else if (!isFiller(text.slice(lineStart, contentEnd))) {
        flush();
      }
      lineStart = lineEnd;
    }
    flush();
    return exports.sort(function (a, b) { return a[0] - b[0] || a[1] - b[1]; });
  }
  /** Emails and phones in a line, not counting a phone inside a card number or IBAN. */
  function contactValues(inLine) {
    return inLine.filter(function (c) {
      return (c.kind === 'email' || c.kind === 'phone') && !inLine.some(function (o) {
        return (o.kind === 'card' || o.kind === 'iban') && o.start < c.end && c.start < o.end;
      });
    }).length;
  }
  function isFiller(line) {
    for (var i = 0; i < line.length; i++) {
      if (!isWhite(line.charCodeAt(i)) && '-|+=:'.indexOf(line[i]) < 0) return false;
    }
    return true;
  }

  // ───────────────────────── merging and the rescan (mod.rs) ─────────────────────────

  /** Merge overlapping candidates; the longest in UTF-8 bytes (then most confident) names the span. */
  function merge(text, candidates) {
    var sorted = candidates.slice().sort(function (a, b) { return a.start - b.start || b.end - a.end; });
    var merged = [];
    sorted.forEach(function (c) {
      var cur = merged[merged.length - 1], len = byteLen(text, c.start, c.end);
      if (cur && c.start < cur.end) {
        if (len > cur.bestLen || (len === cur.bestLen && c.confidence > cur.confidence)) {
          cur.kind = c.kind;
          cur.detector = c.detector;
          cur.confidence = c.confidence;
          cur.bestLen = len;
        }
        cur.end = Math.max(cur.end, c.end);
      } else {
        merged.push({ start: c.start, end: c.end, kind: c.kind, detector: c.detector, confidence: c.confidence, bestLen: len });
      }
    });
    return merged;
  }

  function placeholderFor(compiled, kind) {
    return compiled.placeholders[kind] || '[' + kind.toUpperCase() + ']';
  }
  /** The text with each merged finding replaced, and where each placeholder stands. */
  function render(compiled, text, merged) {
    var out = '', spans = [], at = 0;
    merged.forEach(function (c) {
      out += text.slice(at, c.start);
      var os = out.length;
      out += placeholderFor(compiled, c.kind);
      spans.push([os, out.length, c.start, c.end]);
      at = c.end;
    });
    return { text: out + text.slice(at), spans: spans };
  }
  /** Map a candidate in the rendered text back onto the input. */
  function toInput(rendered, c) {
    var map = function (pos, isEnd) {
      var shift = 0;
      for (var i = 0; i < rendered.spans.length; i++) {
        var s = rendered.spans[i];
        if (pos < s[0] || (isEnd && pos === s[0])) break;
        if (pos < s[1] || (isEnd && pos === s[1])) return isEnd ? s[3] : s[2];
        shift = s[3] - s[1];
      }
      return Math.max(0, pos + shift);
    };
    return { start: map(c.start, false), end: map(c.end, true), kind: c.kind, detector: c.detector, confidence: c.confidence };
  }
  /** Candidates near a placeholder, where the first scan saw other characters. */
  function rescanNearPlaceholders(compiled, rendered) {
    var text = rendered.text, found = [];
    var regions = mergeWindows(rendered.spans.map(function (s) {
      return around(text, s[0], s[1], RESCAN_MARGIN, RESCAN_MARGIN);
    }));
    regions.forEach(function (r) {
      scan(compiled, text.slice(r[0], r[1])).forEach(function (c) {
        c.start += r[0];
        c.end += r[0];
        found.push(c);
      });
    });
    return found;
  }

  /** Find private values in `text`: [{kind, id, start, end}] in input order, overlaps merged. */
  function detect(compiled, text) {
    text = String(text == null ? '' : text);
    var candidates = scan(compiled, text);
    findExports(text, candidates, compiled.exportMin).forEach(function (e) {
      candidates.push({ start: e[0], end: e[1], kind: 'account_export', detector: -1, confidence: 0.9 });
    });
    var merged = merge(text, candidates);
    var rendered = render(compiled, text, merged);
    for (var round = 0; round < 4; round++) {
      var extra = rescanNearPlaceholders(compiled, rendered);
      if (extra.length === 0) break;
      merged = merge(text, merged.concat(extra.map(function (c) { return toInput(rendered, c); })));
      rendered = render(compiled, text, merged);
    }
    return merged.map(function (c) {
      var det = compiled.detectors[c.detector];
      return { kind: c.kind, id: det ? det.id : EXPORT_ID, start: c.start, end: c.end };
    });
  }

  var api = { compile: compile, detect: detect };
  root.HandoffGateDetect = api;
  if (typeof module !== 'undefined' && module.exports) module.exports = api;
})(typeof globalThis !== 'undefined' ? globalThis : this);
