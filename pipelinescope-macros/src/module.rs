//! `#[profile]` on an inline module: every function in it, named by its path inside the module.
//!
//! The walk decides what to instrument and under which name; each function then goes through
//! the expansion of the block form (`expand::method`), so a function in a module compiles to
//! exactly what it would under `#[profile]` of its own.
//!
//! - Free functions: `module::f`; methods of `impl Type` and `impl Trait for Type`:
//!   `module::Type::f` (the block form's `Type::f`); trait default bodies: `module::Trait::f`;
//!   nested inline modules add their name: `module::inner::f`.
//! - `#[profile(...)]` on an item inside is a marker read by this walk and removed (its
//!   `profile` need not even be in scope there). On a function, its options replace the
//!   enclosing ones (`name` is then the whole display name, as for a method of a block); on an
//!   `impl`, `trait` or module, `name` replaces that item's part of the path and `crate`
//!   applies to everything inside. `skip` turns the default off for the item and everything
//!   inside it; a function inside with a marker of its own is still instrumented.
//! - Left alone: `const fn`, functions without a body, macro invocations (what they expand to
//!   is not visible here), `mod foo;` (its file is not visible either), functions inside
//!   function bodies, and `#[stage]` functions, which their stage already measures (a marker
//!   on one records it as a function too).

use crate::attr::{self, ProfileArgs};
use crate::{expand, valid};
use proc_macro2::{Delimiter, TokenStream, TokenTree};
use quote::quote;
use syn::ext::IdentExt;
use syn::{Attribute, Block, ImplItem, Item, ItemMod, Path, Signature, TraitItem};

/// Whether `item` is a module (`#[..] pub(..) mod name ...`), read from its first tokens so that
/// the function form does not pay for a second parse.
pub fn is_module(item: &TokenStream) -> bool {
    let mut tokens = item.clone().into_iter().peekable();
    loop {
        match tokens.next() {
            // An outer attribute: `#` and its bracketed group.
            Some(TokenTree::Punct(p)) if p.as_char() == '#' => {
                tokens.next();
            }
            Some(TokenTree::Ident(i)) if i == "pub" => {
                if let Some(TokenTree::Group(g)) = tokens.peek()
                    && g.delimiter() == Delimiter::Parenthesis
                {
                    tokens.next();
                }
            }
            Some(TokenTree::Ident(i)) if i == "unsafe" => {}
            Some(TokenTree::Ident(i)) => return i == "mod",
            // An item passed through a `macro_rules!` fragment arrives in an invisible group.
            Some(TokenTree::Group(g)) if g.delimiter() == Delimiter::None => {
                return is_module(&g.stream());
            }
            _ => return false,
        }
    }
}

