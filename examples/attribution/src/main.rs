//! `attribution 1,2,3` prints `1 + 2 + 3 = 6`; a bad list exits 2.

fn main() {
    let input = std::env::args().nth(1).unwrap_or_default();
    match attribution::parse(&input) {
        Ok(numbers) => println!("{}", attribution::render(&numbers)),
        Err(message) => {
            eprintln!("attribution: {message}");
            std::process::exit(2);
        }
    }
}
