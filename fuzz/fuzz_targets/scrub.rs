//! Fuzz `scrub` (the default policy: the detector table and the name/address/birth-date
//! tagger) with arbitrary UTF-8: it must not panic, its findings must be
//! sorted, non-overlapping and on char boundaries, the output must be the
//! input with each finding replaced by its placeholder, and scrubbing the
//! output again must change nothing and find nothing.

#![no_main]

use std::sync::LazyLock;

use handoff_scrub::{Policy, scrub};
use libfuzzer_sys::fuzz_target;

static POLICY: LazyLock<Policy> = LazyLock::new(Policy::default);

fuzz_target!(|data: &[u8]| {
    let Ok(input) = std::str::from_utf8(data) else {
        return;
    };
    let out = scrub(input, &POLICY);

    let mut rebuilt = String::with_capacity(input.len());
    let mut at = 0;
    for f in out.findings() {
        assert!(f.start < f.end, "empty finding {f:?}");
        assert!(at <= f.start, "finding {f:?} overlaps the one before");
        assert!(f.end <= input.len(), "finding {f:?} outside the input");
        assert!(
            input.is_char_boundary(f.start) && input.is_char_boundary(f.end),
            "finding {f:?} not on char boundaries"
        );
        rebuilt.push_str(&input[at..f.start]);
        rebuilt.push_str(POLICY.placeholder(f.kind));
        at = f.end;
    }
    rebuilt.push_str(&input[at..]);
    assert_eq!(
        out.text().as_str(),
        rebuilt,
        "text outside findings not preserved"
    );

    let again = scrub(out.text().as_str(), &POLICY);
    assert!(
        again.findings().is_empty(),
        "scrubbing twice found {:?}",
        again.findings()
    );
    assert_eq!(again.text(), out.text(), "scrubbing twice changed the text");
});
