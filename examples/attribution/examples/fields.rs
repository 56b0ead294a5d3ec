//! `cargo run --example fields -- a,b,c` prints 3: an example reaching only `fields`.

fn main() {
    let input = std::env::args().nth(1).unwrap_or_default();
    println!("{}", attribution::fields(&input));
}
