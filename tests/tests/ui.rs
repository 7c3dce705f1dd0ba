//! Compile-time behaviour of the attributes: every supported form compiles and runs, every
//! misuse fails with the committed message.

#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/fail/*.rs");
}
