//! Each obfuscation form, the text that must stay as written, and the map
//! from the view back to the input.

use super::*;
use crate::{Policy, Scrubbed, scrub};

fn run(text: &str) -> Scrubbed {
    let out = scrub(text, &Policy::default());
    let again = scrub(out.text().as_str(), &Policy::default());
    assert!(
        again.findings().is_empty(),
        "{text:?} scrubs to {:?}, which scrubs again to {:?}",
        out.text(),
        again.text()
    );
    out
}

fn redacts(cases: &[(&str, &str)]) {
    for (text, want) in cases {
        assert_eq!(run(text).text().as_str(), *want, "{text:?}");
    }
}

#[test]
fn full_width_values_are_found_and_replaced_whole() {
    redacts(&[
        (
            "mail ｊａｎｅ＠ｅｘａｍｐｌｅ．ｃｏｍ please",
            "mail [EMAIL] please",
        ),
        ("mail jane＠example.com please", "mail [EMAIL] please"),
        (
            "カード番号は４２４２ ４２４２ ４２４２ ４２４２です",
            "カード番号は[CARD]です",
        ),
        (
            "card ４２４２　４２４２　４２４２　４２４２ declined",
            "card [CARD] declined",
        ),
        (
            "key ｓｋ＿ｌｉｖｅ＿４ｅＣ３９ＨｑＬｙｊＷＤａｒｊｔＴ１ｚｄｐ７ｄｃ broke",
            "key [API_KEY] broke",
        ),
        ("card 𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐𝟒𝟐 declined", "card [CARD] declined"),
    ]);
}

#[test]
fn invisible_characters_inside_a_value_go_with_it() {
    redacts(&[
        (
            "write to jane\u{200b}.doe@exa\u{200d}mple.org today",
            "write to [EMAIL] today",
        ),
        (
            "key sk_live_4eC39Hq\u{2060}LyjWDarjtT1zdp7dc broke",
            "key [API_KEY] broke",
        ),
        (
            "card 4242\u{ad}4242\u{ad}4242\u{ad}4242 declined",
            "card [CARD] declined",
        ),
        (
            "card \u{feff}4242424242424242\u{200b} declined",
            "card [CARD] declined",
        ),
        ("card 4242\u{a0}4242\u{a0}4242\u{a0}4242", "card [CARD]"),
    ]);
}

#[test]
fn spelled_addresses_are_emails() {
    redacts(&[
        ("write to jane at example dot com", "write to [EMAIL]"),
        ("write to jane AT example DOT com!", "write to [EMAIL]!"),
        ("jane [at] example [dot] com is mine", "[EMAIL] is mine"),
        ("jane(at)example(dot)org", "[EMAIL]"),
        ("jane {at} example.co.uk, thanks", "[EMAIL], thanks"),
        ("jane [@] example [.] org", "[EMAIL]"),
        ("jane.doe@example dot com", "[EMAIL]"),
        ("jane dot doe at example dot org", "[EMAIL]"),
        (
            "email me at jane dot doe at gmail dot com",
            "email me at [EMAIL]",
        ),
        (
            "escríbeme: ana arroba ejemplo punto es",
            "escríbeme: [EMAIL]",
        ),
        (
            "écrivez à jean arobase exemple point fr",
            "écrivez à [EMAIL]",
        ),
        ("ｊａｎｅ ａｔ ｅｘａｍｐｌｅ ｄｏｔ ｃｏｍ", "[EMAIL]"),
        ("ja\u{200b}ne [at] exam\u{200b}ple [dot] com", "[EMAIL]"),
    ]);
}

#[test]
fn a_spelled_address_glued_to_a_long_word_is_found_whole() {
    let tail = "ok,".repeat(60);
    let out = run(&format!("tags: liz89 at hotmail dot com,{tail} end"));
    assert_eq!(out.text().as_str(), format!("tags: [EMAIL],{tail} end"));
}

#[test]
fn dotted_and_spaced_card_groups_are_cards() {
    for text in [
        "card 4111.1111.1111.1111 declined",
        "card 4111 1111 1111 1111 declined",
        "card 4111-1111-1111-1111 declined",
    ] {
        let out = run(text);
        assert_eq!(out.text().as_str(), "card [CARD] declined", "{text}");
        assert_eq!(out.findings()[0].kind, FindingKind::Card, "{text}");
    }
}

#[test]
fn a_key_split_by_a_space_goes_whole() {
    redacts(&[
        (
            "key sk_live_4eC39HqLyjWD arjtT1zdp7dc broke",
            "key [API_KEY] broke",
        ),
        (
            "token ghp_0123456789abcdefABCDEF0123456789abcd EfGh1234 in the log.",
            "token [API_KEY] in the log.",
        ),
        (
            "Shopify API: shpat_3ecc46a4fcee9 787a8a34a3f4f57a5d3a1b2c3d4e5f6a7b8",
            "Shopify API: [API_KEY]",
        ),
        // The word after a key is not part of it.
        (
            "key sk_live_4eC39HqLyjWDarjtT1zdp7dc stopped working",
            "key [API_KEY] stopped working",
        ),
    ]);
}

#[test]
fn look_alikes_stay_as_written() {
    for text in [
        "meet at the office dot matrix printer",
        "the form is at example.com and the docs at docs.example.com",
        "upgrade to version 1.2.3.4 please",
        "we moved at 10.30 and the point is moot",
        "日本語の文章：ＡＢＣ株式会社は２０２４年１１月３０日に設立されました。",
        "今天的会议在三楼，全角的括号（备注）和数字１２３不是隐私。",
        "the price is ￥１，２００ for ３ seats",
        "family 👨\u{200d}👩\u{200d}👧 emoji and café “quotes” … done",
        "ﬁle the ticket at the point of sale",
        "mot de passe oublié\u{a0}: que faire\u{a0}?",
    ] {
        let out = run(text);
        assert_eq!(out.text().as_str(), text, "{:?}", out.findings());
    }
}

#[test]
fn clean_text_builds_no_view() {
    assert!(View::of("GHL workflow doesn't fire when the Typeform is submitted").is_none());
    assert!(View::of("Grüße aus München — “quoted” … é").is_none());
    assert!(View::of("the point is that the dot product is at 3").is_none());
}

#[test]
fn view_positions_map_back_to_the_smallest_covering_input() {
    let text = "a\u{200b}b ＡＢ c";
    let view = View::of(text).unwrap();
    assert_eq!(view.text, "ab AB c");
    let input = |start, end| {
        let s = view.to_input(Span::new(start, end));
        &text[s.start..s.end]
    };
    assert_eq!(input(0, 2), "a\u{200b}b");
    assert_eq!(input(0, 1), "a\u{200b}");
    assert_eq!(input(1, 2), "\u{200b}b");
    assert_eq!(input(3, 5), "ＡＢ");
    assert_eq!(input(4, 5), "Ｂ");
    assert_eq!(input(6, 7), "c");
}
