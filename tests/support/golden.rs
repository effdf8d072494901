//! Golden files: compare output with a committed file; `UPDATE_GOLDEN=1` rewrites them.

use std::path::Path;

/// Asserts `actual` equals the golden file at `path` (or writes it under `UPDATE_GOLDEN=1`).
/// CI (`CI=true`) never rewrites: there the variable set at all is a failure, so a stray
/// `UPDATE_GOLDEN` cannot turn every golden comparison into a pass.
pub fn assert_golden(path: &Path, actual: &str) {
    if update_requested(
        std::env::var("UPDATE_GOLDEN").ok().as_deref(),
        std::env::var("CI").ok().as_deref(),
    ) {
        std::fs::write(path, actual)
            .unwrap_or_else(|e| panic!("cannot write {}: {e}", path.display()));
        return;
    }
    let expected = std::fs::read_to_string(path).unwrap_or_else(|e| {
        panic!(
            "cannot read golden file {} ({e}); run with UPDATE_GOLDEN=1 to create it",
            path.display()
        )
    });
    if expected != actual {
        let first = expected
            .lines()
            .zip(actual.lines())
            .position(|(a, b)| a != b)
            .unwrap_or_else(|| expected.lines().count().min(actual.lines().count()));
        panic!(
            "{} differs from the rendered output at line {}:\n  golden:   {:?}\n  rendered: {:?}\nrun with UPDATE_GOLDEN=1 to accept the new output",
            path.display(),
            first + 1,
            expected.lines().nth(first).unwrap_or("<end>"),
            actual.lines().nth(first).unwrap_or("<end>"),
        );
    }
}

/// Whether golden files are to be rewritten: only for `UPDATE_GOLDEN=1`, and never in CI.
pub fn update_requested(update: Option<&str>, ci: Option<&str>) -> bool {
    match (update, ci) {
        (Some(_), Some("true")) => {
            panic!(
                "UPDATE_GOLDEN is set under CI=true: CI compares golden files, never rewrites them"
            )
        }
        (update, _) => update == Some("1"),
    }
}
