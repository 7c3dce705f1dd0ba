//! `#[stage]`: argument parsing, checks and code generation, in that order.
//!
//! A stage is lazy when it returns an iterator (`impl Iterator`, `Box<dyn Iterator>`, or a
//! concrete iterator type) and eager when it returns a collection (`Vec`, maps, sets, slices,
//! arrays, `String`, and `Option`/`Result` of those). The decision is syntactic, so a misuse is
//! reported at the return type before any type checking.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::ext::IdentExt;
use syn::parse::{ParseStream, Parser};
use syn::spanned::Spanned;
use syn::{
    Error, FnArg, GenericArgument, GenericParam, Ident, ItemFn, LitStr, Pat, Path, PathArguments,
    Result, ReturnType, Token, Type, TypeParamBound, WherePredicate,
};

/// The attribute's arguments.
struct Args {
    name: Option<LitStr>,
    krate: Option<Path>,
}

fn parse_args(input: ParseStream) -> Result<Args> {
    let mut args = Args {
        name: None,
        krate: None,
    };
    while !input.is_empty() {
        if input.peek(LitStr) {
            let lit: LitStr = input.parse()?;
            set_name(&mut args, lit)?;
        } else if input.peek(syn::Lit) {
            let lit: syn::Lit = input.parse()?;
            return Err(Error::new(
                lit.span(),
                "the stage name must be a string literal, e.g. `#[stage(\"filter\")]`",
            ));
        } else if input.peek(Token![crate]) {
            let kw: Token![crate] = input.parse()?;
            if args.krate.is_some() {
                return Err(Error::new(kw.span, "duplicate `crate` argument"));
            }
            input.parse::<Token![=]>()?;
            args.krate = Some(input.parse()?);
        } else if input.peek(Ident::peek_any) {
            let key = input.call(Ident::parse_any)?;
            if !input.peek(Token![=]) {
                return Err(Error::new(
                    key.span(),
                    format!(
                        "the stage name must be a string literal: write `#[stage(\"{key}\")]` \
                         or `#[stage(name = \"{key}\")]`"
                    ),
                ));
            }
            input.parse::<Token![=]>()?;
            if key == "name" {
                if input.peek(LitStr) {
                    let lit: LitStr = input.parse()?;
                    set_name(&mut args, lit)?;
                } else {
                    let value: syn::Expr = input.parse()?;
                    return Err(Error::new_spanned(
                        value,
                        "the stage name must be a string literal, e.g. `name = \"filter\"`",
                    ));
                }
            } else {
                return Err(Error::new(
                    key.span(),
                    format!(
                        "unknown argument `{key}` to `#[stage]`; expected a name string, \
                         `name = \"...\"` or `crate = path`"
                    ),
                ));
            }
        } else {
            return Err(input.error(
                "expected a stage name string, `name = \"...\"` or `crate = path` in `#[stage]`",
            ));
        }
        if !input.is_empty() {
            input.parse::<Token![,]>()?;
        }
    }
    Ok(args)
}

fn set_name(args: &mut Args, lit: LitStr) -> Result<()> {
    if args.name.is_some() {
        return Err(Error::new(lit.span(), "the stage name is given twice"));
    }
    if lit.value().trim().is_empty() {
        return Err(Error::new(lit.span(), "the stage name must not be empty"));
    }
    args.name = Some(lit);
    Ok(())
}

// ---- checks -------------------------------------------------------------------------------

/// How the stage returns its records.
enum Output {
    /// `impl Iterator<...>`: wrapped, same signature.
    ImplIter,
    /// `Box<dyn Iterator<...>>`: wrapped and boxed again, same signature.
    BoxedIter,
    /// A named iterator type: the signature returns `StageIter<T>` instead.
    ConcreteIter,
    /// A collection: counted by its length.
    Collection,
}

/// What the stage does with one parameter.
enum InputUse {
    /// An iterator: wrapped so records in and upstream time are measured.
    Iter { into_iter: bool },
    /// A collection: counted by its length.
    Count,
}

