//! The embedded name/address/birth-date tagger model is rebuilt byte for
//! byte by `models/tagger/train.py` from the committed generator, the dev
//! corpus generator beside the repository and the pinned packages of
//! `models/tagger/requirements.txt`.

use std::path::Path;
use std::process::Command;

use crate::support::{skipped, skipped_without_shared};

const ROOT: &str = env!("CARGO_MANIFEST_DIR");

/// Whether python3 has the pinned Faker and the `modules` named (a comma
/// list, or empty); says the test `test` skipped when it has not.
fn pinned_python(test: &str, modules: &str) -> bool {
    let (imports, wanted) = if modules.is_empty() {
        ("faker, sys".to_owned(), "Faker 40.63.0".to_owned())
    } else {
        (
            format!("faker, {modules}, sys"),
            format!("Faker 40.63.0, {modules}"),
        )
    };
    let check = format!("import {imports}; sys.exit(faker.VERSION != '40.63.0')");
    let pinned = Command::new("python3")
        .args(["-c", &check])
        .status()
        .is_ok_and(|s| s.success());
    if !pinned {
        skipped(
            test,
            &format!("python3 with {wanted} is not installed"),
            "python3 -m pip install -r models/tagger/requirements.txt",
        );
    }
    pinned
}

#[test]
fn retraining_reproduces_the_embedded_tagger_model() {
    const TEST: &str = "tagger_model::retraining_reproduces_the_embedded_tagger_model";
    if !Path::new(ROOT)
        .join("../shared/corpora/dev/gen_dev.py")
        .exists()
    {
        skipped_without_shared(TEST, "../shared/corpora/dev/gen_dev.py");
        return;
    }
    if !pinned_python(TEST, "freezegun, pycrfsuite") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("tagger.model");
    let run = Command::new("python3")
        .args(["models/tagger/train.py", "-o"])
        .arg(&out)
        .current_dir(ROOT)
        .output()
        .unwrap();
    let report = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{report}\n{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let committed = std::fs::read(Path::new(ROOT).join("models/tagger/tagger.model")).unwrap();
    assert!(
        std::fs::read(&out).unwrap() == committed,
        "the committed tagger model differs from a retrain: the generator, the features or \
         the vocabularies changed. Rebuild it with\n  python3 models/tagger/train.py\nand \
         commit models/tagger/tagger.model.\n{report}"
    );
    assert_eq!(committed, handoff_scrub::DEFAULT_TAGGER_MODEL);
}

/// The unseen-name list (`tests/data/unseen_names.txt`) is what
/// `models/tagger/unseen_names.py` writes from the pinned Faker.
#[test]
fn the_unseen_name_list_is_rebuilt_by_its_script() {
    const TEST: &str = "tagger_model::the_unseen_name_list_is_rebuilt_by_its_script";
    if !pinned_python(TEST, "") {
        return;
    }
    let run = Command::new("python3")
        .arg("models/tagger/unseen_names.py")
        .current_dir(ROOT)
        .output()
        .unwrap();
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let committed = std::fs::read(Path::new(ROOT).join("tests/data/unseen_names.txt")).unwrap();
    assert!(
        run.stdout == committed,
        "tests/data/unseen_names.txt differs from what its script writes; rebuild it with\n  \
         python3 models/tagger/unseen_names.py > tests/data/unseen_names.txt"
    );
}
