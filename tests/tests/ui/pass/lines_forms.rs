//! Every statement form compiles and behaves the same under `#[profile(lines)]`.

use pipelinescope::profile;

/// The same body twice: instrumented and as written, to compare their results.
macro_rules! twice {
    ($v:ident; $($body:tt)*) => {
        #[profile(lines)]
        fn forms($v: &[Option<u32>]) -> Result<u32, String> {
            $($body)*
        }

        fn plain($v: &[Option<u32>]) -> Result<u32, String> {
            $($body)*
        }
    };
}

twice! {
    v;
    let mut total = 0;
    let Some(first) = v.first().copied().flatten() else {
        return Err("empty".to_string());
    };
    total += first;
    'outer: for (i, x) in v.iter().enumerate() {
        let mut k = 0;
        while let Some(n) = x.map(|n| n + k) {
            k += 1;
            if n > 5 {
                continue 'outer;
            } else if n == 3 {
                break 'outer;
            }
            if k > 2 {
                break;
            }
        }
        total += i as u32;
    }
    let from_loop = loop {
        break 7;
    };
    let labelled = 'b: {
        if total > 100 {
            break 'b 1;
        }
        2
    };
    println!("{total} {from_loop} {labelled}");
    let moved = String::from("moved");
    let f = move |extra: u32| {
        let n = moved.len() as u32;
        n + extra
    };
    fn nested(x: u32) -> u32 {
        x * 2
    }
    let r = match v.len() {
        0 => return Err("none".into()),
        1 | 2 => nested(f(1)),
        _ => {
            let s: u32 = v.iter().flatten().sum();
            s
        }
    };
    unsafe {
        total += std::ptr::read(&r);
    }
    let parsed: u32 = "4".parse().map_err(|_| "bad".to_string())?;
    total += parsed;
    const { assert!(1 + 1 == 2) };
    vec![1, 2, 3].iter().for_each(|x| total += x);
    Ok(total + from_loop + labelled)
}

#[profile(lines)]
async fn async_forms(x: u32) -> Result<u32, String> {
    let y = async { x + 1 }.await;
    if y > 100 {
        return Err("big".into());
    }
    Ok(y)
}

struct Parser {
    pos: usize,
}

#[profile(lines)]
impl Parser {
    fn advance(&mut self) -> usize {
        self.pos += 1;
        self.pos
    }

    #[profile(skip)]
    fn raw(&self) -> usize {
        self.pos
    }

    const fn limit() -> usize {
        10
    }
}

#[profile(lines)]
fn unit_tail() {}

#[profile(lines)]
fn expr_tail(a: bool) -> u8 {
    if a { 1 } else { 2 }
}

fn main() {
    for v in [
        &[Some(1), Some(2), None, Some(9)][..],
        &[],
        &[Some(3)],
        &[Some(7), Some(1)],
        &[None],
    ] {
        assert_eq!(forms(v), plain(v));
    }
    let rt = std::future::ready(());
    drop(rt);
    let mut p = Parser { pos: 0 };
    assert_eq!(p.advance(), 1);
    assert_eq!(p.raw(), 1);
    assert_eq!(Parser::limit(), 10);
    unit_tail();
    assert_eq!(expr_tail(false), 2);
    let _ = async_forms(1);
}