struct Input {
    ident: Ident,
    mutable: bool,
    use_: InputUse,
}

const ITER_TRAITS: &[&str] = &[
    "Iterator",
    "DoubleEndedIterator",
    "ExactSizeIterator",
    "FusedIterator",
];
const COLLECTIONS: &[&str] = &[
    "Vec",
    "VecDeque",
    "LinkedList",
    "BinaryHeap",
    "HashMap",
    "BTreeMap",
    "HashSet",
    "BTreeSet",
    "IndexMap",
    "IndexSet",
    "SmallVec",
    "String",
];
const NOT_RECORDS: &[&str] = &[
    "i8", "i16", "i32", "i64", "i128", "isize", "u8", "u16", "u32", "u64", "u128", "usize", "f32",
    "f64", "bool", "char", "str",
];

fn last_ident(path: &Path) -> Option<&Ident> {
    path.segments.last().map(|s| &s.ident)
}

fn first_type_arg(path: &Path) -> Option<&Type> {
    match &path.segments.last()?.arguments {
        PathArguments::AngleBracketed(a) => a.args.iter().find_map(|g| match g {
            GenericArgument::Type(t) => Some(t),
            _ => None,
        }),
        _ => None,
    }
}

/// Whether one of the bounds names a trait in `names`.
fn bounds_name<'a>(
    bounds: impl IntoIterator<Item = &'a TypeParamBound>,
    names: &[&str],
) -> Option<&'a Ident> {
    bounds.into_iter().find_map(|b| match b {
        TypeParamBound::Trait(t) => last_ident(&t.path).filter(|i| names.iter().any(|n| i == n)),
        _ => None,
    })
}

fn strip(ty: &Type) -> &Type {
    match ty {
        Type::Paren(p) => strip(&p.elem),
        Type::Group(g) => strip(&g.elem),
        _ => ty,
    }
}

/// Whether `ty` is a collection whose records can be counted by length.
fn is_collection(ty: &Type) -> bool {
    match strip(ty) {
        Type::Slice(_) | Type::Array(_) => true,
        Type::Reference(r) => {
            is_collection(&r.elem)
                || matches!(strip(&r.elem), Type::Path(p) if last_ident(&p.path).is_some_and(|i| i == "str"))
        }
        Type::Path(p) if p.qself.is_none() => {
            let Some(id) = last_ident(&p.path) else {
                return false;
            };
            if COLLECTIONS.iter().any(|c| id == c) {
                return true;
            }
            if id == "Option" || id == "Result" || id == "Box" || id == "Cow" {
                return first_type_arg(&p.path).is_some_and(is_collection);
            }
            false
        }
        _ => false,
    }
}

fn classify_output(f: &ItemFn) -> Result<Output> {
    let ty = match &f.sig.output {
        ReturnType::Default => {
            return Err(Error::new(
                f.sig.ident.span(),
                "a stage must return its records: an iterator (lazy stage, e.g. \
                 `-> impl Iterator<Item = T>`) or a collection (eager stage, e.g. `-> Vec<T>`); \
                 this function returns nothing",
            ));
        }
        ReturnType::Type(_, ty) => ty,
    };
    let neither = |what: &dyn ToTokens| {
        Error::new_spanned(
            what,
            "a stage must return an iterator (lazy stage, e.g. `-> impl Iterator<Item = T>`) \
             or a collection (eager stage, e.g. `-> Vec<T>`); this type is neither",
        )
    };
    match strip(ty) {
        Type::ImplTrait(it) => {
            if bounds_name(&it.bounds, ITER_TRAITS).is_some() {
                Ok(Output::ImplIter)
            } else {
                Err(neither(ty))
            }
        }
        t if is_collection(t) => Ok(Output::Collection),
        Type::Path(p) if p.qself.is_none() => {
            let id = last_ident(&p.path);
            if id.is_some_and(|i| i == "Box") {
                if let Some(Type::TraitObject(obj)) = first_type_arg(&p.path).map(strip)
                    && bounds_name(&obj.bounds, ITER_TRAITS).is_some()
                {
                    return Ok(Output::BoxedIter);
                }
                return Err(neither(ty));
            }
            if id.is_some_and(|i| NOT_RECORDS.iter().any(|n| i == n))
                || id.is_some_and(|i| i == "Option" || i == "Result")
            {
                return Err(neither(ty));
            }
            Ok(Output::ConcreteIter)
        }
        _ => Err(neither(ty)),
    }
}

