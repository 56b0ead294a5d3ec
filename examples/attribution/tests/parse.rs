//! Test A: reaches only `parse`, including its error path.

#[test]
fn parse_reads_integers_and_rejects_words() {
    assert_eq!(attribution::parse("1, 2,3"), Ok(vec![1, 2, 3]));
    assert_eq!(
        attribution::parse("1,x"),
        Err("not an integer: \"x\"".to_string())
    );
}
