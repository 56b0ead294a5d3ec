//! Sums a comma-separated list of integers: `parse` reads it, `render`
//! writes the sum. Each test reaches known code, for per-test attribution.

mod parse;
mod render;

pub use parse::parse;
pub use render::render;

/// How many comma-separated fields `input` has (reached only by its doctest).
///
/// ```
/// assert_eq!(attribution::fields("1,2,3"), 3);
/// ```
pub fn fields(input: &str) -> usize {
    input.split(',').count()
}
