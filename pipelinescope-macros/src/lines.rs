//! `#[profile(lines)]`: the function's probe as for `#[profile]`, and a mark before every
//! statement of its body that charges the time since the last mark to the line that ran.
//!
//! The body is parsed and walked: each block's statements get a mark before the first
//! statement of each line they start on; a loop's body starts with a mark of the loop's line
//! (a `while` marks its line in its condition, so the line counts each test, as line_profiler's
//! does); a `match` arm and an `else if` mark their own line; a closure whose body spans lines
//! opens an activation of its own, so its statements are counted on their lines and the
//! calling line gets the rest. Nested functions, `async` blocks, `const` blocks and the insides
//! of macro invocations are left alone (their time goes to the line that runs them). Only marks
//! are inserted: no statement is moved, wrapped or reordered, except an arm's expression, which
//! becomes a block holding the mark and the expression.
//!
//! Line numbers come from the compiler's spans, and the function's source text is read from
//! its file when the macro runs, so `pipelinescope lines` shows the code as it was compiled.

use crate::expand::{async_call, enter_stmt, site_item};
use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::visit_mut::{self, VisitMut};
use syn::{Arm, Block, Expr, ExprClosure, Ident, Path, Signature, Stmt};

/// Rewrites a function body: the function's probe, its line table and a mark per line.
pub(crate) fn instrument(sig: &Signature, block: &mut Block, name: &str, krate: &Path) {
    let guard = Ident::new("__pipelinescope_lines", Span::mixed_site());
    let table = Ident::new("__PIPELINESCOPE_LINES", Span::mixed_site());
    let fn_line = line_of(sig.fn_token.span);
    let mut marker = Marker {
        lines: vec![fn_line],
        guard: guard.clone(),
        table: table.clone(),
        krate: krate.clone(),
        stmt_line: 0,
        is_async: sig.asyncness.is_some(),
    };
    marker.visit_block_mut(block);
    let last_line = line_of(block.brace_token.span.close());
    let source = read_source(sig.fn_token.span, fn_line, last_line);
    let lines = &marker.lines;
    let is_async = sig.asyncness.is_some();
    let mut head = site_item(is_async, sig.ident.span(), name, krate);
    head.extend(quote! {
        static #table: #krate::__private::LineSite = #krate::__private::LineSite::new(
            &__PIPELINESCOPE_SITE,
            &[#(#lines),*],
            #source,
            #fn_line,
        );
    });
    let enter = if sig.asyncness.is_some() {
        quote!(enter_lines_async)
    } else {
        quote!(enter_lines)
    };
    let open = quote! { let #guard = #krate::__private::#enter(&#table); };
    let stmts = std::mem::take(&mut block.stmts);
    let body = if is_async {
        let mut inner = open;
        inner.extend(quote!(#(#stmts)*));
        let mut out = head;
        out.extend(async_call(sig, krate, inner));
        out
    } else {
        let mut out = head;
        out.extend(enter_stmt(krate));
        out.extend(open);
        out.extend(quote!(#(#stmts)*));
        out
    };
    block.stmts = syn::parse::Parser::parse2(Block::parse_within, body).expect("the body parses");
}

/// The line a span starts on, where the compiler says (0 outside a macro expansion: unit
/// tests).
fn line_of(span: Span) -> u32 {
    if proc_macro::is_available() {
        span.unwrap().line() as u32
    } else {
        0
    }
}

/// The line the first token of `tokens` is on.
fn first_line(tokens: &impl ToTokens) -> u32 {
    tokens
        .to_token_stream()
        .into_iter()
        .next()
        .map_or(0, |t| line_of(t.span()))
}

/// Lines `first..=last` of the file `at` is in, or empty when it cannot be read (code made by
/// another macro, a file that is not on disk).
fn read_source(at: Span, first: u32, last: u32) -> String {
    if !proc_macro::is_available() || first == 0 || last < first {
        return String::new();
    }
    let Some(path) = at.unwrap().local_file() else {
        return String::new();
    };
    let Ok(text) = std::fs::read_to_string(path) else {
        return String::new();
    };
    let lines: Vec<&str> = text
        .lines()
        .skip(first as usize - 1)
        .take((last - first + 1) as usize)
        .collect();
    lines.join("\n")
}

struct Marker {
    /// Line numbers by index; index 0 is the `fn` line.
    lines: Vec<u32>,
    guard: Ident,
    table: Ident,
    krate: Path,
    /// Line of the statement being walked: a part of it on the same line is not marked again.
    stmt_line: u32,
    /// The body of an `async fn`: its `.await`s are wrapped so that suspended time is on no
    /// line.
    is_async: bool,
}

impl Marker {
    fn index(&mut self, line: u32) -> u32 {
        match self.lines.iter().position(|&l| l == line) {
            Some(i) => i as u32,
            None => {
                self.lines.push(line);
                (self.lines.len() - 1) as u32
            }
        }
    }

    fn mark(&mut self, line: u32) -> TokenStream {
        let i = self.index(line);
        let guard = &self.guard;
        quote! { #guard.mark(#i); }
    }

    fn mark_stmt(&mut self, line: u32) -> Stmt {
        syn::parse2(self.mark(line)).expect("a mark parses")
    }
}

/// Whether a condition holds a `let` (`while let`, let chains): it cannot be put in a block.
fn has_let(e: &Expr) -> bool {
    match e {
        Expr::Let(_) => true,
        Expr::Binary(b) => has_let(&b.left) || has_let(&b.right),
        Expr::Paren(p) => has_let(&p.expr),
        _ => false,
    }
}

/// A `while` whose condition the walk marks (so its statement needs no mark of its own).
fn marks_itself(s: &Stmt) -> bool {
    matches!(s, Stmt::Expr(Expr::While(w), _) if !has_let(&w.cond))
}

impl VisitMut for Marker {
    fn visit_block_mut(&mut self, b: &mut Block) {
        // Lines first: walking a statement may put generated tokens in front of it (an
        // `.await` wrapped), which carry no line of the source.
        let lines: Vec<u32> = b.stmts.iter().map(first_line).collect();
        for (s, &line) in b.stmts.iter_mut().zip(&lines) {
            let outer = std::mem::replace(&mut self.stmt_line, line);
            self.visit_stmt_mut(s);
            self.stmt_line = outer;
        }
        let old = std::mem::take(&mut b.stmts);
        let mut prev = None;
        for (s, line) in old.into_iter().zip(lines) {
            if matches!(s, Stmt::Item(_)) {
                b.stmts.push(s);
                continue;
            }
            if prev != Some(line) && !marks_itself(&s) {
                let m = self.mark_stmt(line);
                b.stmts.push(m);
            }
            prev = Some(line);
            b.stmts.push(s);
        }
    }

    fn visit_expr_while_mut(&mut self, w: &mut syn::ExprWhile) {
        visit_mut::visit_expr_while_mut(self, w);
        let line = line_of(w.while_token.span);
        if has_let(&w.cond) {
            let m = self.mark_stmt(line);
            w.body.stmts.insert(0, m);
        } else {
            let m = self.mark(line);
            let cond = &w.cond;
            *w.cond = syn::parse_quote!({ #m #cond });
        }
    }

    fn visit_expr_for_loop_mut(&mut self, f: &mut syn::ExprForLoop) {
        visit_mut::visit_expr_for_loop_mut(self, f);
        let m = self.mark_stmt(line_of(f.for_token.span));
        f.body.stmts.insert(0, m);
    }

    fn visit_expr_loop_mut(&mut self, l: &mut syn::ExprLoop) {
        visit_mut::visit_expr_loop_mut(self, l);
        let m = self.mark_stmt(line_of(l.loop_token.span));
        l.body.stmts.insert(0, m);
    }

    fn visit_expr_if_mut(&mut self, i: &mut syn::ExprIf) {
        visit_mut::visit_expr_if_mut(self, i);
        if let Some((_, e)) = &mut i.else_branch
            && let Expr::If(inner) = &mut **e
            && !has_let(&inner.cond)
            && line_of(inner.if_token.span) != self.stmt_line
        {
            let m = self.mark(line_of(inner.if_token.span));
            let cond = &inner.cond;
            *inner.cond = syn::parse_quote!({ #m #cond });
        }
    }

    fn visit_arm_mut(&mut self, arm: &mut Arm) {
        visit_mut::visit_arm_mut(self, arm);
        // A borrow of a temporary would not outlive a block around it.
        let line = first_line(&arm.pat);
        if matches!(*arm.body, Expr::Reference(_)) || line == self.stmt_line {
            return;
        }
        let m = self.mark(line);
        let body = &arm.body;
        *arm.body = syn::parse_quote!({ #m #body });
        if arm.comma.is_none() {
            arm.comma = Some(Default::default());
        }
    }

    fn visit_expr_closure_mut(&mut self, c: &mut ExprClosure) {
        if c.asyncness.is_some() || c.constness.is_some() {
            return;
        }
        let start = first_line(&*c);
        let Expr::Block(b) = &mut *c.body else {
            return;
        };
        if b.label.is_some() || b.block.stmts.is_empty() || first_line(&b.block.stmts[0]) == start {
            // On one line with the statement that holds it: timed on that line.
            return;
        }
        self.visit_block_mut(&mut b.block);
        let i = self.index(start);
        let (guard, table, krate) = (&self.guard, &self.table, &self.krate);
        let open: Stmt =
            syn::parse_quote! { let #guard = #krate::__private::enter_closure(&#table, #i); };
        b.block.stmts.insert(0, open);
    }

    fn visit_expr_mut(&mut self, e: &mut Expr) {
        visit_mut::visit_expr_mut(self, e);
        if !self.is_async {
            return;
        }
        if let Expr::Await(a) = e {
            let (base, guard, krate) = (&a.base, &self.guard, &self.krate);
            let await_token = &a.await_token;
            *e = syn::parse_quote! {
                #krate::__private::lines_await(&#guard, #base).#await_token
            };
        }
    }

    fn visit_expr_async_mut(&mut self, _: &mut syn::ExprAsync) {}

    fn visit_expr_const_mut(&mut self, _: &mut syn::ExprConst) {}

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

#[cfg(test)]
mod tests {
    use crate::expand::profile;
    use quote::quote;

    #[test]
    fn disabled_returns_the_item_as_written() {
        let items = [
            quote! { fn f(x: u8) -> u8 { for i in 0..x { if i > 2 { return i; } } x } },
            quote! { async fn g() -> u8 { h().await } },
            quote! { impl S { fn a(&self) { let c = |x| { x + 1 }; c(1); } } },
        ];
        for item in items {
            let out = profile(quote!(lines), item.clone(), false);
            assert_eq!(out.to_string(), item.to_string());
        }
    }

    #[test]
    fn misuse_is_an_error() {
        for enabled in [false, true] {
            for (attr, item, message) in [
                (
                    quote!(lines, lines),
                    quote!(
                        fn f() {}
                    ),
                    "duplicate argument `lines`",
                ),
                (
                    quote!(lines = 1),
                    quote!(
                        fn f() {}
                    ),
                    "`lines` takes no value",
                ),
                (
                    quote!(lines),
                    quote!(
                        const fn f() {}
                    ),
                    "const fn",
                ),
                (
                    quote!(lines),
                    quote!(
                        fn f(&self);
                    ),
                    "needs a function body",
                ),
            ] {
                let out = profile(attr, item, enabled).to_string();
                assert!(out.contains("compile_error"), "{out}");
                assert!(out.contains(message), "{message}: {out}");
            }
        }
    }

    #[test]
    fn enabled_marks_statements_loops_and_closures() {
        let out = profile(
            quote!(lines),
            quote! {
                fn f(n: u32) -> u32 {
                    let mut s = 0;
                    for i in 0..n { s += i; }
                    while s > 100 { s -= 1; }
                    let c = |x: u32| { x + 1 };
                    c(s)
                }
            },
            true,
        )
        .to_string();
        assert!(out.contains("static __PIPELINESCOPE_LINES"), "{out}");
        assert!(
            out.contains("enter_lines (& __PIPELINESCOPE_LINES)"),
            "{out}"
        );
        // Outside a compiler every span is on line 0: one mark per block.
        assert!(
            out.contains("while { __pipelinescope_lines . mark (0u32) ;"),
            "{out}"
        );
        assert!(out.contains("for i in 0 .. n { __pipelinescope_lines . mark (0u32) ;"));
        // A closure on its statement's line is left to that line.
        assert!(!out.contains("enter_closure"));
        // The fast path of a plain function is not taken: it would not mark anything.
        assert!(out.contains("s += i"));
    }
}
