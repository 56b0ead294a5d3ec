/// The integers of a comma-separated list such as `"1, 2,3"`.
pub fn parse(input: &str) -> Result<Vec<i64>, String> {
    let mut numbers = Vec::new();
    for field in input.split(',') {
        let field = field.trim();
        match field.parse::<i64>() {
            Ok(number) => numbers.push(number),
            Err(_) => {
                return Err(format!("not an integer: {field:?}"));
            }
        }
    }
    Ok(numbers)
}
