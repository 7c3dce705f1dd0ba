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
//!   is not visible here), functions inside function bodies, and `#[stage]` functions, which
//!   their stage already measures (a marker on one records it as a function too).
//! - `mod foo;` under the attribute or inside the module is an error: an attribute is not given
//!   a module's file, and the compiler refuses file modules in its input anyway (E0658); ours
//!   says what to do instead.

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
    /// `lines` on the module: every function it instruments profiles its lines too.
    lines: Option<proc_macro2::Span>,
}

impl Walk {
    fn new(enabled: bool) -> Self {
        Walk {
            enabled,
            stripped: false,
            errors: None,
            lines: None,
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
        self.lines = args.lines;
        if let Some(span) = args.skip {
            self.error(valid::skip_outside(span));
        }
        if let Some(size) = &args.size
            && let Err(err) = crate::sized::check(size, None)
        {
            self.error(err);
        }
        if let Some(again) = m.attrs.iter().find(|a| attr::is_profile_attr(a)) {
            self.error(syn::Error::new_spanned(
                again,
                "#[profile] is applied twice to this module; keep one",
            ));
        }
        let Some((_, items)) = &mut m.content else {
            self.error(not_inline(m, true));
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
                    // `lines` on the block reaches its methods.
                    let outer_lines = self.lines;
                    self.lines = m.lines.or(outer_lines);
                    for it in &mut i.items {
                        match it {
                            ImplItem::Fn(f) => self.function(
                                &mut f.attrs,
                                &f.sig,
                                &mut f.block,
                                &prefix,
                                krate,
                                on,
                            ),
                            ImplItem::Const(c) => self.stray(&mut c.attrs),
                            ImplItem::Type(t) => self.stray(&mut t.attrs),
                            ImplItem::Macro(m) => self.stray(&mut m.attrs),
                            _ => {}
                        }
                    }
                    self.lines = outer_lines;
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
                    let outer_lines = self.lines;
                    self.lines = m.lines.or(outer_lines);
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
                    self.lines = outer_lines;
                }
                Item::Mod(md) => {
                    let Some((m, _)) = self.markers(&mut md.attrs) else {
                        continue;
                    };
                    let Some((_, inner)) = &mut md.content else {
                        // The compiler refuses `mod foo;` anywhere in an attribute macro's
                        // input (E0658, "file modules in proc macro input are unstable"); this
                        // says why and what to do instead, `skip` or not.
                        self.error(not_inline(md, false));
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
        let Some((mut m, marked)) = self.markers(attrs) else {
            return;
        };
        if m.skip.is_some() {
            return;
        }
        m.lines = m.lines.or(self.lines);
        if marked {
            // Asked for by name: a `const fn` is an error, as under `#[profile]` of its own.
            if let Err(err) = valid::check_fn(sig) {
                self.error(err);
                return;
            }
            if let Some(size) = &m.size
                && let Err(err) = crate::sized::check(size, Some(sig))
            {
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

/// The error for `mod foo;` under the attribute (`top`) or inside the module, spanned at it.
fn not_inline(m: &ItemMod, top: bool) -> syn::Error {
    let (k, n, s) = (&m.mod_token, &m.ident, &m.semi);
    let what = if top {
        format!("#[profile] only works on an inline module (`mod {n} {{ ... }}`)")
    } else {
        format!("a #[profile] module cannot contain `mod {n};`")
    };
    syn::Error::new_spanned(
        quote!(#k #n #s),
        format!(
            "{what}: an attribute is not given the contents of a module's file; put #[profile] \
             on the functions, `impl` blocks or inline modules inside that file instead",
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
mod tests;
