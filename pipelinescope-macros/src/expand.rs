//! Code generation. Every entry point takes `enabled`: without it the item is checked and then
//! returned untouched, so misuse errors appear whether or not profiling is compiled in.

use crate::attr::{self, ProfileArgs};
use crate::valid::{self, Target};
use proc_macro2::{Span, TokenStream, TokenTree};
use quote::{quote, quote_spanned};
use syn::{
    Attribute, Block, Ident, ImplItem, Item, Path, ReturnType, Signature, Stmt, TraitItem, Type,
};

/// `#[profile]`: the output for `attr` and `item`.
pub fn profile(attr: TokenStream, item: TokenStream, enabled: bool) -> TokenStream {
    if let Some(out) = crate::func::profile(&attr, &item, enabled) {
        return out;
    }
    match try_profile(attr, item.clone(), enabled) {
        Ok(out) => out,
        Err(err) => with_item(err, item),
    }
}

/// `#[main]`: the output for `attr` and `item`.
pub fn main(attr: TokenStream, item: TokenStream, enabled: bool) -> TokenStream {
    match try_main(attr, item.clone(), enabled) {
        Ok(out) => out,
        Err(err) => with_item(err, item),
    }
}

/// The error, followed by the item as written, so that one mistake gives one message and not a
/// cascade of "cannot find function" errors. Markers inside a block are stripped, since they
/// would otherwise be expanded on their own and complain again.
fn with_item(err: syn::Error, item: TokenStream) -> TokenStream {
    let mut out = err.to_compile_error();
    let stripped = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Impl(i)) => without_impl_markers(i),
        Ok(Item::Trait(t)) => without_trait_markers(t),
        _ => None,
    };
    out.extend(stripped.unwrap_or(item));
    out
}

