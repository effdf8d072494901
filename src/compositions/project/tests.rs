//! Unit tests of the Project render: validation rules, names and the gates. The stage-by-stage
//! walk is in `tests/project.rs`.
