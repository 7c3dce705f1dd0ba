//! `#[profile]` on a single function, at the token level: the function's body is never parsed.
//!
//! Parsing a whole function with `syn` and printing it back costs a round trip through the
//! proc-macro bridge for every token of the body, and the parse itself, in a macro crate that
//! debug builds compile without optimisation; on a crate with every function annotated that was
//! a seventh of its build (smallvec's library: 1,099 million instructions against 940 million
//! with this path). Here the body's brace group is handed back as the compiler gave it, with the
//! probe's statements in front of its statements. The head (attributes, visibility, signature)
//! of a plain sync function is read by a scan of its top-level tokens; anything the scan does
//! not know (an `async fn`, a macro fragment) is parsed with `syn`, which is still only the head.
//!
//! Only the case that needs no message is handled: anything else (another kind of item, a
//! `const fn`, a second `#[profile]`, `skip`, arguments that do not parse) returns `None`, and
//! the caller takes the general path through `syn`, which reports it.

use crate::attr::{self, ProfileArgs};
use crate::expand;
use proc_macro2::{Delimiter, Group, Ident, TokenStream, TokenTree};
use quote::quote;
use syn::parse::{Parse, ParseStream};
use syn::{Attribute, Signature, Visibility};

/// Attributes, visibility and signature of a function, up to its body.
struct Head {
    attrs: Vec<Attribute>,
    sig: Signature,
}

impl Parse for Head {
    fn parse(input: ParseStream) -> syn::Result<Head> {
        let attrs = input.call(Attribute::parse_outer)?;
        let _: Visibility = input.parse()?;
        let sig: Signature = input.parse()?;
        Ok(Head { attrs, sig })
    }
}

