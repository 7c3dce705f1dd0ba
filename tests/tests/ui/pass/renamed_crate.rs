//! `crate = path` for a renamed dependency: every generated path goes through it. (Cargo
//! refuses one package depending on another under two names, so the rename is made here;
//! `fail/crate_path_used.rs` shows that the generated code really uses the given path.)
#![deny(warnings)]

extern crate pipelinescope as ps_renamed;

mod shim {
    pub use ps_renamed::*;
}

#[ps_renamed::profile(crate = ps_renamed)]
fn through_rename() -> u32 {
    1
}

#[ps_renamed::profile(crate = crate::shim)]
async fn through_module() -> u32 {
    2
}

struct Unit;

#[ps_renamed::profile(crate = ::ps_renamed)]
impl Unit {
    fn method(&self) -> u32 {
        3
    }
}

#[ps_renamed::profile(crate = ::ps_renamed)]
mod renamed_module {
    pub fn inner() -> u32 {
        5
    }
}

#[ps_renamed::main(crate = ps_renamed)]
fn main() {
    assert_eq!(through_rename() + Unit.method() + renamed_module::inner(), 9);
    let _ = through_module();
    let names: Vec<String> = ps_renamed::snapshot()
        .functions
        .into_iter()
        .map(|f| f.name)
        .collect();
    assert!(names.iter().any(|n| n == "through_rename"));
    assert!(names.iter().any(|n| n == "Unit::method"));
    assert!(names.iter().any(|n| n == "renamed_module::inner"));
}
