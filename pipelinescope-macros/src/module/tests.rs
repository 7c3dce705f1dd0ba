//! Unit tests of the module walk: names, options, the feature-off output, errors.

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
        }
    }
}

#[test]
fn detects_modules_only() {
    for item in [
        quote!(
            mod m {}
        ),
        quote!(
            #[doc = "x"]
            pub(in crate::a) mod m;
        ),
        quote!(
            pub unsafe mod m {}
        ),
    ] {
        assert!(is_module(&item), "{item}");
    }
    for item in [
        quote!(
            fn f() {}
        ),
        quote!(
            pub(crate) unsafe fn f() {}
        ),
        quote!(impl M {}),
        quote!(
            #[cfg(x)]
            struct S;
        ),
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
    assert!(
        !text.contains("pipelinescope :: profile"),
        "markers removed: {text}"
    );
    assert!(text.contains("made ! (generated)"));
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
        (
            quote!(),
            quote!(
                mod elsewhere;
            ),
            "only works on an inline module",
        ),
        (
            quote!(bogus),
            quote!(
                mod m {}
            ),
            "unknown argument `bogus`",
        ),
        (
            quote!(skip),
            quote!(
                mod m {}
            ),
            "`skip` only applies",
        ),
        (
            quote!(),
            quote!(
                #[profile]
                mod m {}
            ),
            "applied twice to this module",
        ),
        (
            quote!(),
            quote!(
                mod m {
                    #[profile]
                    const fn f() {}
                }
            ),
            "const fn",
        ),
        (
            quote!(),
            quote!(
                mod m {
                    trait T {
                        #[profile]
                        fn f(&self);
                    }
                }
            ),
            "needs a function body",
        ),
        (
            quote!(),
            quote!(
                mod m {
                    #[profile(skip)]
                    struct S;
                }
            ),
            "this item holds no function",
        ),
        (
            quote!(),
            quote!(
                mod m {
                    #[profile(skip)]
                    mod inner;
                }
            ),
            "cannot contain `mod inner;`",
        ),
        (
            quote!(),
            quote!(
                mod m {
                    mod inner;
                }
            ),
            "cannot contain `mod inner;`",
        ),
        (
            quote!(),
            quote!(
                mod m {
                    #[profile(skip = 1)]
                    fn f() {}
                }
            ),
            "`skip` takes no value",
        ),
    ];
    for enabled in [false, true] {
        for (attr, item, message) in cases.clone() {
            let out = profile(attr, item.clone(), enabled).to_string();
            assert!(out.contains("compile_error"), "{out}");
            assert!(out.contains(message), "{message}: {out}");
            assert!(
                !out.contains("__PIPELINESCOPE_SITE"),
                "not instrumented: {out}"
            );
            // The tokens outside the messages' string literals.
            let code: String = out.replace("\\\"", "").split('"').step_by(2).collect();
            // Markers inside the module are removed; a second attribute on the module
            // itself stays, as on a function.
            let inside = code.split_once("mod ").map(|(_, m)| m);
            assert!(inside.is_some_and(|m| !m.contains("[profile")), "{out}");
        }
    }
}