/// The output of `#[profile(attr)]` on `item` when `item` is a function that needs no message;
/// `None` otherwise.
pub fn profile(attr: &TokenStream, item: &TokenStream, enabled: bool) -> Option<TokenStream> {
    // Top-level tokens only: a group (the body, the parameters) stays one handle.
    let mut tokens: Vec<TokenTree> = item.clone().into_iter().collect();
    let body = match tokens.pop() {
        Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Brace => g,
        _ => return None,
    };
    let args: ProfileArgs = if attr.is_empty() {
        ProfileArgs::default()
    } else {
        attr::parse_profile(attr.clone()).ok()?
    };
    // `lines` rewrites the body's statements and `size` evaluates an expression on entry: the
    // general path, which parses the function.
    if args.skip.is_some() || args.lines.is_some() || args.size.is_some() {
        return None;
    }
    let head = match scan_sync_head(&tokens) {
        Some(ident) => Scanned::Sync(ident),
        None => {
            let head: Head = syn::parse2(tokens.iter().cloned().collect()).ok()?;
            if head.sig.constness.is_some() || head.attrs.iter().any(attr::is_profile_attr) {
                return None;
            }
            Scanned::Parsed(Box::new(head.sig))
        }
    };
    if !enabled {
        return Some(item.clone());
    }
    let krate = args.krate.unwrap_or_else(expand::default_crate);
    let ident = match &head {
        Scanned::Sync(ident) => ident,
        Scanned::Parsed(sig) => &sig.ident,
    };
    let name = match &args.name {
        Some(n) => n.value(),
        None => ident.to_string(),
    };
    let (inner, stmts) = split_inner_attrs(body.stream());
    let mut new_body = inner;
    new_body.extend(match &head {
        Scanned::Sync(ident) => expand::sync_stmts(ident.span(), &name, &krate, stmts),
        Scanned::Parsed(sig) => expand::probe_stmts(sig, &name, &krate, stmts),
    });
    let mut group = Group::new(Delimiter::Brace, new_body);
    group.set_span(body.span());
    let mut out: TokenStream = tokens.into_iter().collect();
    out.extend(quote!(#group));
    Some(out)
}

/// A head read by [`scan_sync_head`] or parsed.
enum Scanned {
    /// A sync function, by its name.
    Sync(Ident),
    Parsed(Box<Signature>),
}

/// The name of a sync, non-`const` function whose head `tokens` are (outer attributes, none of
/// them `profile`; visibility; `unsafe`, `safe`, `extern "abi"`; `fn name`), or `None` for
/// anything else, which is then parsed. What follows the name (generics, parameters, return
/// type, `where`) is not needed and left to the compiler.
fn scan_sync_head(tokens: &[TokenTree]) -> Option<Ident> {
    let mut i = 0;
    // Outer attributes: `#` and a bracketed group.
    while let Some(TokenTree::Punct(p)) = tokens.get(i) {
        if p.as_char() != '#' {
            return None;
        }
        match tokens.get(i + 1) {
            Some(TokenTree::Group(g))
                if g.delimiter() == Delimiter::Bracket && !names_profile(g.stream()) => {}
            _ => return None,
        }
        i += 2;
    }
    // Visibility.
    if matches!(tokens.get(i), Some(TokenTree::Ident(id)) if id == "pub") {
        i += 1;
        if matches!(tokens.get(i), Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::Parenthesis)
        {
            i += 1;
        }
    }
    // Qualifiers, then `fn`.
    loop {
        match tokens.get(i) {
            Some(TokenTree::Ident(id)) if id == "unsafe" || id == "safe" => i += 1,
            Some(TokenTree::Ident(id)) if id == "extern" => {
                i += 1;
                if matches!(tokens.get(i), Some(TokenTree::Literal(_))) {
                    i += 1;
                }
            }
            Some(TokenTree::Ident(id)) if id == "fn" => break,
            // `const`, `async`, `default`, a macro fragment's invisible group, anything else.
            _ => return None,
        }
    }
    match tokens.get(i + 1) {
        Some(TokenTree::Ident(name)) => Some(name.clone()),
        _ => None,
    }
}

/// Whether an attribute's tokens (inside `#[...]`) are a path ending in `profile`, with or
/// without arguments: `profile`, `pipelinescope::profile(name = "x")`, `::p::profile`.
fn names_profile(attr: TokenStream) -> bool {
    let mut last = None;
    for tt in attr {
        match tt {
            TokenTree::Ident(id) => last = Some(id),
            TokenTree::Punct(p) if p.as_char() == ':' => {}
            _ => break,
        }
    }
    last.is_some_and(|id| id == "profile")
}

/// The body's inner attributes (`#![...]`, which must stay first) and the rest. The body is only
/// walked when it starts with `#`; otherwise it is returned whole.
fn split_inner_attrs(body: TokenStream) -> (TokenStream, TokenStream) {
    let starts_with_hash = matches!(
        body.clone().into_iter().next(),
        Some(TokenTree::Punct(p)) if p.as_char() == '#'
    );
    if !starts_with_hash {
        return (TokenStream::new(), body);
    }
    let tokens: Vec<TokenTree> = body.into_iter().collect();
    let mut n = 0;
    while let [
        TokenTree::Punct(h),
        TokenTree::Punct(b),
        TokenTree::Group(g),
        ..,
    ] = &tokens[n..]
        && h.as_char() == '#'
        && b.as_char() == '!'
        && g.delimiter() == Delimiter::Bracket
    {
        n += 3;
    }
    let mut tokens = tokens.into_iter();
    let inner = tokens.by_ref().take(n).collect();
    (inner, tokens.collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn head(item: TokenStream) -> Vec<TokenTree> {
        let mut t: Vec<TokenTree> = item.into_iter().collect();
        t.pop();
        t
    }

    #[test]
    fn the_scan_reads_plain_sync_heads() {
        for item in [
            quote!(
                fn f() {}
            ),
            quote!(
                #[inline]
                #[doc = "x"]
                pub(crate) unsafe extern "C" fn f<T>(x: T) -> u8
                where
                    T: Copy,
                {
                }
            ),
            quote!(
                pub safe fn f(&self) {}
            ),
            quote!(
                #[cfg_attr(test, profile)]
                fn f() {}
            ),
        ] {
            let name = scan_sync_head(&head(item.clone()));
            assert_eq!(name.map(|n| n.to_string()).as_deref(), Some("f"), "{item}");
        }
    }

    #[test]
    fn the_scan_leaves_the_rest_to_the_parser() {
        for item in [
            quote!(
                async fn f() {}
            ),
            quote!(
                const fn f() {}
            ),
            quote!(
                pub const unsafe fn f() {}
            ),
            quote!(
                #[profile]
                fn f() {}
            ),
            quote!(
                #[pipelinescope::profile(name = "g")]
                fn f() {}
            ),
            quote!(default fn f() {}),
            quote!(impl S {}),
            quote!(
                struct S {}
            ),
            quote!(
                mod m {}
            ),
        ] {
            assert!(scan_sync_head(&head(item.clone())).is_none(), "{item}");
        }
    }

    #[test]
    fn inner_attributes_stay_first() {
        let (inner, rest) = split_inner_attrs(quote!(#![allow(unused)] #![deny(x)] let a = 1; a));
        assert_eq!(
            inner.to_string(),
            quote!(#![allow(unused)] #![deny(x)]).to_string()
        );
        assert_eq!(rest.to_string(), quote!(let a = 1; a).to_string());
        let (inner, rest) = split_inner_attrs(quote!(#[allow(unused)] let a = 1;));
        assert!(inner.is_empty());
        assert_eq!(
            rest.to_string(),
            quote!(#[allow(unused)] let a = 1;).to_string()
        );
    }

    #[test]
    fn both_paths_give_what_the_general_path_gives() {
        // The general path parses the whole function with `syn`; the token path must produce
        // the same tokens (as text: spans aside).
        for (attr, item) in [
            (
                quote!(),
                quote!(
                    fn work(x: u8) -> u8 {
                        x + 1
                    }
                ),
            ),
            (
                quote!(name = "w"),
                quote!(
                    #[inline]
                    pub(crate) fn work<T: Copy>(x: T) -> T
                    where
                        T: Send,
                    {
                        #![allow(unused)]
                        let y = x;
                        y
                    }
                ),
            ),
            (
                quote!(crate = ::renamed),
                quote!(
                    unsafe extern "C" fn h(x: i32) -> ! {
                        loop {}
                    }
                ),
            ),
            (
                quote!(),
                quote!(
                    async fn g(s: &str) -> Result<u32, E> {
                        Ok(s.parse()?)
                    }
                ),
            ),
            (
                quote!(),
                quote!(
                    async fn i() -> impl Sized {
                        1
                    }
                ),
            ),
        ] {
            let fast = profile(&attr, &item, true).expect("the token path takes it");
            let general = {
                let args = attr::parse_profile(attr.clone()).unwrap();
                let mut f: syn::ItemFn = syn::parse2(item.clone()).unwrap();
                let krate = args.krate.clone().unwrap_or_else(expand::default_crate);
                let name = args
                    .name
                    .map_or_else(|| f.sig.ident.to_string(), |n| n.value());
                let stmts = std::mem::take(&mut f.block.stmts);
                let inner: Vec<_> = f
                    .attrs
                    .iter()
                    .filter(|a| matches!(a.style, syn::AttrStyle::Inner(_)))
                    .cloned()
                    .collect();
                f.attrs.retain(|a| matches!(a.style, syn::AttrStyle::Outer));
                let body = expand::probe_stmts(&f.sig, &name, &krate, quote!(#(#stmts)*));
                let (attrs, vis, sig) = (&f.attrs, &f.vis, &f.sig);
                quote!(#(#attrs)* #vis #sig { #(#inner)* #body })
            };
            assert_eq!(fast.to_string(), general.to_string());
        }
    }

    #[test]
    fn declines_what_needs_a_message() {
        for (attr, item) in [
            (
                quote!(),
                quote!(
                    const fn f() {}
                ),
            ),
            (
                quote!(),
                quote!(
                    #[profile]
                    fn f() {}
                ),
            ),
            (
                quote!(skip),
                quote!(
                    fn f() {}
                ),
            ),
            (
                quote!(bogus),
                quote!(
                    fn f() {}
                ),
            ),
            (
                quote!(),
                quote!(
                    fn f();
                ),
            ),
            (
                quote!(),
                quote!(
                    struct S {}
                ),
            ),
            (quote!(), quote!(impl S { fn f() {} })),
        ] {
            for enabled in [false, true] {
                assert!(profile(&attr, &item, enabled).is_none(), "{attr} {item}");
            }
        }
    }

    #[test]
    fn disabled_returns_the_item() {
        let item = quote!(
            #[inline]
            fn f() -> u8 {
                1
            }
        );
        assert_eq!(
            profile(&quote!(), &item, false).unwrap().to_string(),
            item.to_string()
        );
    }
}
