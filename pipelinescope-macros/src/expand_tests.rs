//! Tests of the general expansion (`expand.rs`).

use super::*;

/// Token-for-token equality: kinds, delimiters, identifiers, punctuation with its spacing,
/// literals.
fn same_tokens(a: TokenStream, b: TokenStream) -> bool {
    let (a, b): (Vec<_>, Vec<_>) = (a.into_iter().collect(), b.into_iter().collect());
    a.len() == b.len()
        && a.into_iter().zip(b).all(|(x, y)| match (x, y) {
            (TokenTree::Group(x), TokenTree::Group(y)) => {
                x.delimiter() == y.delimiter() && same_tokens(x.stream(), y.stream())
            }
            (TokenTree::Ident(x), TokenTree::Ident(y)) => x == y,
            (TokenTree::Punct(x), TokenTree::Punct(y)) => {
                x.as_char() == y.as_char() && x.spacing() == y.spacing()
            }
            (TokenTree::Literal(x), TokenTree::Literal(y)) => x.to_string() == y.to_string(),
            _ => false,
        })
}

fn items() -> Vec<TokenStream> {
    vec![
        quote! {
            /// Docs.
            #[inline]
            pub(crate) fn f<'a, T: Clone>(x: &'a T) -> Result<T, ()> where T: Copy {
                #![allow(unused)]
                if false { return Err(()); }
                let y = x.clone()?;
                Ok(y)
            }
        },
        quote! { async fn g(s: &str) -> Result<u32, E> { Ok(s.parse()?) } },
        quote! { unsafe extern "C" fn h(x: i32) -> ! { loop {} } },
        quote! {
            impl<T> Foo<T> where T: Send {
                fn a(&self) {}
                async fn b(self: Box<Self>) -> u8 { 1 }
                const fn c() {}
                type X = u8;
            }
        },
        quote! {
            trait Bar: Send {
                fn req(&self);
                fn def(&mut self) -> u8 { 0 }
            }
        },
    ]
}

#[test]
fn disabled_returns_the_item_token_for_token() {
    for attr in [quote!(), quote!(name = "x"), quote!(crate = ::renamed)] {
        for item in items() {
            let out = profile(attr.clone(), item.clone(), false);
            assert!(same_tokens(out.clone(), item.clone()), "{out}\n!=\n{item}");
        }
    }
    let main_fn = quote! { #[tokio::main] async fn main() -> Result<(), E> { run().await } };
    let out = main(quote!(), main_fn.clone(), false);
    assert!(same_tokens(out, main_fn));
}

#[test]
fn disabled_strips_only_method_markers() {
    let item = quote! {
        impl Foo {
            #[profile(skip)]
            #[inline]
            fn a(&self) {}
            #[pipelinescope::profile(name = "b2")]
            fn b(&self) {}
        }
    };
    let expected = quote! {
        impl Foo {
            #[inline]
            fn a(&self) {}
            fn b(&self) {}
        }
    };
    let out = profile(quote!(), item, false);
    assert!(same_tokens(out.clone(), expected), "{out}");
}

#[test]
fn errors_are_reported_in_both_modes_with_the_item() {
    for enabled in [false, true] {
        for (attr, item, message) in [
            (
                quote!(),
                quote!(
                    const fn f() {}
                ),
                "const fn",
            ),
            (
                quote!(),
                quote!(
                    struct S;
                ),
                "goes on a function",
            ),
            (
                quote!(),
                quote!(
                    fn f(&self);
                ),
                "needs a function body",
            ),
            (
                quote!(bogus),
                quote!(
                    fn f() {}
                ),
                "unknown argument `bogus`",
            ),
            (
                quote!(name = 1),
                quote!(
                    fn f() {}
                ),
                "string literal",
            ),
            (
                quote!(name = "a", name = "b"),
                quote!(
                    fn f() {}
                ),
                "duplicate argument",
            ),
            (
                quote!(skip),
                quote!(
                    fn f() {}
                ),
                "`skip` only applies",
            ),
        ] {
            let out = profile(attr, item.clone(), enabled).to_string();
            assert!(out.contains("compile_error"), "{out}");
            assert!(out.contains(message), "{message}: {out}");
            assert!(out.ends_with(&item.to_string()), "item kept: {out}");
        }
    }
}

#[test]
fn enabled_sync_wraps_the_body_with_a_guard() {
    let out = profile(
        quote!(),
        quote!(
            fn work(x: u8) -> u8 {
                x + 1
            }
        ),
        true,
    );
    let stmts = crate::expand::body_stmts(out);
    assert_eq!(stmts.len(), 4);
    assert!(stmts[0].starts_with("static __PIPELINESCOPE_SITE"));
    assert!(stmts[0].contains("\"work\""));
    assert!(stmts[0].contains(":: pipelinescope :: __private :: SiteKind :: Sync"));
    // Out of line where the user's crate has debug assertions, inlined where it has not.
    assert!(
        stmts[1].starts_with("# [cfg (debug_assertions)]"),
        "{}",
        stmts[1]
    );
    assert!(
        stmts[1]
            .contains(":: pipelinescope :: __private :: enter_outlined (& __PIPELINESCOPE_SITE)")
    );
    assert!(stmts[2].starts_with("# [cfg (not (debug_assertions))]"));
    assert!(stmts[2].contains(":: pipelinescope :: __private :: enter (& __PIPELINESCOPE_SITE)"));
    assert_eq!(stmts[3], "x + 1");
}

#[test]
fn enabled_async_wraps_the_future_with_return_type_hint() {
    let out = profile(
        quote!(crate = ::renamed),
        quote!(
            async fn load() -> Result<u8, E> {
                Ok(1)
            }
        ),
        true,
    )
    .to_string();
    assert!(
        out.contains(":: renamed :: __private :: instrument_future"),
        "{out}"
    );
    assert!(out.contains("SiteKind :: Async"));
    assert!(out.contains("let __pipelinescope_fake_return : Result < u8 , E > = loop { }"));
    assert!(out.contains(". await"));
    assert!(!out.contains(":: pipelinescope ::"));
    // No hint where the type cannot be named.
    let out = profile(
        quote!(),
        quote!(
            async fn i() -> impl Sized {
                1
            }
        ),
        true,
    )
    .to_string();
    assert!(!out.contains("fake_return"));
}

#[test]
fn enabled_impl_names_methods_and_honours_markers() {
    let out = profile(
        quote!(),
        quote! {
            impl<K> Cache<K> {
                fn get(&self) {}
                #[profile(skip)]
                fn raw(&self) {}
                #[profile(name = "fast")]
                fn put(&mut self) {}
                const fn cap() -> usize { 1 }
            }
        },
        true,
    )
    .to_string();
    assert!(out.contains("\"Cache::get\""));
    assert!(out.contains("\"fast\""));
    assert!(!out.contains("Cache::raw") && !out.contains("Cache::cap"));
    assert!(!out.contains("# [profile"), "markers stripped: {out}");
    assert_eq!(out.matches("static __PIPELINESCOPE_SITE").count(), 2);
}

#[test]
fn main_inserts_the_run_first() {
    let out = main(
        quote!(crate = ps),
        quote!(
            fn main() {
                work();
            }
        ),
        true,
    );
    let f: syn::ItemFn = syn::parse2(out).unwrap();
    let first = &f.block.stmts[0];
    assert_eq!(
        quote!(#first).to_string(),
        "let __pipelinescope_run = ps :: start () ;"
    );
    let out = main(
        quote!(),
        quote!(
            struct App;
        ),
        true,
    )
    .to_string();
    assert!(out.contains("goes on `fn main`"));
}
