//! Compile errors of `#[stage]` misuse, spanned at the offending tokens.

#[test]
fn stage_misuse_is_a_compile_error() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/stage_*.rs");
}