/// Names of generic type parameters bounded by `names` (inline or in the `where` clause).
fn generic_bounded(f: &ItemFn, names: &[&str]) -> Vec<Ident> {
    let mut out = Vec::new();
    for p in &f.sig.generics.params {
        if let GenericParam::Type(tp) = p
            && bounds_name(&tp.bounds, names).is_some()
        {
            out.push(tp.ident.clone());
        }
    }
    if let Some(w) = &f.sig.generics.where_clause {
        for pred in &w.predicates {
            if let WherePredicate::Type(pt) = pred
                && let Type::Path(p) = strip(&pt.bounded_ty)
                && let Some(id) = p.path.get_ident()
                && bounds_name(&pt.bounds, names).is_some()
            {
                out.push(id.clone());
            }
        }
    }
    out
}

/// `Some(into_iter)` when `ty` is an iterator (`false`) or an `IntoIterator` (`true`).
fn iterator_param(ty: &Type, iters: &[Ident], into_iters: &[Ident]) -> Option<bool> {
    match strip(ty) {
        Type::ImplTrait(it) => {
            if bounds_name(&it.bounds, ITER_TRAITS).is_some() {
                Some(false)
            } else if bounds_name(&it.bounds, &["IntoIterator"]).is_some() {
                Some(true)
            } else {
                None
            }
        }
        Type::Reference(r) if r.mutability.is_some() => {
            iterator_param(&r.elem, iters, into_iters).filter(|into| !into)
        }
        Type::TraitObject(obj) => bounds_name(&obj.bounds, ITER_TRAITS).map(|_| false),
        Type::Path(p) if p.qself.is_none() => {
            if let Some(id) = p.path.get_ident() {
                if iters.contains(id) {
                    return Some(false);
                }
                if into_iters.contains(id) {
                    return Some(true);
                }
            }
            if last_ident(&p.path).is_some_and(|i| i == "Box")
                && let Some(Type::TraitObject(obj)) = first_type_arg(&p.path).map(strip)
            {
                return bounds_name(&obj.bounds, ITER_TRAITS).map(|_| false);
            }
            None
        }
        _ => None,
    }
}

fn is_input_attr(a: &syn::Attribute) -> bool {
    a.path().is_ident("input")
}

