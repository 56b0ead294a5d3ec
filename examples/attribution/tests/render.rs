//! Test B: reaches only `render`.

#[test]
fn render_writes_the_sum() {
    assert_eq!(attribution::render(&[1, 2, 3]), "1 + 2 + 3 = 6");
}
