//! Parsing the arguments of `#[profile(...)]` and `#[main(...)]`.

use proc_macro2::{Span, TokenStream};
use syn::parse::Parser;
use syn::spanned::Spanned;
use syn::{Attribute, Expr, Lit, LitStr, Meta, Path};

/// Arguments of one `#[profile(...)]`.
#[derive(Default)]
pub struct ProfileArgs {
    /// `name = "..."`: the display name.
    pub name: Option<LitStr>,
    /// `crate = path`: where the `pipelinescope` crate lives (renamed dependency).
    pub krate: Option<Path>,
    /// `skip`: leave this method of a `#[profile]` impl block alone. Holds the marker's span.
    pub skip: Option<Span>,
    /// `lines`: also profile each source line of the body. Holds the marker's span.
    pub lines: Option<Span>,
    /// `size = EXPR`: the size of each call (see `sized`).
    pub size: Option<crate::sized::SizeArg>,
}

/// Arguments of `#[main(...)]`.
#[derive(Default)]
pub struct MainArgs {
    /// `crate = path`, as for `#[profile]`.
    pub krate: Option<Path>,
}

const PROFILE_EXPECTED: &str =
    "expected `name = \"...\"`, `crate = path`, `skip`, `lines` or `size = EXPR`";

/// Parses the tokens between the parentheses of `#[profile(...)]`.
pub fn parse_profile(tokens: TokenStream) -> syn::Result<ProfileArgs> {
    let mut args = ProfileArgs::default();
    syn::meta::parser(|meta| {
        if meta.path.is_ident("name") {
            once(&args.name, &meta.path)?;
            args.name = Some(parse_name(meta.value()?)?);
        } else if meta.path.is_ident("crate") {
            once(&args.krate, &meta.path)?;
            args.krate = Some(meta.value()?.call(Path::parse_mod_style)?);
        } else if meta.path.is_ident("size") {
            once(&args.size, &meta.path)?;
            args.size = Some(crate::sized::parse(&meta)?);
        } else if meta.path.is_ident("skip") {
            once(&args.skip, &meta.path)?;
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    meta.input.span(),
                    "`skip` takes no value: write `#[profile(skip)]`",
                ));
            }
            args.skip = Some(meta.path.span());
        } else if meta.path.is_ident("lines") {
            once(&args.lines, &meta.path)?;
            if meta.input.peek(syn::Token![=]) || meta.input.peek(syn::token::Paren) {
                return Err(syn::Error::new(
                    meta.input.span(),
                    "`lines` takes no value: write `#[profile(lines)]`",
                ));
            }
            args.lines = Some(meta.path.span());
        } else {
            return Err(syn::Error::new(
                meta.path.span(),
                format!(
                    "unknown argument `{}` of #[profile]: {PROFILE_EXPECTED}",
                    path_text(&meta.path)
                ),
            ));
        }
        Ok(())
    })
    .parse2(tokens)?;
    not_lines_and_size(&args)?;
    Ok(args)
}

/// Parses the tokens between the parentheses of `#[main(...)]`.
pub fn parse_main(tokens: TokenStream) -> syn::Result<MainArgs> {
    let mut args = MainArgs::default();
    syn::meta::parser(|meta| {
        if meta.path.is_ident("crate") {
            once(&args.krate, &meta.path)?;
            args.krate = Some(meta.value()?.call(Path::parse_mod_style)?);
            Ok(())
        } else {
            Err(syn::Error::new(
                meta.path.span(),
                format!(
                    "unknown argument `{}` of #[pipelinescope::main]: expected `crate = path`",
                    path_text(&meta.path)
                ),
            ))
        }
    })
    .parse2(tokens)?;
    Ok(args)
}

/// `name = "..."`: a non-empty string literal, nothing else.
fn parse_name(input: syn::parse::ParseStream) -> syn::Result<LitStr> {
    let expr: Expr = input.parse()?;
    match &expr {
        Expr::Lit(lit) => match &lit.lit {
            Lit::Str(s) if s.value().is_empty() => {
                Err(syn::Error::new(s.span(), "`name` must not be empty"))
            }
            Lit::Str(s) => Ok(s.clone()),
            other => Err(syn::Error::new(
                other.span(),
                "`name` must be a string literal, like `name = \"load_rows\"`",
            )),
        },
        _ => Err(syn::Error::new_spanned(
            &expr,
            "`name` must be a string literal, like `name = \"load_rows\"`",
        )),
    }
}

/// Rejects a second occurrence of an argument, pointing at the second one.
fn once<T>(seen: &Option<T>, path: &Path) -> syn::Result<()> {
    if seen.is_some() {
        return Err(syn::Error::new(
            path.span(),
            format!("duplicate argument `{}`", path_text(path)),
        ));
    }
    Ok(())
}

fn path_text(path: &Path) -> String {
    let mut s = String::new();
    if path.leading_colon.is_some() {
        s.push_str("::");
    }
    for (i, seg) in path.segments.iter().enumerate() {
        if i > 0 {
            s.push_str("::");
        }
        s.push_str(&seg.ident.to_string());
    }
    s
}

/// Whether `attr` is a `#[profile]` attribute (by its last path segment: `profile`,
/// `pipelinescope::profile`, or a renamed crate's `profile`).
pub fn is_profile_attr(attr: &Attribute) -> bool {
    attr.path()
        .segments
        .last()
        .is_some_and(|s| s.ident == "profile")
}

/// The arguments of a `#[profile]` attribute found on a method inside a `#[profile]` block.
pub fn parse_profile_attr(attr: &Attribute) -> syn::Result<ProfileArgs> {
    match &attr.meta {
        Meta::Path(_) => Ok(ProfileArgs::default()),
        Meta::List(list) => parse_profile(list.tokens.clone()),
        Meta::NameValue(nv) => Err(syn::Error::new_spanned(
            nv,
            format!("expected `#[profile]` or `#[profile(...)]`: {PROFILE_EXPECTED}"),
        )),
    }
}

/// `lines` and `size` on one function: refused rather than one of them silently dropped (the
/// line probes and the sized guard are separate expansions).
pub fn not_lines_and_size(args: &ProfileArgs) -> syn::Result<()> {
    match (&args.lines, &args.size) {
        (Some(_), Some(size)) => Err(syn::Error::new(
            size.span,
            "`size` and `lines` cannot both be given to one function: profile its lines and its \
             sizes separately (e.g. `lines` on a helper it calls)",
        )),
        _ => Ok(()),
    }
}