/// Finds the stage's inputs and removes the `#[input]` markers from the signature.
fn take_inputs(f: &mut ItemFn, lazy: bool) -> Result<Vec<Input>> {
    let iters = generic_bounded(f, ITER_TRAITS);
    let into_iters = generic_bounded(f, &["IntoIterator"]);
    let marked_any = f.sig.inputs.iter().any(|a| match a {
        FnArg::Typed(pt) => pt.attrs.iter().any(is_input_attr),
        FnArg::Receiver(_) => false,
    });
    let mut inputs = Vec::new();
    let mut errors: Option<Error> = None;
    for arg in f.sig.inputs.iter_mut() {
        let FnArg::Typed(pt) = arg else { continue };
        let marker = pt.attrs.iter().find(|a| is_input_attr(a)).cloned();
        pt.attrs.retain(|a| !is_input_attr(a));
        if let Some(m) = &marker
            && !matches!(m.meta, syn::Meta::Path(_))
        {
            let e = Error::new_spanned(m, "`#[input]` takes no arguments");
            push_err(&mut errors, e);
            continue;
        }
        if marked_any && marker.is_none() {
            continue;
        }
        let iter = iterator_param(&pt.ty, &iters, &into_iters);
        let use_ = match (iter, &marker) {
            (Some(into_iter), _) => InputUse::Iter { into_iter },
            (None, Some(_)) if lazy => InputUse::Iter { into_iter: true },
            (None, _) if is_collection(&pt.ty) || marker.is_some() => InputUse::Count,
            (None, _) => continue,
        };
        match &*pt.pat {
            Pat::Ident(pi) if pi.by_ref.is_none() && pi.subpat.is_none() => {
                inputs.push(Input {
                    ident: pi.ident.clone(),
                    mutable: pi.mutability.is_some(),
                    use_,
                });
            }
            other if marker.is_some() || matches!(use_, InputUse::Iter { .. }) => {
                let e = Error::new_spanned(
                    other,
                    "a stage input must be bound to a plain name (e.g. `records: ...`) so \
                     its records can be counted",
                );
                push_err(&mut errors, e);
            }
            _ => {}
        }
    }
    match errors {
        Some(e) => Err(e),
        None => Ok(inputs),
    }
}

fn push_err(acc: &mut Option<Error>, e: Error) {
    match acc {
        Some(a) => a.combine(e),
        None => *acc = Some(e),
    }
}

fn check_fn(f: &ItemFn) -> Result<()> {
    if let Some(a) = &f.sig.asyncness {
        return Err(Error::new(
            a.span,
            "`#[stage]` does not support `async fn`; use `#[profile]` for async functions",
        ));
    }
    if let Some(c) = &f.sig.constness {
        return Err(Error::new(
            c.span,
            "`#[stage]` cannot instrument a `const fn`",
        ));
    }
    Ok(())
}

// ---- entry point and code generation --------------------------------------------------------

/// Expands `#[stage(attr)] item`.
pub fn expand(attr: TokenStream, item: TokenStream) -> TokenStream {
    let mut f: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let e = Error::new(
                Span::call_site(),
                "`#[stage]` applies to functions and methods",
            );
            let mut out = e.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let result = parse_args
        .parse2(attr)
        .and_then(|args| check_fn(&f).map(|()| args))
        .and_then(|args| classify_output(&f).map(|o| (args, o)));
    let (args, output) = match result {
        Ok(v) => v,
        Err(e) => return with_item(e, strip_markers(f)),
    };
    let inputs = match take_inputs(&mut f, !matches!(output, Output::Collection)) {
        Ok(i) => i,
        Err(e) => return with_item(e, f),
    };
    if cfg!(feature = "enable") {
        generate(f, args, output, inputs)
    } else {
        f.into_token_stream()
    }
}

fn with_item(e: Error, f: ItemFn) -> TokenStream {
    let mut out = e.to_compile_error();
    out.extend(f.into_token_stream());
    out
}

fn strip_markers(mut f: ItemFn) -> ItemFn {
    for arg in f.sig.inputs.iter_mut() {
        if let FnArg::Typed(pt) = arg {
            pt.attrs.retain(|a| !is_input_attr(a));
        }
    }
    f
}