/// `#[profile(attr)]` on a module: the output for `item`. Misuse is reported in both modes;
/// without `enabled` the module comes back as written, less the markers inside it.
pub fn profile(attr: TokenStream, item: TokenStream, enabled: bool) -> TokenStream {
    let mut module: ItemMod = match syn::parse2(item.clone()) {
        Ok(m) => m,
        Err(err) => {
            let mut out = err.to_compile_error();
            out.extend(item);
            return out;
        }
    };
    let mut walk = Walk::new(enabled);
    let args = attr::parse_profile(attr).unwrap_or_else(|err| {
        walk.error(err);
        ProfileArgs::default()
    });
    walk.module(&args, &mut module);
    if let Some(err) = walk.errors {
        // One mistake, one message: the module follows uninstrumented and without its markers,
        // which would otherwise be expanded on their own and complain again (or fail to
        // resolve, since `profile` need not be in scope inside the module).
        let mut out = err.to_compile_error();
        let mut plain = Walk::new(false);
        match syn::parse2::<ItemMod>(item.clone()) {
            Ok(mut again) => {
                plain.module(&args, &mut again);
                out.extend(if plain.stripped { quote!(#again) } else { item });
            }
            Err(_) => out.extend(item),
        }
        return out;
    }
    if enabled || walk.stripped {
        quote!(#module)
    } else {
        item
    }
}

/// One pass over a module: instruments (when `enabled`), removes markers, gathers errors.
struct Walk {
    enabled: bool,
    /// Whether a marker was removed, i.e. whether the output differs from the input.
    stripped: bool,
    errors: Option<syn::Error>,
}

impl Walk {
    fn new(enabled: bool) -> Self {
        Walk {
            enabled,
            stripped: false,
            errors: None,
        }
    }

    fn error(&mut self, err: syn::Error) {
        match &mut self.errors {
            Some(all) => all.combine(err),
            None => self.errors = Some(err),
        }
    }

    /// The module under the attribute itself.
    fn module(&mut self, args: &ProfileArgs, m: &mut ItemMod) {
        if let Some(span) = args.skip {
            self.error(valid::skip_outside(span));
        }
        if let Some(again) = m.attrs.iter().find(|a| attr::is_profile_attr(a)) {
            self.error(syn::Error::new_spanned(
                again,
                "#[profile] is applied twice to this module; keep one",
            ));
        }
        let Some((_, items)) = &mut m.content else {
            self.error(not_inline(m));
            return;
        };
        let prefix = match &args.name {
            Some(n) => n.value(),
            None => m.ident.unraw().to_string(),
        };
        let krate = args.krate.clone().unwrap_or_else(expand::default_crate);
        self.items(items, &prefix, &krate, true);
    }

    /// The items of a module whose path is `prefix`. `on`: whether functions without a marker
    /// of their own are instrumented (false under a `skip`).
    fn items(&mut self, items: &mut [Item], prefix: &str, krate: &Path, on: bool) {
        for item in items {
            match item {
                Item::Fn(f) => self.function(&mut f.attrs, &f.sig, &mut f.block, prefix, krate, on),
                Item::Impl(i) => {
                    let Some((m, _)) = self.markers(&mut i.attrs) else {
                        continue;
                    };
                    let part = match &m.name {
                        Some(n) => n.value(),
                        None => expand::type_name(&i.self_ty),
                    };
                    let prefix = format!("{prefix}::{part}");
                    let krate = m.krate.as_ref().unwrap_or(krate);
                    let on = on && m.skip.is_none();
                    for it in &mut i.items {
                        match it {
                            ImplItem::Fn(f) => {
                                self.function(&mut f.attrs, &f.sig, &mut f.block, &prefix, krate, on)
                            }
                            ImplItem::Const(c) => self.stray(&mut c.attrs),
                            ImplItem::Type(t) => self.stray(&mut t.attrs),
                            ImplItem::Macro(m) => self.stray(&mut m.attrs),
                            _ => {}
                        }
                    }
                }
                Item::Trait(t) => {
                    let Some((m, _)) = self.markers(&mut t.attrs) else {
                        continue;
                    };
                    let part = match &m.name {
                        Some(n) => n.value(),
                        None => t.ident.unraw().to_string(),
                    };
                    let prefix = format!("{prefix}::{part}");
                    let krate = m.krate.as_ref().unwrap_or(krate);
                    let on = on && m.skip.is_none();
                    for it in &mut t.items {
                        match it {
                            TraitItem::Fn(f) => {
                                if let Some(block) = &mut f.default {
                                    self.function(&mut f.attrs, &f.sig, block, &prefix, krate, on);
                                    continue;
                                }
                                // A signature: nothing to instrument, an error if asked for.
                                let asked = f
                                    .attrs
                                    .iter()
                                    .filter(|a| attr::is_profile_attr(a))
                                    .filter_map(|a| attr::parse_profile_attr(a).ok())
                                    .any(|m| m.skip.is_none());
                                if asked {
                                    self.error(valid::no_body(f));
                                }
                                self.markers(&mut f.attrs);
                            }
                            TraitItem::Const(c) => self.stray(&mut c.attrs),
                            TraitItem::Type(t) => self.stray(&mut t.attrs),
                            TraitItem::Macro(m) => self.stray(&mut m.attrs),
                            _ => {}
                        }
                    }
                }
                Item::Mod(md) => {
                    let Some((m, marked)) = self.markers(&mut md.attrs) else {
                        continue;
                    };
                    let Some((_, inner)) = &mut md.content else {
                        // `mod foo;` is left alone unless a marker asks for its contents.
                        if marked && m.skip.is_none() {
                            self.error(not_inline(md));
                        }
                        continue;
                    };
                    let part = match &m.name {
                        Some(n) => n.value(),
                        None => md.ident.unraw().to_string(),
                    };
                    let prefix = format!("{prefix}::{part}");
                    let krate = m.krate.as_ref().unwrap_or(krate);
                    self.items(inner, &prefix, krate, on && m.skip.is_none());
                }
                other => {
                    if let Some(attrs) = attrs_mut(other) {
                        self.stray(attrs);
                    }
                }
            }
        }
    }

    /// A function with a body, named `prefix::name` unless its marker names it.
    fn function(
        &mut self,
        attrs: &mut Vec<Attribute>,
        sig: &Signature,
        block: &mut Block,
        prefix: &str,
        krate: &Path,
        on: bool,
    ) {
        let Some((m, marked)) = self.markers(attrs) else {
            return;
        };
        if m.skip.is_some() {
            return;
        }
        if marked {
            // Asked for by name: a `const fn` is an error, as under `#[profile]` of its own.
            if let Err(err) = valid::check_fn(sig) {
                self.error(err);
                return;
            }
        } else if !on || sig.constness.is_some() || is_stage(attrs) {
            return;
        }
        if self.enabled {
            expand::method(&m, sig, block, prefix, krate);
        }
    }

    /// Removes the `#[profile(...)]` markers of an item: their merged arguments and whether
    /// there were any, or None when one of them is malformed (the error is recorded).
    fn markers(&mut self, attrs: &mut Vec<Attribute>) -> Option<(ProfileArgs, bool)> {
        let before = attrs.len();
        let merged = expand::take_markers(attrs);
        let marked = attrs.len() != before;
        self.stripped |= marked;
        match merged {
            Ok(m) => Some((m, marked)),
            Err(err) => {
                self.error(err);
                None
            }
        }
    }

    /// Markers on an item that holds no function: an error at each, and removed.
    fn stray(&mut self, attrs: &mut Vec<Attribute>) {
        let mut found = Vec::new();
        attrs.retain(|a| {
            let marker = attr::is_profile_attr(a);
            if marker {
                found.push(syn::Error::new_spanned(
                    a,
                    "#[profile] inside a profiled module goes on a function, an `impl` block, a \
                     `trait` block or a module; this item holds no function, remove it",
                ));
            }
            !marker
        });
        self.stripped |= !found.is_empty();
        found.into_iter().for_each(|e| self.error(e));
    }
}

/// Whether the function is a pipeline stage (`#[stage]`, `#[pipelinescope::stage(..)]`, ...).
fn is_stage(attrs: &[Attribute]) -> bool {
    attrs
        .iter()
        .any(|a| a.path().segments.last().is_some_and(|s| s.ident == "stage"))
}

/// The error for `mod foo;`, spanned at it.
fn not_inline(m: &ItemMod) -> syn::Error {
    let (k, n, s) = (&m.mod_token, &m.ident, &m.semi);
    syn::Error::new_spanned(
        quote!(#k #n #s),
        format!(
            "#[profile] only works on an inline module (`mod {n} {{ ... }}`): an attribute cannot \
             see the file of `mod {n};`; put #[profile] on the `impl` blocks and functions in \
             that file instead",
        ),
    )
}

/// The attributes of an item that holds no function of its own.
fn attrs_mut(item: &mut Item) -> Option<&mut Vec<Attribute>> {
    Some(match item {
        Item::Const(i) => &mut i.attrs,
        Item::Enum(i) => &mut i.attrs,
        Item::ExternCrate(i) => &mut i.attrs,
        Item::ForeignMod(i) => &mut i.attrs,
        Item::Macro(i) => &mut i.attrs,
        Item::Static(i) => &mut i.attrs,
        Item::Struct(i) => &mut i.attrs,
        Item::TraitAlias(i) => &mut i.attrs,
        Item::Type(i) => &mut i.attrs,
        Item::Union(i) => &mut i.attrs,
        Item::Use(i) => &mut i.attrs,
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The names of the call sites in an expansion, in order.
    fn site_names(out: &TokenStream) -> Vec<String> {
        let text = out.to_string();
        text.split("Site :: new (")
            .skip(1)
            .map(|rest| rest.split(',').next().unwrap_or("").trim().to_string())
            .collect()
    }

    fn sample() -> TokenStream {
        quote! {
            /// Docs.
            pub(crate) mod pipeline {
                #![allow(unused)]
                use super::*;
                pub fn parse<T: Clone>(x: &T) -> T where T: Copy { *x }
                #[cfg(test)]
                unsafe fn raw() {}
                const fn fixed() -> u8 { 1 }
                #[profile(skip)]
                fn skipped() {}
                #[pipelinescope::profile(name = "custom")]
                fn renamed() {}
                #[stage("s")]
                fn staged(v: Vec<u8>) -> Vec<u8> { v }
                made!(generated);
                impl<T> Reader<T> where T: Send {
                    fn next_record(&mut self) -> u8 { 0 }
                    const fn cap() -> usize { 1 }
                }
                impl Iterator for Reader<u8> {
                    type Item = u8;
                    fn next(&mut self) -> Option<u8> { None }
                }
                trait Source {
                    fn pull(&self) -> u8;
                    fn twice(&self) -> u8 { self.pull() * 2 }
                }
                #[profile(skip)]
                impl Reader<u16> {
                    fn quiet(&self) {}
                    #[profile]
                    fn loud(&self) {}
                }
                mod io {
                    pub async fn open() -> impl Sized { 1 }
                    extern "C" { fn ext(); }
                }
                #[profile(name = "storage")]
                mod disk {
                    fn write() {}
                }
                mod elsewhere;
            }
        }
    }

    #[test]
    fn detects_modules_only() {
        for item in [
            quote!(mod m {}),
            quote!(#[doc = "x"] pub(in crate::a) mod m;),
            quote!(pub unsafe mod m {}),
        ] {
            assert!(is_module(&item), "{item}");
        }
        for item in [
            quote!(fn f() {}),
            quote!(pub(crate) unsafe fn f() {}),
            quote!(impl M {}),
            quote!(#[cfg(x)] struct S;),
        ] {
            assert!(!is_module(&item), "{item}");
        }
    }

    #[test]
    fn enabled_names_every_function_by_path() {
        let out = profile(quote!(), sample(), true);
        assert_eq!(
            site_names(&out),
            [
                "\"pipeline::parse\"",
                "\"pipeline::raw\"",
                "\"custom\"",
                "\"pipeline::Reader::next_record\"",
                "\"pipeline::Reader::next\"",
                "\"pipeline::Source::twice\"",
                "\"pipeline::Reader::loud\"",
                "\"pipeline::io::open\"",
                "\"pipeline::storage::write\"",
            ]
        );
        let text = out.to_string();
        assert!(!text.contains("# [profile"), "markers removed: {text}");
        assert!(!text.contains("pipelinescope :: profile"), "markers removed: {text}");
        assert!(text.contains("made ! (generated)"));
        assert!(text.contains("mod elsewhere ;"));
        assert!(text.contains("instrument_future"), "async form: {text}");
    }

    #[test]
    fn module_options_apply_inside() {
        let out = profile(
            quote!(name = "p", crate = ::renamed),
            quote! {
                mod pipeline {
                    fn a() {}
                    #[profile(crate = ::other)]
                    fn b() {}
                }
            },
            true,
        );
        assert_eq!(site_names(&out), ["\"p::a\"", "\"p::b\""]);
        let text = out.to_string();
        assert!(text.contains(":: renamed :: __private :: enter"), "{text}");
        assert!(text.contains(":: other :: __private :: enter"), "{text}");
        assert!(!text.contains(":: pipelinescope ::"), "{text}");
    }

    #[test]
    fn disabled_returns_the_module_as_written_less_markers() {
        let plain = quote! {
            mod pipeline {
                fn a() {}
                impl R { fn b(&self) {} }
                mod inner { fn c() {} }
            }
        };
        let out = profile(quote!(name = "x"), plain.clone(), false);
        assert_eq!(out.to_string(), plain.to_string());

        let out = profile(quote!(), sample(), false).to_string();
        let expected = sample()
            .to_string()
            .replace("# [profile (skip)] ", "")
            .replace("# [pipelinescope :: profile (name = \"custom\")] ", "")
            .replace("# [profile] ", "")
            .replace("# [profile (name = \"storage\")] ", "");
        assert_eq!(out, expected);
    }

    #[test]
    fn errors_in_both_modes_with_the_module_after_them() {
        let cases = [
            (quote!(), quote!(mod elsewhere;), "only works on an inline module"),
            (quote!(bogus), quote!(mod m {}), "unknown argument `bogus`"),
            (quote!(skip), quote!(mod m {}), "`skip` only applies"),
            (
                quote!(),
                quote!(#[profile] mod m {}),
                "applied twice to this module",
            ),
            (
                quote!(),
                quote!(mod m { #[profile] const fn f() {} }),
                "const fn",
            ),
            (
                quote!(),
                quote!(mod m { trait T { #[profile] fn f(&self); } }),
                "needs a function body",
            ),
            (
                quote!(),
                quote!(mod m { #[profile(skip)] struct S; }),
                "this item holds no function",
            ),
            (
                quote!(),
                quote!(mod m { #[profile] mod inner; }),
                "only works on an inline module",
            ),
            (
                quote!(),
                quote!(mod m { #[profile(skip = 1)] fn f() {} }),
                "`skip` takes no value",
            ),
        ];
        for enabled in [false, true] {
            for (attr, item, message) in cases.clone() {
                let out = profile(attr, item.clone(), enabled).to_string();
                assert!(out.contains("compile_error"), "{out}");
                assert!(out.contains(message), "{message}: {out}");
                assert!(!out.contains("__PIPELINESCOPE_SITE"), "not instrumented: {out}");
                // The tokens outside the messages' string literals.
                let code: String = out
                    .replace("\\\"", "")
                    .split('"')
                    .step_by(2)
                    .collect();
                // Markers inside the module are removed; a second attribute on the module
                // itself stays, as on a function.
                let inside = code.split_once("mod ").map(|(_, m)| m);
                assert!(inside.is_some_and(|m| !m.contains("[profile")), "{out}");
            }
        }
    }
}
