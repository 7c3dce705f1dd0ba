//! What `#[profile]` and `#[main]` accept, and the errors for what they do not.

use crate::attr::{self, ProfileArgs};
use proc_macro2::TokenStream;
use quote::quote;
use syn::{ImplItem, Item, ItemFn, ItemImpl, ItemTrait, TraitItem, TraitItemFn};

/// What `#[profile]` accepts, for the error on anything else.
const NOT_A_FUNCTION: &str =
    "#[profile] goes on a function, an `impl` block, a `trait` block or an inline module";

/// An item `#[profile]` was put on, checked.
pub enum Target {
    /// A function with a body: free function, method, or trait method with a default body.
    Fn(ItemFn),
    /// `#[profile] impl ... { ... }`: every method.
    Impl(ItemImpl),
    /// `#[profile] trait ... { ... }`: every method with a default body.
    Trait(ItemTrait),
}

/// Parses the item under `#[profile]` and checks it against the arguments.
pub fn profile_target(item: TokenStream, args: &ProfileArgs) -> syn::Result<Target> {
    let parsed = match syn::parse2::<Item>(item.clone()) {
        Ok(Item::Verbatim(tokens)) => return bodiless_or_other(tokens),
        Ok(parsed) => parsed,
        // A trait method without a body does not parse as an item.
        Err(err) => return Err(bodiless_error(item).unwrap_or(err)),
    };
    let target = match parsed {
        Item::Fn(f) => {
            check_fn(&f.sig)?;
            if let Some(again) = f.attrs.iter().find(|a| attr::is_profile_attr(a)) {
                return Err(syn::Error::new_spanned(
                    again,
                    "#[profile] is applied twice to this function; keep one",
                ));
            }
            Target::Fn(f)
        }
        Item::Impl(i) => {
            check_impl(&i)?;
            Target::Impl(i)
        }
        Item::Trait(t) => {
            check_trait(&t)?;
            Target::Trait(t)
        }
        other => return Err(not_a_function(&other)),
    };
    if let Some(span) = args.skip {
        return Err(skip_outside(span));
    }
    if let Some(size) = &args.size {
        let sig = match &target {
            Target::Fn(f) => Some(&f.sig),
            _ => None,
        };
        crate::sized::check(size, sig)?;
    }
    Ok(target)
}

/// `skip` on an item that no `#[profile]` block or module encloses. An error rather than a
/// no-op: it would do nothing that removing the attribute does not, and it usually means the
/// writer believes an enclosing `#[profile]` reaches this item when it does not (a `mod foo;`
/// in its own file, which the module's attribute cannot see).
pub fn skip_outside(span: proc_macro2::Span) -> syn::Error {
    syn::Error::new(
        span,
        "`skip` only applies to an item inside a `#[profile]` module, `impl` block or `trait` \
         block; to leave this item alone, remove `#[profile]`",
    )
}

/// `const fn` cannot hold a probe: it may run at compile time.
pub fn check_fn(sig: &syn::Signature) -> syn::Result<()> {
    if let Some(c) = &sig.constness {
        return Err(syn::Error::new(
            c.span,
            "#[profile] cannot instrument a `const fn`: it may run at compile time, where there is \
             no clock; remove `const` or `#[profile]`",
        ));
    }
    Ok(())
}

fn check_impl(item: &ItemImpl) -> syn::Result<()> {
    for it in &item.items {
        if let ImplItem::Fn(f) = it {
            for a in f.attrs.iter().filter(|a| attr::is_profile_attr(a)) {
                let args = attr::parse_profile_attr(a)?;
                if args.skip.is_none() {
                    check_fn(&f.sig)?;
                    if let Some(size) = &args.size {
                        crate::sized::check(size, Some(&f.sig))?;
                    }
                }
            }
        }
    }
    Ok(())
}

