mod util;

macro_rules! square {
    ($x:expr) => {
        $x * $x
    };
}

trait Shape {
    fn area(&self) -> f64;
    fn name(&self) -> String {
        "shape".to_string()
    }
}

struct Sq(f64);
struct Circle(f64);

impl Shape for Sq {
    fn area(&self) -> f64 {
        square!(self.0)
    }
}

impl Shape for Circle {
    fn area(&self) -> f64 {
        3.0 * square!(self.0)
    }
    fn name(&self) -> String {
        "circle".into()
    }
}

fn classify(n: i32) -> &'static str {
    if n < 0 {
        "negative"
    } else if n == 0 {
        "zero"
    } else {
        "positive"
    }
}

fn show<T: std::fmt::Debug>(t: T) -> String {
    format!("{:?}", t)
}

#[allow(dead_code)]
fn never_called() -> i32 {
    42
}

#[allow(dead_code)]
fn generic_never<T: Default>() -> T {
    T::default()
}

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let add = |a: i32, b: i32| a + b;
    let nums: Vec<i32> = args
        .iter()
        .map(|a| a.parse().unwrap_or(0))
        .filter(|n| *n != 7)
        .collect();
    for n in &nums {
        println!("{} {}", classify(*n), add(*n, 1));
    }
    println!("{}", show(nums.len()));
    println!("{}", show("x"));
    let shapes: Vec<Box<dyn Shape>> = vec![Box::new(Sq(2.0)), Box::new(Circle(1.0))];
    for s in &shapes {
        println!("{} {}", s.name(), s.area());
    }
    let _unused = |x: i32| x * 2;
    match nums.len() {
        0 => println!("none"),
        1 => println!("one"),
        _ => println!("many"),
    }
    println!("{}", util::helper(nums.len()));
}
