//! Unit tests of the Group render.
