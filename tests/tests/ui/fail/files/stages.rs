//! The file of the module in `mod_without_body.rs` and `mod_inner_without_body.rs`.

pub fn load() {}
