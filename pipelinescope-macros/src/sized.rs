//! `#[profile(size = EXPR)]`: each call's size, for how the function's cost grows with it.
//!
//! `EXPR` is evaluated on entry, before the body, with the function's parameters in scope
//! (`input.len()`, `n`, `self.items.len()`), and only where profiling is compiled in: without
//! the `enable` feature the function is returned as written. Its value may be any primitive
//! integer (`usize`, `u32`, `i64`, `u128`...), saturated into `u64` (a negative size counts as
//! 0); it is handed to a generic function, so the expression is type-checked as it would be on
//! its own and an unsuffixed literal is an `i32`.

use proc_macro2::{Span, TokenStream};
use quote::quote;
use syn::meta::ParseNestedMeta;
use syn::spanned::Spanned;
use syn::{Expr, Ident, Path};

/// The argument: its expression, and the span of `size` for messages.
pub struct SizeArg {
    pub expr: Expr,
    pub span: Span,
}

/// Parses `size = EXPR` (the `size` already read).
pub fn parse(meta: &ParseNestedMeta) -> syn::Result<SizeArg> {
    let span = meta.path.span();
    if !meta.input.peek(syn::Token![=]) {
        return Err(syn::Error::new(
            span,
            "`size` needs a value: the size of each call, like `size = input.len()`",
        ));
    }
    let expr: Expr = meta.value()?.parse()?;
    Ok(SizeArg { expr, span })
}

/// Rejects `size` where it cannot apply: on an `async fn` (its calls are futures, timed per
/// poll) and on a block or module (a size belongs to one function's parameters).
pub fn check(arg: &SizeArg, sig: Option<&syn::Signature>) -> syn::Result<()> {
    match sig {
        Some(sig) if sig.asyncness.is_some() => Err(syn::Error::new(
            arg.span,
            "`size` is not supported on an `async fn`; put it on a sync function",
        )),
        Some(_) => Ok(()),
        None => Err(syn::Error::new(
            arg.span,
            "`size` goes on a single function, whose parameters it reads; put \
             `#[profile(size = ...)]` on the method instead",
        )),
    }
}

/// The guard of a sized sync body, opened before its statements: the size is computed first,
/// then every call is timed and its time added to its size class.
pub fn enter_stmt(krate: &Path, arg: &SizeArg) -> TokenStream {
    let guard = Ident::new("__pipelinescope_guard", Span::mixed_site());
    let expr = &arg.expr;
    quote! {
        let #guard = #krate::__private::enter_sized(
            &__PIPELINESCOPE_SITE,
            #krate::__private::size_of_call(#expr),
        );
    }
}

#[cfg(test)]
mod tests {
    use crate::expand::profile;
    use quote::quote;

    #[test]
    fn disabled_returns_the_function_as_written() {
        let item = quote! {
            fn f(input: &[u8]) -> usize { input.len() }
        };
        let out = profile(quote!(size = input.len()), item.clone(), false);
        assert_eq!(out.to_string(), item.to_string());
    }

    #[test]
    fn enabled_computes_the_size_before_the_body() {
        let out = profile(
            quote!(size = input.len(), name = "g"),
            quote! {
                fn f(input: &[u8]) -> usize { input.len() }
            },
            true,
        );
        let stmts = crate::expand::body_stmts(out);
        assert_eq!(stmts.len(), 3, "{stmts:?}");
        assert!(stmts[0].contains("\"g\""));
        assert!(
            stmts[1].contains(
                ":: pipelinescope :: __private :: enter_sized (& __PIPELINESCOPE_SITE , \
                 :: pipelinescope :: __private :: size_of_call (input . len ()) ,)"
            ),
            "{}",
            stmts[1]
        );
        assert_eq!(stmts[2], "input . len ()");
    }

    #[test]
    fn misuse_is_reported_in_both_modes() {
        for enabled in [false, true] {
            for (attr, item, message) in [
                (
                    quote!(size),
                    quote!(
                        fn f() {}
                    ),
                    "`size` needs a value",
                ),
                (
                    quote!(size = 1, size = 2),
                    quote!(
                        fn f() {}
                    ),
                    "duplicate argument `size`",
                ),
                (
                    quote!(size = n),
                    quote!(
                        const fn f(n: u8) {}
                    ),
                    "const fn",
                ),
                (
                    quote!(size = n),
                    quote!(
                        async fn f(n: u8) {}
                    ),
                    "not supported on an `async fn`",
                ),
                (
                    quote!(size = 1),
                    quote!(impl S { fn f(&self) {} }),
                    "single function",
                ),
            ] {
                let out = profile(attr, item.clone(), enabled).to_string();
                assert!(out.contains("compile_error"), "{out}");
                assert!(out.contains(message), "{message}: {out}");
            }
        }
    }
}
