//! Unit tests of the User render.