fn generate(mut f: ItemFn, args: Args, output: Output, inputs: Vec<Input>) -> TokenStream {
    // Wrapped inputs are rebound (mutable where they were), so the parameters themselves need
    // not be `mut`.
    for arg in f.sig.inputs.iter_mut() {
        if let FnArg::Typed(pt) = arg
            && let Pat::Ident(pi) = &mut *pt.pat
        {
            let wrapped = inputs
                .iter()
                .any(|i| i.ident == pi.ident && matches!(i.use_, InputUse::Iter { .. }));
            if wrapped {
                pi.mutability = None;
            }
        }
    }
    let krate = args
        .krate
        .map(|p| p.into_token_stream())
        .unwrap_or_else(|| quote!(::pipelinescope));
    let p = quote!(#krate::__private);
    let name = args
        .name
        .unwrap_or_else(|| LitStr::new(&f.sig.ident.unraw().to_string(), f.sig.ident.span()));
    let kind = if matches!(output, Output::Collection) {
        quote!(Eager)
    } else {
        quote!(Lazy)
    };
    let ret_ty: Type = match &f.sig.output {
        ReturnType::Type(_, t) => (**t).clone(),
        ReturnType::Default => syn::parse_quote!(()),
    };
    let ret_span = ret_ty.span();

    let counted = inputs
        .iter()
        .filter(|i| matches!(i.use_, InputUse::Count))
        .map(|i| {
            let id = &i.ident;
            quote!(+ #p::Records::records(&#id))
        });
    let wrapped = inputs.iter().filter_map(|i| {
        let InputUse::Iter { into_iter } = i.use_ else {
            return None;
        };
        let id = &i.ident;
        let m = i.mutable.then(|| quote!(mut));
        let src = if into_iter {
            quote!(::core::iter::IntoIterator::into_iter(#id))
        } else {
            quote!(#id)
        };
        Some(quote! {
            #[allow(unused_mut)]
            let #m #id = #p::StageInput::new(&__pipelinescope_link, #src);
        })
    });

    // The link between the stage's output and its inputs, when it has iterator inputs.
    let has_inputs = inputs
        .iter()
        .any(|i| matches!(i.use_, InputUse::Iter { .. }));
    let link = has_inputs.then(|| {
        quote! {
            let __pipelinescope_link = #p::StageLink::new(&__PIPELINESCOPE_STAGE);
        }
    });
    // Spanned at the return type: a type that is not an iterator is reported there.
    let wrap = if has_inputs {
        quote_spanned! {ret_span=>
            #p::StageIter::with_inputs(&__PIPELINESCOPE_STAGE, __pipelinescope_link, __pipelinescope_ret)
        }
    } else {
        quote_spanned! {ret_span=>
            #p::StageIter::new(&__PIPELINESCOPE_STAGE, __pipelinescope_ret)
        }
    };
    let body = &f.block;
    let run = match output {
        Output::ImplIter => quote!((move || #body)()),
        Output::ConcreteIter | Output::BoxedIter | Output::Collection => {
            quote!((move || -> #ret_ty #body)())
        }
    };
    let finish = match output {
        Output::Collection => quote! {
            __pipelinescope_call.finish(&__pipelinescope_ret);
            __pipelinescope_ret
        },
        Output::ImplIter | Output::ConcreteIter => quote_spanned! {ret_span=>
            __pipelinescope_call.finish(&());
            #wrap
        },
        Output::BoxedIter => quote_spanned! {ret_span=>
            __pipelinescope_call.finish(&());
            ::std::boxed::Box::new(#wrap)
        },
    };
    let ret_binding = match output {
        Output::ImplIter => quote!(),
        _ => quote!(: #ret_ty),
    };
    let new_body = quote! {{
        static __PIPELINESCOPE_STAGE: #p::StageSite = #p::StageSite::new(
            #name,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
            #p::StageKind::#kind,
        );
        let __pipelinescope_in: u64 = 0u64 #(#counted)*;
        #link
        #(#wrapped)*
        let __pipelinescope_call = #p::stage_call(&__PIPELINESCOPE_STAGE, __pipelinescope_in);
        #[allow(clippy::redundant_closure_call, unused_mut)]
        let __pipelinescope_ret #ret_binding = #run;
        #finish
    }};
    if let Output::ConcreteIter = output
        && let ReturnType::Type(_, t) = &mut f.sig.output
    {
        **t = syn::parse_quote_spanned!(ret_span=> #p::StageIter<#ret_ty>);
    }
    match syn::parse2(new_body) {
        Ok(b) => *f.block = b,
        Err(e) => return with_item(e, f),
    }
    f.into_token_stream()
}
