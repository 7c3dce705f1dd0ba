//! Which line is slow: the Julia set of "High Performance Python" (`calc_pure_python` and
//! `calculate_z_serial_purepython`, a 1000 x 1000 grid, 300 iterations), each function
//! annotated `#[profile(lines)]`. Then `pipelinescope lines` prints, as `kernprof -l -v` does,
//! every line with its hits and time: the inner `while` loop holds the time.
//!
//! `cargo run --release -p pipelinescope-examples --bin lines && pipelinescope lines`

use pipelinescope::profile;

/// Area of complex space to investigate.
const X1: f64 = -1.8;
const X2: f64 = 1.8;
const Y1: f64 = -1.8;
const Y2: f64 = 1.8;
const C_REAL: f64 = -0.62772;
const C_IMAG: f64 = -0.42193;

/// A complex number with Python's arithmetic, so the iteration counts match the book's.
#[derive(Clone, Copy)]
struct Complex {
    re: f64,
    im: f64,
}

impl Complex {
    fn abs(self) -> f64 {
        self.re.hypot(self.im)
    }

    fn square_plus(self, c: Complex) -> Complex {
        Complex {
            re: self.re * self.re - self.im * self.im + c.re,
            im: self.re * self.im + self.im * self.re + c.im,
        }
    }
}

/// Calculates the output list using the Julia update rule.
#[profile(lines)]
fn calculate_z_serial_purepython(maxiter: u32, zs: &[Complex], cs: &[Complex]) -> Vec<u32> {
    let mut output = vec![0; zs.len()];
    for i in 0..zs.len() {
        let mut n = 0;
        let mut z = zs[i];
        let c = cs[i];
        while z.abs() < 2.0 && n < maxiter {
            z = z.square_plus(c);
            n += 1;
        }
        output[i] = n;
    }
    output
}

/// Creates a list of complex coordinates (zs) and complex parameters (cs), builds the Julia
/// set and checks its sum.
#[profile(lines)]
fn calc_pure_python(desired_width: u32, max_iterations: u32) -> u64 {
    let x_step = (X2 - X1) / desired_width as f64;
    let y_step = (Y1 - Y2) / desired_width as f64;
    let mut x = Vec::new();
    let mut y = Vec::new();
    let mut ycoord = Y2;
    while ycoord > Y1 {
        y.push(ycoord);
        ycoord += y_step;
    }
    let mut xcoord = X1;
    while xcoord < X2 {
        x.push(xcoord);
        xcoord += x_step;
    }
    // The initial condition is a constant and could be removed; it stands for a real-world
    // input per cell.
    let mut zs = Vec::with_capacity(x.len() * y.len());
    let mut cs = Vec::with_capacity(x.len() * y.len());
    for &ycoord in &y {
        for &xcoord in &x {
            zs.push(Complex {
                re: xcoord,
                im: ycoord,
            });
            cs.push(Complex {
                re: C_REAL,
                im: C_IMAG,
            });
        }
    }
    println!("Length of x: {}", x.len());
    println!("Total elements: {}", zs.len());
    let output = calculate_z_serial_purepython(max_iterations, &zs, &cs);
    let sum: u64 = output.iter().map(|&n| u64::from(n)).sum();
    // This sum is expected for a 1000^2 grid with 300 iterations: the code evolves exactly as
    // intended.
    assert_eq!(sum, 33_219_980);
    sum
}

fn main() {
    let run = pipelinescope::start();
    let sum = calc_pure_python(1000, 300);
    println!("sum of the output: {sum}");
    // The inner `while` loop (its condition and its two statements) holds most of the time.
    let p = pipelinescope::snapshot();
    if let Some(t) = p
        .lines
        .iter()
        .find(|t| t.function == "calculate_z_serial_purepython")
    {
        let inner: u64 = t
            .lines
            .iter()
            .filter(|l| {
                t.source_line(l.line).is_some_and(|s| {
                    s.contains("while z.abs()") || s.contains("square_plus") || s.contains("n += 1")
                })
            })
            .map(|l| l.time_ns)
            .sum();
        let share = inner as f64 / t.total_ns.max(1) as f64;
        println!(
            "inner loop: {:.1}% of calculate_z_serial_purepython",
            share * 100.0
        );
        assert!(share > 0.5, "the inner loop should be the hot lines");
    }
    drop(run);
}
