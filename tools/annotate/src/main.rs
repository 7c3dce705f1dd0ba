//! Puts `#[::pipelinescope::profile]` on every function with a body in a crate's sources, to
//! check that a whole crate annotated this way still builds and passes its tests, and to measure
//! what that costs.
//!
//! Usage: `pipelinescope-annotate [--attr PATH] [--dry-run] DIR_OR_FILE...`. Every `.rs` file
//! under the given folders is parsed with `syn`; free functions, methods in `impl` blocks,
//! trait methods with a default body and functions nested in other items or bodies get the
//! attribute, written into the file as text just after their other outer attributes (so it
//! runs last, on the function as the user's other attributes leave it). Everything else in
//! the file, comments and formatting included, stays byte for byte as it was.
//!
//! Left out: `const fn` (a probe cannot run at compile time), functions that already carry a
//! `profile` attribute, functions without a body, rstest_reuse `#[template]` functions (their
//! attributes are copied onto the tests that apply them), and whatever only a macro
//! (`macro_rules!`, a derive) generates, since only the tokens written in the file are seen. Files that do not
//! parse are reported and left alone. Prints one line per file with annotations and a total.

use proc_macro2::{LineColumn, TokenStream};
use quote::ToTokens;
use std::path::{Path, PathBuf};
use std::process::ExitCode;
use syn::visit::{self, Visit};

/// Where the attribute goes, and why some functions were passed over.
#[derive(Default)]
struct Finder {
    at: Vec<LineColumn>,
    const_fns: usize,
    already: usize,
    templates: usize,
}

impl Finder {
    /// Records a function, given as its whole item's tokens: the attribute goes before the
    /// first token that follows its outer attributes (its visibility or its `fn`'s qualifiers).
    fn function(&mut self, attrs: &[syn::Attribute], sig: &syn::Signature, item: TokenStream) {
        if sig.constness.is_some() {
            self.const_fns += 1;
            return;
        }
        if attrs.iter().any(is_profile) {
            self.already += 1;
            return;
        }
        if attrs.iter().any(is_template) {
            self.templates += 1;
            return;
        }
        // Each outer attribute prints as `#` and a bracketed group; inner ones (`#![..]` at the
        // top of the body) print inside the body.
        let outer = attrs
            .iter()
            .filter(|a| matches!(a.style, syn::AttrStyle::Outer))
            .count();
        if let Some(first) = item.into_iter().nth(2 * outer) {
            self.at.push(first.span().start());
        }
    }
}

/// rstest_reuse's `#[template]`: not a function of the program but a list of attributes that
/// `#[apply(template)]` copies onto each test using it, which is annotated on its own (the
/// copy would put the attribute on it twice).
fn is_template(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "template")
}

/// `#[profile]`, `#[pipelinescope::profile]` and the like: already instrumented.
fn is_profile(a: &syn::Attribute) -> bool {
    a.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "profile")
}

impl<'ast> Visit<'ast> for Finder {
    fn visit_item_fn(&mut self, f: &'ast syn::ItemFn) {
        self.function(&f.attrs, &f.sig, f.to_token_stream());
        visit::visit_item_fn(self, f);
    }

    fn visit_impl_item_fn(&mut self, f: &'ast syn::ImplItemFn) {
        self.function(&f.attrs, &f.sig, f.to_token_stream());
        visit::visit_impl_item_fn(self, f);
    }

    fn visit_trait_item_fn(&mut self, f: &'ast syn::TraitItemFn) {
        if f.default.is_some() {
            self.function(&f.attrs, &f.sig, f.to_token_stream());
        }
        visit::visit_trait_item_fn(self, f);
    }
}

/// Byte offset of a `LineColumn` (1-based line, column in characters) in `src`.
fn offset(src: &str, at: LineColumn) -> Option<usize> {
    let line_start = if at.line == 1 {
        0
    } else {
        src.match_indices('\n').nth(at.line - 2)?.0 + 1
    };
    let line = &src[line_start..];
    let col = match line.char_indices().nth(at.column) {
        Some((i, _)) => i,
        None if line.chars().count() == at.column => line.len(),
        None => return None,
    };
    Some(line_start + col)
}

/// The annotated text of one file and the number of functions annotated.
fn annotate(src: &str, attr: &str) -> Result<(String, Finder), String> {
    // `syn::parse_file` drops a byte-order mark and a shebang line before parsing, which would
    // shift the positions it reports; neither belongs in a crate's library sources.
    if src.starts_with('\u{feff}') || (src.starts_with("#!") && !src.starts_with("#![")) {
        return Err("starts with a byte-order mark or a shebang line".into());
    }
    let file = syn::parse_file(src).map_err(|e| {
        let at = e.span().start();
        format!("does not parse ({}:{}): {e}", at.line, at.column)
    })?;
    let mut finder = Finder::default();
    finder.visit_file(&file);
    let mut offsets = finder
        .at
        .iter()
        .map(|&at| offset(src, at).ok_or_else(|| format!("no offset for {at:?}")))
        .collect::<Result<Vec<_>, _>>()?;
    offsets.sort_unstable();
    offsets.dedup();
    let mut out = String::with_capacity(src.len() + offsets.len() * (attr.len() + 4));
    let mut last = 0;
    for &o in &offsets {
        out.push_str(&src[last..o]);
        out.push_str("#[");
        out.push_str(attr);
        out.push_str("] ");
        last = o;
    }
    out.push_str(&src[last..]);
    Ok((out, finder))
}

