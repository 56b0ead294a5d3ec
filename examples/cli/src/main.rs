//! `cli`: a small command-line tool. Each subcommand takes its own code path,
//! so what a run executes depends on its arguments.

use std::fmt;
use std::process::ExitCode;

const USAGE: &str = "usage: cli <command> [args...]

commands:
  words <text...>     count words and characters
  reverse <text...>   print the text reversed
  fib <n>             print the n-th Fibonacci number
  classify <int...>   say whether each integer is negative, zero, small or large
  sum <int...>        add integers
  exit <code>         exit with the given status code
  panic               panic with a message
  help                show this help
";

/// A failed command: the message goes to stderr and `code` becomes the exit status.
#[derive(Debug, PartialEq)]
struct CliError {
    code: u8,
    message: String,
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

/// `fail!(code, "fmt", args...)` builds a `CliError` without repeating `format!`.
macro_rules! fail {
    ($code:expr, $($arg:tt)*) => {
        CliError { code: $code, message: format!($($arg)*) }
    };
}

/// What a command prints on success; every command's result renders the same way.
trait Report {
    fn lines(&self) -> Vec<String>;

    fn render(&self) -> String {
        self.lines().into_iter().map(|l| l + "\n").collect()
    }
}

struct WordStats {
    words: usize,
    chars: usize,
    longest: Option<String>,
}

impl Report for WordStats {
    fn lines(&self) -> Vec<String> {
        let mut lines = vec![
            format!("words: {}", self.words),
            format!("chars: {}", self.chars),
        ];
        if let Some(word) = &self.longest {
            lines.push(format!("longest: {word}"));
        }
        lines
    }
}

#[derive(Debug, Clone, Copy, PartialEq)]
enum Class {
    Negative,
    Zero,
    Small,
    Large,
    Huge,
}

struct Classified(Vec<(i64, Class)>);

impl Report for Classified {
    fn lines(&self) -> Vec<String> {
        self.0
            .iter()
            .map(|(n, class)| format!("{n}: {}", format!("{class:?}").to_lowercase()))
            .collect()
    }
}

fn word_stats(text: &str) -> WordStats {
    let words: Vec<&str> = text.split_whitespace().collect();
    // Count chars, not bytes, so non-ASCII text is measured the way people read it.
    // `max_by_key` keeps the last maximum; reversing first keeps the first one.
    let longest = words.iter().rev().max_by_key(|w| w.chars().count());
    WordStats {
        words: words.len(),
        chars: text.chars().count(),
        longest: longest.map(|w| w.to_string()),
    }
}

fn classify(n: i64) -> Class {
    if n < 0 {
        Class::Negative
    } else if n == 0 {
        Class::Zero
    } else if n < 100 {
        Class::Small
    } else if n < 1_000_000_000_000 {
        Class::Large
    } else {
        Class::Huge
    }
}

/// Fibonacci in any integer type, given that type's checked addition;
/// `None` when F(n) does not fit.
fn fibonacci<T: Copy>(n: u32, zero: T, one: T, add: impl Fn(T, T) -> Option<T>) -> Option<T> {
    if n == 0 {
        return Some(zero);
    }
    // (a, b) = (F(i-1), F(i)), starting at i = 1.
    let (mut a, mut b) = (zero, one);
    for _ in 1..n {
        let next = add(a, b)?;
        a = b;
        b = next;
    }
    Some(b)
}

/// Tries u64 first and only falls back to u128 for large `n`.
fn fib(n: u32) -> Result<String, CliError> {
    if let Some(v) = fibonacci(n, 0u64, 1, u64::checked_add) {
        return Ok(v.to_string());
    }
    fibonacci(n, 0u128, 1, u128::checked_add)
        .map(|v| v.to_string())
        .ok_or_else(|| fail!(2, "fib: F({n}) does not fit in 128 bits"))
}

fn parse_ints(args: &[String]) -> Result<Vec<i64>, CliError> {
    args.iter()
        .map(|a| {
            a.parse::<i64>()
                .map_err(|_| fail!(2, "not an integer: '{a}'"))
        })
        .collect()
}

fn run(args: &[String]) -> Result<String, CliError> {
    let Some((cmd, rest)) = args.split_first() else {
        return Ok(USAGE.to_string());
    };
    match cmd.as_str() {
        "help" | "--help" | "-h" => Ok(USAGE.to_string()),
        "words" => Ok(word_stats(&rest.join(" ")).render()),
        "reverse" => {
            if rest.is_empty() {
                return Err(fail!(2, "reverse: missing text"));
            }
            Ok(rest.join(" ").chars().rev().collect::<String>() + "\n")
        }
        "fib" => {
            let [n] = rest else {
                return Err(fail!(2, "fib: expected exactly one argument"));
            };
            let n: u32 = n.parse().map_err(|_| fail!(2, "fib: bad number '{n}'"))?;
            Ok(fib(n)? + "\n")
        }
        "classify" => {
            let nums = parse_ints(rest)?;
            Ok(Classified(nums.into_iter().map(|n| (n, classify(n))).collect()).render())
        }
        "sum" => {
            let total = parse_ints(rest)?
                .into_iter()
                .try_fold(0i64, i64::checked_add)
                .ok_or_else(|| fail!(2, "sum: overflow"))?;
            Ok(format!("{total}\n"))
        }
        "exit" => {
            let code = rest.first().map(String::as_str).unwrap_or("0");
            let code: i32 = code
                .parse()
                .map_err(|_| fail!(2, "exit: bad code '{code}'"))?;
            // Leaves without unwinding or returning from main, on purpose.
            std::process::exit(code)
        }
        "panic" => panic!("cli: panic requested by the user"),
        other => Err(fail!(1, "unknown command '{other}'\n{USAGE}")),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(out) => {
            print!("{out}");
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("cli: {err}");
            ExitCode::from(err.code)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn args(list: &[&str]) -> Vec<String> {
        list.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn words_counts_words_and_chars() {
        let out = run(&args(&["words", "héllo", "big world"])).unwrap();
        assert_eq!(out, "words: 3\nchars: 15\nlongest: héllo\n");
    }

    #[test]
    fn fibonacci_small_and_large() {
        assert_eq!(fib(0).unwrap(), "0");
        assert_eq!(fib(10).unwrap(), "55");
        assert_eq!(fib(93).unwrap(), "12200160415121876738");
        assert_eq!(fib(100).unwrap(), "354224848179261915075");
        assert_eq!(fib(500).unwrap_err().code, 2);
    }

    #[test]
    fn classify_covers_ranges() {
        assert_eq!(classify(-5), Class::Negative);
        assert_eq!(classify(0), Class::Zero);
        assert_eq!(classify(7), Class::Small);
        assert_eq!(classify(1000), Class::Large);
    }

    #[test]
    fn sum_reports_bad_integers() {
        assert_eq!(run(&args(&["sum", "1", "2", "3"])).unwrap(), "6\n");
        let err = run(&args(&["sum", "1", "x"])).unwrap_err();
        assert_eq!(err, fail!(2, "not an integer: 'x'"));
    }

    #[test]
    fn unknown_command_is_exit_1() {
        assert_eq!(run(&args(&["frobnicate"])).unwrap_err().code, 1);
        assert_eq!(run(&[]).unwrap(), USAGE);
    }
}