fn try_profile(attr: TokenStream, item: TokenStream, enabled: bool) -> syn::Result<TokenStream> {
    let args = attr::parse_profile(attr)?;
    let target = valid::profile_target(item.clone(), &args)?;
    if !enabled {
        // Untouched, except that `#[profile(...)]` markers on the methods of a block are
        // removed: they belong to this attribute, and on their own `skip` would be an error.
        let stripped = match target {
            Target::Impl(i) => without_impl_markers(i),
            Target::Trait(t) => without_trait_markers(t),
            Target::Fn(_) => None,
        };
        return Ok(stripped.unwrap_or(item));
    }
    let krate = args.krate.clone().unwrap_or_else(default_crate);
    match target {
        Target::Fn(mut f) => {
            let name = match &args.name {
                Some(n) => n.value(),
                None => f.sig.ident.to_string(),
            };
            if args.lines.is_some() {
                crate::lines::instrument(&f.sig, &mut f.block, &name, &krate);
            } else {
                instrument(&f.sig, &mut f.block, &name, &krate, args.size.as_ref());
            }
            Ok(quote!(#f))
        }
        Target::Impl(mut i) => {
            let prefix = match &args.name {
                Some(n) => n.value(),
                None => type_name(&i.self_ty),
            };
            for it in &mut i.items {
                if let ImplItem::Fn(f) = it {
                    let mut m = take_markers(&mut f.attrs)?;
                    m.lines = m.lines.or(args.lines);
                    attr::not_lines_and_size(&m)?;
                    method(&m, &f.sig, &mut f.block, &prefix, &krate);
                }
            }
            Ok(quote!(#i))
        }
        Target::Trait(mut t) => {
            let prefix = match &args.name {
                Some(n) => n.value(),
                None => t.ident.to_string(),
            };
            for it in &mut t.items {
                if let TraitItem::Fn(f) = it {
                    let mut m = take_markers(&mut f.attrs)?;
                    m.lines = m.lines.or(args.lines);
                    attr::not_lines_and_size(&m)?;
                    if let Some(block) = &mut f.default {
                        method(&m, &f.sig, block, &prefix, &krate);
                    }
                }
            }
            Ok(quote!(#t))
        }
    }
}

/// Instruments one method of a `#[profile]` block unless it opted out. A `const fn` in a block
/// is left alone: it cannot hold a probe, and marking it `skip` by hand would be busywork.
pub(crate) fn method(
    m: &ProfileArgs,
    sig: &Signature,
    block: &mut Block,
    prefix: &str,
    krate: &Path,
) {
    if m.skip.is_some() || sig.constness.is_some() {
        return;
    }
    let name = match &m.name {
        Some(n) => n.value(),
        None => format!("{prefix}::{}", sig.ident),
    };
    let krate = m.krate.as_ref().unwrap_or(krate);
    if m.lines.is_some() {
        crate::lines::instrument(sig, block, &name, krate);
    } else {
        instrument(sig, block, &name, krate, m.size.as_ref());
    }
}

fn try_main(attr: TokenStream, item: TokenStream, enabled: bool) -> syn::Result<TokenStream> {
    let args = attr::parse_main(attr)?;
    let mut f = valid::main_target(item.clone())?;
    if !enabled {
        return Ok(item);
    }
    let krate = args.krate.unwrap_or_else(default_crate);
    let run = Ident::new("__pipelinescope_run", Span::mixed_site());
    let start: Stmt = syn::parse_quote! { let #run = #krate::start(); };
    f.block.stmts.insert(0, start);
    Ok(quote!(#f))
}

pub(crate) fn default_crate() -> Path {
    syn::parse_quote!(::pipelinescope)
}

/// Removes the `#[profile(...)]` markers of a method and merges their arguments.
pub(crate) fn take_markers(attrs: &mut Vec<Attribute>) -> syn::Result<ProfileArgs> {
    let mut merged = ProfileArgs::default();
    let mut err = None;
    attrs.retain(|a| {
        if !attr::is_profile_attr(a) {
            return true;
        }
        match attr::parse_profile_attr(a) {
            Ok(m) => {
                merged.name = m.name.or(merged.name.take());
                merged.krate = m.krate.or(merged.krate.take());
                merged.skip = m.skip.or(merged.skip);
                merged.lines = m.lines.or(merged.lines);
                merged.size = m.size.or(merged.size.take());
            }
            Err(e) => err = Some(e),
        }
        false
    });
    match err {
        Some(e) => Err(e),
        None => attr::not_lines_and_size(&merged).map(|()| merged),
    }
}

/// The impl block without its method markers, or None when it had none.
fn without_impl_markers(mut i: syn::ItemImpl) -> Option<TokenStream> {
    let mut any = false;
    for it in &mut i.items {
        if let ImplItem::Fn(f) = it {
            any |= strip(&mut f.attrs);
        }
    }
    any.then(|| quote!(#i))
}

/// The trait block without its method markers, or None when it had none.
fn without_trait_markers(mut t: syn::ItemTrait) -> Option<TokenStream> {
    let mut any = false;
    for it in &mut t.items {
        if let TraitItem::Fn(f) = it {
            any |= strip(&mut f.attrs);
        }
    }
    any.then(|| quote!(#t))
}

fn strip(attrs: &mut Vec<Attribute>) -> bool {
    let before = attrs.len();
    attrs.retain(|a| !attr::is_profile_attr(a));
    attrs.len() != before
}

/// The type part of `Type::method`: the last path segment without generics (`Cache` for
/// `Cache<K, V>` and `&mut Cache<K, V>`), else the type as written.
pub(crate) fn type_name(ty: &Type) -> String {
    match ty {
        Type::Path(p) if p.qself.is_none() => match p.path.segments.last() {
            Some(seg) => seg.ident.to_string(),
            None => quote!(#ty).to_string(),
        },
        Type::Reference(r) => type_name(&r.elem),
        Type::Paren(p) => type_name(&p.elem),
        Type::Group(g) => type_name(&g.elem),
        _ => quote!(#ty).to_string().replace(' ', ""),
    }
}

/// Rewrites a function body in place so that each call is recorded under `name`.
///
/// Sync: a guard opened before the original statements closes the frame when the body is left
/// in any way (tail expression, `return`, `?`, `break` out of a labelled block, unwinding). The
/// statements themselves are kept verbatim, so their meaning does not change.
///
/// Async: the original statements become an `async move` block whose future is wrapped and
/// awaited; the wrapper is `Send` exactly when that block is.
fn instrument(
    sig: &Signature,
    block: &mut Block,
    name: &str,
    krate: &Path,
    size: Option<&crate::sized::SizeArg>,
) {
    let site = site_item(sig.asyncness.is_some(), sig.ident.span(), name, krate);
    let site: Stmt = syn::parse2(site).expect("the site parses");
    let stmts = std::mem::take(&mut block.stmts);
    if sig.asyncness.is_some() {
        let body = async_call(sig, krate, quote!(#(#stmts)*));
        let body: syn::Expr = syn::parse2(body).expect("the async call parses");
        block.stmts = vec![site, Stmt::Expr(body, None)];
    } else {
        let guard = match size {
            Some(size) => crate::sized::enter_stmt(krate, size),
            None => enter_stmt(krate),
        };
        let enter =
            syn::parse::Parser::parse2(Block::parse_within, guard).expect("the guard parses");
        block.stmts = Vec::with_capacity(stmts.len() + 3);
        block.stmts.push(site);
        block.stmts.extend(enter);
        block.stmts.extend(stmts);
    }
}

/// What [`instrument`] makes of a body, as tokens: `stmts` are the body's statements (inner
/// attributes excluded), returned after the probe's. For the function form, which never parses
/// the body.
pub(crate) fn probe_stmts(
    sig: &Signature,
    name: &str,
    krate: &Path,
    stmts: TokenStream,
) -> TokenStream {
    if sig.asyncness.is_some() {
        let mut out = site_item(true, sig.ident.span(), name, krate);
        out.extend(async_call(sig, krate, stmts));
        out
    } else {
        sync_stmts(sig.ident.span(), name, krate, stmts)
    }
}

/// [`probe_stmts`] of a sync function whose name is spanned at `at`.
pub(crate) fn sync_stmts(at: Span, name: &str, krate: &Path, stmts: TokenStream) -> TokenStream {
    let mut out = site_item(false, at, name, krate);
    out.extend(enter_stmt(krate));
    out.extend(stmts);
    out
}

/// The function's call site: a `static` the probe registers on its first call. `at` is the
/// span of the function's name.
pub(crate) fn site_item(is_async: bool, at: Span, name: &str, krate: &Path) -> TokenStream {
    let kind = if is_async {
        quote!(Async)
    } else {
        quote!(Sync)
    };
    // `line!()` spanned at the function's name reports the line of the `fn`, not of the
    // attribute.
    let line = quote_spanned!(at=> ::core::line!());
    quote! {
        static __PIPELINESCOPE_SITE: #krate::__private::Site = #krate::__private::Site::new(
            #name,
            ::core::module_path!(),
            ::core::file!(),
            #line,
            #krate::__private::SiteKind::#kind,
        );
    }
}

/// The guard of a sync body, opened before its statements: the probe inlined in builds without
/// debug assertions, called out of line in builds with them (usually unoptimised, where an
/// inlined probe would be unoptimised too; see `enter_outlined`). The `cfg` is the user's
/// crate's, read where the code is compiled.
pub(crate) fn enter_stmt(krate: &Path) -> TokenStream {
    let guard = Ident::new("__pipelinescope_guard", Span::mixed_site());
    quote! {
        #[cfg(debug_assertions)]
        let #guard = #krate::__private::enter_outlined(&__PIPELINESCOPE_SITE);
        #[cfg(not(debug_assertions))]
        let #guard = #krate::__private::enter(&__PIPELINESCOPE_SITE);
    }
}

/// An async body: its statements in an `async move` block whose future is wrapped and awaited.
pub(crate) fn async_call(sig: &Signature, krate: &Path, stmts: TokenStream) -> TokenStream {
    let fake = fake_return(&sig.output);
    quote! {
        #krate::__private::instrument_future(
            &__PIPELINESCOPE_SITE,
            async move {
                #fake
                #stmts
            },
        )
        .await
    }
}

/// A never-taken `return` of the declared type at the top of the async block, so that `?` and
/// `return` inside it infer the function's return type as they did in the `async fn` (the trick
/// tracing-attributes uses). Not possible when the type holds `impl Trait`, which a `let` cannot
/// name; such bodies then infer as any async block does.
fn fake_return(output: &ReturnType) -> TokenStream {
    let ty = match output {
        ReturnType::Default => quote!(()),
        ReturnType::Type(_, ty) => {
            if mentions_impl(quote!(#ty)) {
                return TokenStream::new();
            }
            quote!(#ty)
        }
    };
    quote! {
        #[allow(
            unknown_lints,
            unreachable_code,
            clippy::diverging_sub_expression,
            clippy::empty_loop,
            clippy::let_unit_value,
            clippy::let_with_type_underscore,
            clippy::needless_return,
            clippy::unreachable
        )]
        if false {
            let __pipelinescope_fake_return: #ty = loop {};
            return __pipelinescope_fake_return;
        }
    }
}

fn mentions_impl(tokens: TokenStream) -> bool {
    tokens.into_iter().any(|tt| match tt {
        TokenTree::Ident(i) => i == "impl",
        TokenTree::Group(g) => mentions_impl(g.stream()),
        _ => false,
    })
}

/// The statements of the function `out` holds, each printed as tokens (for tests of the
/// expansion).
#[cfg(test)]
pub(crate) fn body_stmts(out: TokenStream) -> Vec<String> {
    let f: syn::ItemFn = syn::parse2(out).expect("the expansion is a function");
    f.block
        .stmts
        .iter()
        .map(|s| quote!(#s).to_string())
        .collect()
}

#[cfg(test)]
#[path = "expand_tests.rs"]
mod tests;
