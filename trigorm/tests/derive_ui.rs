//! Compile-time behaviour of `#[derive(Model)]`: one passing model using every attribute,
//! and one failing case per error (each with its expected compiler output in a `.stderr`).
//! Regenerate the `.stderr` files with `TRYBUILD=overwrite` and review the diff.

#[test]
fn derive_ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass_*.rs");
    t.compile_fail("tests/ui/fail_*.rs");
}
