pub fn helper(n: usize) -> usize {
    let mut total = 0;
    for i in 0..n {
        if i % 2 == 0 {
            total += i;
        }
    }
    total
}