fn rust_files(path: &Path, out: &mut Vec<PathBuf>) -> std::io::Result<()> {
    if path.is_file() {
        if path.extension().is_some_and(|e| e == "rs") {
            out.push(path.to_path_buf());
        }
        return Ok(());
    }
    let mut entries = std::fs::read_dir(path)?
        .map(|e| e.map(|e| e.path()))
        .collect::<Result<Vec<_>, _>>()?;
    entries.sort();
    for e in entries {
        rust_files(&e, out)?;
    }
    Ok(())
}

fn main() -> ExitCode {
    let mut attr = "::pipelinescope::profile".to_string();
    let mut dry_run = false;
    let mut roots = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--attr" => match args.next() {
                Some(v) => attr = v,
                None => {
                    eprintln!("--attr needs a path");
                    return ExitCode::from(2);
                }
            },
            "--dry-run" => dry_run = true,
            "-h" | "--help" => {
                println!("usage: pipelinescope-annotate [--attr PATH] [--dry-run] DIR_OR_FILE...");
                return ExitCode::SUCCESS;
            }
            _ => roots.push(PathBuf::from(a)),
        }
    }
    if roots.is_empty() {
        eprintln!("usage: pipelinescope-annotate [--attr PATH] [--dry-run] DIR_OR_FILE...");
        return ExitCode::from(2);
    }
    let mut files = Vec::new();
    for r in &roots {
        if let Err(e) = rust_files(r, &mut files) {
            eprintln!("{}: {e}", r.display());
            return ExitCode::FAILURE;
        }
    }
    let (mut total, mut const_fns, mut already, mut templates, mut failed) = (0, 0, 0, 0, 0);
    for f in &files {
        let src = match std::fs::read_to_string(f) {
            Ok(s) => s,
            Err(e) => {
                eprintln!("{}: {e}", f.display());
                failed += 1;
                continue;
            }
        };
        match annotate(&src, &attr) {
            Ok((out, finder)) => {
                let n = finder.at.len();
                total += n;
                const_fns += finder.const_fns;
                already += finder.already;
                templates += finder.templates;
                if n > 0 {
                    println!("{:5}  {}", n, f.display());
                    if !dry_run && let Err(e) = std::fs::write(f, out) {
                        eprintln!("{}: {e}", f.display());
                        failed += 1;
                    }
                }
            }
            Err(e) => {
                eprintln!("{}: left alone: {e}", f.display());
                failed += 1;
            }
        }
    }
    println!(
        "annotated {total} functions in {} files ({const_fns} const fn and {templates} test \
         templates left out, {already} already annotated, {failed} files not processed)",
        files.len()
    );
    if failed > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(src: &str) -> String {
        annotate(src, "p").unwrap().0
    }

    #[test]
    fn annotates_after_outer_attributes_and_keeps_everything_else() {
        let src = "// comment\n/// doc\n#[inline]\npub(crate) unsafe fn f() {}\n";
        assert_eq!(
            run(src),
            "// comment\n/// doc\n#[inline]\n#[p] pub(crate) unsafe fn f() {}\n"
        );
    }

    #[test]
    fn methods_trait_defaults_and_nested_functions() {
        let src = "impl<T> S<T> {\n    pub fn a(&self) { fn inner() {} }\n    const fn c() {}\n}\n\
                   trait T { fn req(&self); fn def(&self) -> u8 { 0 } }\n";
        let out = run(src);
        assert_eq!(out.matches("#[p] ").count(), 3, "{out}");
        assert!(out.contains("#[p] pub fn a(&self) { #[p] fn inner() {} }"));
        assert!(out.contains("const fn c() {}") && !out.contains("#[p] const"));
        assert!(out.contains("fn req(&self);") && !out.contains("#[p] fn req"));
        assert!(out.contains("#[p] fn def(&self)"));
    }

    #[test]
    fn non_ascii_text_before_a_function_on_its_line() {
        let src = "/* é */ fn f() {}\nstruct Ü; /* ü */ fn g() {}\n";
        assert_eq!(
            run(src),
            "/* é */ #[p] fn f() {}\nstruct Ü; /* ü */ #[p] fn g() {}\n"
        );
    }

    #[test]
    fn leaves_test_templates_alone() {
        let src =
            "#[template]\n#[rstest(x, case(1))]\nfn t(x: u8) {}\n#[apply(t)]\nfn u(x: u8) {}\n";
        let (out, f) = annotate(src, "p").unwrap();
        assert_eq!(out, src.replace("fn u", "#[p] fn u"));
        assert_eq!(f.templates, 1);
    }

    #[test]
    fn leaves_annotated_functions_alone() {
        let src = "#[pipelinescope::profile]\nfn f() {}\n";
        let (out, f) = annotate(src, "p").unwrap();
        assert_eq!(out, src);
        assert_eq!(f.already, 1);
    }
}
