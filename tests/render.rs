//! Golden render tests: every case under `tests/fixtures/<composition>/<case>/` and every
//! example under `examples/<composition>/` renders to its committed `expected.yaml`, twice
//! byte-identically.

mod support;

use support::golden::assert_golden;
use support::{case_dirs, render_yaml, root};

#[test]
fn fixtures_and_examples_match_their_golden_output() {
    let mut dirs = case_dirs(&root().join("tests/fixtures"));
    dirs.extend(case_dirs(&root().join("examples")));
    for dir in &dirs {
        let first = render_yaml(dir);
        let second = render_yaml(dir);
        assert_eq!(first, second, "{}: rendering twice gave different output", dir.display());
        assert_golden(&dir.join("expected.yaml"), &first);
    }
}
