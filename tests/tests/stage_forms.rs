//! Every form `#[stage]` accepts compiles and records under the right name and kind.

mod common;

use common::stage_named;
use pipelinescope::{StageKind, stage};
use std::collections::{BTreeMap, HashSet};

#[stage]
fn default_named(records: &[u8]) -> Vec<u8> {
    records.to_vec()
}

#[stage("boxed")]
fn boxed<'a>(input: Box<dyn Iterator<Item = u32> + 'a>) -> Box<dyn Iterator<Item = u32> + 'a> {
    if false {
        return Box::new(std::iter::empty());
    }
    Box::new(input.map(|x| x + 1))
}

#[stage("concrete")]
fn concrete(v: &[u32]) -> std::slice::Iter<'_, u32> {
    v.iter()
}

#[stage("where_clause")]
fn where_clause<I>(input: I, factor: u32) -> impl Iterator<Item = u32>
where
    I: IntoIterator<Item = u32>,
{
    input.into_iter().map(move |x| x * factor)
}

#[stage("marked")]
fn marked(
    #[input] mut words: std::vec::IntoIter<String>,
    min: usize,
) -> impl Iterator<Item = String> {
    let first = words.next();
    first
        .into_iter()
        .chain(words.filter(move |w| w.len() >= min))
}

#[stage("fallible")]
fn fallible(records: &[i64]) -> Result<Vec<i64>, String> {
    let mut out = Vec::new();
    for &r in records {
        if r < 0 {
            return Err(format!("negative: {r}"));
        }
        out.push(r);
    }
    let _ = "7".parse::<i64>().map_err(|e| e.to_string())?;
    Ok(out)
}

#[stage("to_set")]
fn to_set(records: Vec<u32>) -> HashSet<u32> {
    records.into_iter().collect()
}

#[stage("to_map")]
fn to_map(records: &HashSet<u32>) -> BTreeMap<u32, u32> {
    records.iter().map(|&r| (r, r)).collect()
}

struct Scaler {
    by: u32,
}

impl Scaler {
    #[stage("method_lazy")]
    fn scale<'a>(
        &'a self,
        input: impl Iterator<Item = u32> + 'a,
    ) -> impl Iterator<Item = u32> + 'a {
        input.map(move |x| x * self.by)
    }

    #[stage]
    fn method_eager(&mut self, records: &Vec<u32>) -> Vec<u32> {
        self.by += 1;
        records.iter().map(|x| x + self.by).collect()
    }
}

#[test]
fn all_forms_record() {
    assert_eq!(default_named(&[1, 2, 3]).len(), 3);
    let b: Vec<u32> = boxed(Box::new(0..5)).collect();
    assert_eq!(b, vec![1, 2, 3, 4, 5]);
    let data = [1u32, 2, 3, 4];
    let c: u32 = concrete(&data).sum();
    assert_eq!(c, 10);
    let w: Vec<u32> = where_clause(vec![1, 2, 3], 10).collect();
    assert_eq!(w, vec![10, 20, 30]);
    let words = vec!["a".to_string(), "bb".into(), "c".into(), "dddd".into()];
    let m: Vec<String> = marked(words.into_iter(), 2).collect();
    assert_eq!(m, vec!["a", "bb", "dddd"]);
    assert_eq!(fallible(&[1, 2, 3]).unwrap().len(), 3);
    assert!(fallible(&[1, -2, 3]).is_err());
    let set = to_set(vec![1, 1, 2, 3]);
    assert_eq!(to_map(&set).len(), 3);
    let mut s = Scaler { by: 3 };
    let v: Vec<u32> = s.scale(0..4).collect();
    assert_eq!(v, vec![0, 3, 6, 9]);
    assert_eq!(s.method_eager(&v), vec![4, 7, 10, 13]);

    let d = stage_named("default_named");
    assert_eq!(
        (d.kind, d.records_in, d.records_out),
        (StageKind::Eager, 3, 3)
    );
    let b = stage_named("boxed");
    assert_eq!(
        (b.kind, b.records_in, b.records_out),
        (StageKind::Lazy, 5, 5)
    );
    let c = stage_named("concrete");
    assert_eq!(
        (c.kind, c.records_in, c.records_out),
        (StageKind::Lazy, 0, 4)
    );
    let w = stage_named("where_clause");
    assert_eq!((w.records_in, w.records_out), (3, 3));
    let m = stage_named("marked");
    assert_eq!((m.records_in, m.records_out), (4, 3));
    let f = stage_named("fallible");
    assert_eq!((f.invocations, f.records_in, f.records_out), (2, 6, 3));
    let s1 = stage_named("to_set");
    assert_eq!((s1.records_in, s1.records_out), (4, 3));
    let s2 = stage_named("to_map");
    assert_eq!((s2.records_in, s2.records_out), (3, 3));
    let ml = stage_named("method_lazy");
    assert_eq!((ml.records_in, ml.records_out), (4, 4));
    let me = stage_named("method_eager");
    assert_eq!(
        (me.kind, me.records_in, me.records_out),
        (StageKind::Eager, 4, 4)
    );
    // The recorded line is the attribute's, just above the method.
    let fn_line = include_str!("stage_forms.rs")
        .lines()
        .position(|l| l.contains("fn method_eager("))
        .unwrap() as u32
        + 1;
    assert_eq!(me.line, fn_line - 1);
    assert!(me.file.ends_with("stage_forms.rs"), "{}", me.file);
}

#[stage("hint_map")]
fn hint_map(input: impl ExactSizeIterator<Item = u32>) -> impl ExactSizeIterator<Item = u32> {
    input.map(|x| x + 1)
}

#[stage("hint_slice")]
fn hint_slice(v: &[u32]) -> std::slice::Iter<'_, u32> {
    v.iter()
}

#[test]
fn wrappers_forward_size_hint_and_exact_size() {
    let it = hint_map(vec![1, 2, 3].into_iter());
    assert_eq!(it.size_hint(), (3, Some(3)));
    assert_eq!(it.len(), 3);
    let data = [5u32; 7];
    assert_eq!(hint_slice(&data).len(), 7);
    let back: Vec<&u32> = hint_slice(&data).rev().take(2).collect();
    assert_eq!(back.len(), 2);
    let h = stage_named("hint_slice");
    assert_eq!((h.records_out, h.exhausted, h.dropped_early), (2, 0, 2));
}

#[stage]
fn array_stage(records: [u8; 16]) -> [u8; 16] {
    records
}

#[test]
fn arrays_count_their_length_on_any_thread() {
    let h = std::thread::spawn(|| array_stage([9; 16]).len());
    assert_eq!(h.join().unwrap(), 16);
    let a = stage_named("array_stage");
    assert_eq!((a.records_in, a.records_out), (16, 16));
}
