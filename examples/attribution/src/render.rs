/// The numbers and their sum, as `1 + 2 + 3 = 6`.
pub fn render(numbers: &[i64]) -> String {
    let terms: Vec<String> = numbers.iter().map(|n| n.to_string()).collect();
    let total: i64 = numbers.iter().sum();
    format!("{} = {total}", terms.join(" + "))
}