fn check_trait(item: &ItemTrait) -> syn::Result<()> {
    for it in &item.items {
        if let TraitItem::Fn(f) = it {
            for a in f.attrs.iter().filter(|a| attr::is_profile_attr(a)) {
                let args = attr::parse_profile_attr(a)?;
                if args.skip.is_none() {
                    check_fn(&f.sig)?;
                    if let Some(size) = &args.size {
                        crate::sized::check(size, Some(&f.sig))?;
                    }
                    if f.default.is_none() {
                        return Err(no_body(f));
                    }
                }
            }
        }
    }
    Ok(())
}

fn bodiless_or_other(tokens: TokenStream) -> syn::Result<Target> {
    Err(bodiless_error(tokens.clone())
        .unwrap_or_else(|| syn::Error::new_spanned(tokens, NOT_A_FUNCTION)))
}

/// The error for a trait method without a body, if that is what `tokens` are.
fn bodiless_error(tokens: TokenStream) -> Option<syn::Error> {
    match syn::parse2::<TraitItemFn>(tokens) {
        Ok(f) if f.default.is_none() => Some(no_body(&f)),
        _ => None,
    }
}

pub fn no_body(f: &TraitItemFn) -> syn::Error {
    let sig = &f.sig;
    let semi = &f.semi_token;
    syn::Error::new_spanned(
        quote!(#sig #semi),
        "#[profile] needs a function body: this trait method has none; put #[profile] on its \
         implementations, or give it a default body",
    )
}

/// The error for an item that is not a function, spanned at its keyword and name.
fn not_a_function(item: &Item) -> syn::Error {
    syn::Error::new_spanned(item_head(item), NOT_A_FUNCTION)
}

/// The tokens that say what an item is: its keyword and name.
fn item_head(item: &Item) -> TokenStream {
    match item {
        Item::Struct(i) => {
            let (k, n) = (&i.struct_token, &i.ident);
            quote!(#k #n)
        }
        Item::Enum(i) => {
            let (k, n) = (&i.enum_token, &i.ident);
            quote!(#k #n)
        }
        Item::Union(i) => {
            let (k, n) = (&i.union_token, &i.ident);
            quote!(#k #n)
        }
        Item::Mod(i) => {
            let (k, n) = (&i.mod_token, &i.ident);
            quote!(#k #n)
        }
        Item::Static(i) => {
            let (k, n) = (&i.static_token, &i.ident);
            quote!(#k #n)
        }
        Item::Const(i) => {
            let (k, n) = (&i.const_token, &i.ident);
            quote!(#k #n)
        }
        Item::Type(i) => {
            let (k, n) = (&i.type_token, &i.ident);
            quote!(#k #n)
        }
        Item::TraitAlias(i) => {
            let (k, n) = (&i.trait_token, &i.ident);
            quote!(#k #n)
        }
        Item::Use(i) => {
            let k = &i.use_token;
            quote!(#k)
        }
        Item::ExternCrate(i) => {
            let (k, c, n) = (&i.extern_token, &i.crate_token, &i.ident);
            quote!(#k #c #n)
        }
        Item::ForeignMod(i) => {
            let k = &i.abi;
            quote!(#k)
        }
        Item::Macro(i) => {
            let p = &i.mac.path;
            quote!(#p)
        }
        Item::Impl(i) => {
            let (k, t) = (&i.impl_token, &i.self_ty);
            quote!(#k #t)
        }
        Item::Trait(i) => {
            let (k, n) = (&i.trait_token, &i.ident);
            quote!(#k #n)
        }
        other => quote!(#other),
    }
}

/// Parses the item under `#[main]`: a function.
pub fn main_target(item: TokenStream) -> syn::Result<ItemFn> {
    match syn::parse2::<Item>(item)? {
        Item::Fn(f) => Ok(f),
        other => Err(syn::Error::new_spanned(
            item_head(&other),
            "#[pipelinescope::main] goes on `fn main`",
        )),
    }
}
