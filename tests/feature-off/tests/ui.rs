//! Misuse is an error whether or not profiling is compiled in: the cases of the feature-on UI
//! tests (`tests/tests/ui/fail`), with the same messages. Not `crate_path_used.rs`: without the
//! feature nothing is generated, so a wrong `crate = path` goes unnoticed.

#[test]
fn ui_errors_without_the_feature() {
    trybuild::TestCases::new().compile_fail("tests/ui/*.rs");
}

/// What the attributes leave out with profiling off is not compiled: a size expression may name
/// nothing at all.
#[test]
fn feature_off_leaves_arguments_uncompiled() {
    trybuild::TestCases::new().pass("tests/ui/pass/*.rs");
}
