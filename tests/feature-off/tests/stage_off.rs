//! With the `enable` feature off, `#[stage]` returns the function untouched (`#[input]` markers
//! removed): same types, same results, nothing recorded.

use pipelinescope::stage;

#[stage("off_filter")]
fn filter(input: impl Iterator<Item = u32>) -> impl Iterator<Item = u32> {
    input.filter(|x| x % 2 == 0)
}

#[stage]
fn eager(records: &[u32]) -> Vec<u32> {
    records.iter().map(|x| x + 1).collect()
}

#[stage(name = "off_concrete")]
fn concrete(v: &[u32]) -> std::slice::Iter<'_, u32> {
    v.iter()
}

#[stage("off_marked")]
fn marked(#[input] words: Vec<String>) -> impl Iterator<Item = String> {
    words.into_iter()
}

#[test]
fn stages_are_untouched_without_the_feature() {
    let kept: Vec<u32> = filter(0..10).collect();
    assert_eq!(kept, vec![0, 2, 4, 6, 8]);
    assert_eq!(eager(&kept), vec![1, 3, 5, 7, 9]);
    assert_eq!(concrete(&kept).count(), 5);
    assert_eq!(marked(vec!["a".into()]).count(), 1);
    let p = pipelinescope::snapshot();
    assert!(p.stages.is_empty() && p.pipeline_edges.is_empty());
}
