//! Scrubber throughput on realistic CRM-support text at 1 KB, 100 KB and
//! 10 MB. The text is generated deterministically: mostly clean questions,
//! with a sprinkling of emails, phones, keys, cards, names, URLs, non-ASCII
//! text and emoji, roughly the mix a contact form receives.
//!
//! A second group scans the development corpus (`../shared/corpora/dev/`,
//! when it is beside the repository) record by record, with the default
//! policy (rules and the name/address/birth-date tagger) and with the rules
//! alone, back to back, so the tagger's cost reads off directly.
//!
//! Run with `cargo bench --bench scrub`; criterion reports MB/s.

use std::hint::black_box;
use std::time::Duration;

use criterion::{BenchmarkId, Criterion, Throughput, criterion_group, criterion_main};
use handoff_scrub::{Policy, scrub};

/// Clean questions, the bulk of real traffic.
const CLEAN: &[&str] = &[
    "Our GoHighLevel workflow doesn't fire when the Typeform is submitted; the tag never gets added.",
    "Paid on Stripe but the Kajabi offer never granted access to the course, what should I check first?",
    "Calendly bookings are not moving the opportunity to the 'Booked' stage in the pipeline.",
    "Zapier creates duplicate contacts in HubSpot whenever someone fills the quiz twice.",
    "The nurture sequence sends the day-3 email before the buyer even has their login.",
    "How do I test the checkout → membership path before the launch on 2024-03-15?",
    "Looker Studio numbers don't match Google Sheets; which step loses the UTM source?",
    "Hi {{contact.first_name}}, your call is on {{appointment.start_time}} — the SMS shows blanks.",
    "Order #10234 went through in WooCommerce but LearnDash never enrolled the student.",
    "We moved from Active Campaign to Kit and now the welcome email goes out twice.",
    "The course is $1,497 or 3 × $549; the payment-plan buyers don't get the 'paid' tag.",
    "Gravity Forms posts to the webhook but the WP Fusion tag is applied 20 minutes late.",
    "Le formulaire Systeme.io n'ajoute pas le tag « acheteur » après le paiement.",
    "Die Buchung über Calendly landet nicht in der richtigen Pipeline-Stufe, warum?",
    "After updating to v2.3.1 the ManyChat → GHL sync stopped 😅 any idea?",
    "Workflow 3f2b1c9e-8d7a-4b6c-9e5f-1a2b3c4d5e6f shows 'skipped' for every contact 🤷",
    "Open rate fell from 42% to 18.5% after we switched the sending domain last week.",
];

/// Private values, sprinkled in now and then. All fakes or published test values.
const PRIVATE: &[&str] = &[
    "You can reach the buyer at jenna.fake@example.com if you need to.",
    "Her number is (415) 555-0132, she booked but got no reminder.",
    "My Stripe key is sk_live_4eC39HqLyjWDarjtT1zdp7dc, maybe it is the wrong one?",
    "Tested with card 4242 4242 4242 4242 and it still failed.",
    "My client Sarah Johnson paid twice through ThriveCart.",
    "Screenshot: https://prnt.sc/t8k2m1 shows the error.",
    "The webhook is https://hooks.zapier.com/hooks/catch/1234567/abcde12/ in case that matters.",
    "GHL token pit-6f0e1d2c-3b4a-5968-7a8b-9c0d1e2f3a4b returns 401.",
    "UK lead +44 20 7946 0958 never got the SMS.",
    "Our server 203.0.113.42 blocks the callback.",
    "Ship the welcome box to 742 Evergreen Terrace, Springfield, OR 97403 please.",
];

/// A tiny deterministic generator (xorshift64), so every run scans the same text.
struct Rng(u64);

impl Rng {
    fn below(&mut self, n: usize) -> usize {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        (self.0 % n as u64) as usize
    }
}

/// About `size` bytes of support text: paragraphs of a few sentences, one
/// sentence in ten private.
fn support_text(size: usize) -> String {
    let mut rng = Rng(0x5eed_cafe_f00d_d00d);
    let mut text = String::with_capacity(size + 256);
    while text.len() < size {
        let sentences = 2 + rng.below(4);
        for i in 0..sentences {
            let sentence = if rng.below(10) == 0 {
                PRIVATE[rng.below(PRIVATE.len())]
            } else {
                CLEAN[rng.below(CLEAN.len())]
            };
            if i > 0 {
                text.push(' ');
            }
            text.push_str(sentence);
        }
        text.push_str("\n\n");
    }
    let mut end = size;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    text.truncate(end);
    text
}

fn bench_scrub(c: &mut Criterion) {
    let policy = Policy::default();
    let mut group = c.benchmark_group("scrub");
    for (label, size, samples, seconds) in [
        ("1KB", 1_000, 100, 3),
        ("100KB", 100_000, 30, 5),
        ("10MB", 10_000_000, 10, 20),
    ] {
        let text = support_text(size);
        group.throughput(Throughput::Bytes(text.len() as u64));
        group.sample_size(samples);
        group.measurement_time(Duration::from_secs(seconds));
        group.bench_with_input(BenchmarkId::from_parameter(label), &text, |b, text| {
            b.iter(|| scrub(black_box(text), &policy));
        });
    }
    group.finish();
}

/// The dev corpus texts, one per record, if the corpus is beside the repository.
fn dev_corpus() -> Option<Vec<String>> {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../shared/corpora/dev/dev.jsonl"
    );
    let data = std::fs::read_to_string(path).ok()?;
    Some(
        data.lines()
            .filter_map(|line| serde_json::from_str::<serde_json::Value>(line).ok())
            .filter_map(|v| v["text"].as_str().map(str::to_owned))
            .collect(),
    )
}

fn bench_dev_corpus(c: &mut Criterion) {
    let Some(records) = dev_corpus() else {
        eprintln!("dev corpus not found beside the repository; its bench is skipped");
        return;
    };
    let bytes: usize = records.iter().map(String::len).sum();
    let mut group = c.benchmark_group("dev_corpus_records");
    group.throughput(Throughput::Bytes(bytes as u64));
    group.sample_size(10);
    group.measurement_time(Duration::from_secs(10));
    for (label, policy) in [
        ("rules_only", Policy::rules_only()),
        ("with_tagger", Policy::default()),
    ] {
        group.bench_function(label, |b| {
            b.iter(|| {
                for text in &records {
                    black_box(scrub(black_box(text), &policy));
                }
            });
        });
    }
    group.finish();
}

criterion_group!(benches, bench_scrub, bench_dev_corpus);
criterion_main!(benches);
