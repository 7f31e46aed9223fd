//! Loss surfaces of two variables, small enough to draw: Himmelblau's function with
//! its four minima, a saddle with a floor, and an ill-conditioned quadratic. Each has
//! its gradient written out by hand (and checked against finite differences in the
//! tests), so that gradient descent on them needs nothing but the optimizer.

/// A function of a point `[x, y]` with a hand-written gradient.
pub trait Surface {
    /// A short name for tables and legends.
    fn name(&self) -> String;
    /// The formula, for figure titles.
    fn formula(&self) -> String;
    fn value(&self, p: [f32; 2]) -> f32;
    fn gradient(&self, p: [f32; 2]) -> [f32; 2];
}

// ANCHOR: himmelblau
/// Himmelblau's function f(x, y) = (x² + y − 11)² + (x + y² − 7)²: a sum of two
/// squares that are both zero at four points, so it has four minima, all with f = 0.
#[derive(Debug, Clone, Copy, Default)]
pub struct Himmelblau;

impl Surface for Himmelblau {
    fn value(&self, [x, y]: [f32; 2]) -> f32 {
        let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
        a * a + b * b
    }

    /// With a = x² + y − 11 and b = x + y² − 7: ∂f/∂x = 2a·2x + 2b, ∂f/∂y = 2a + 2b·2y.
    fn gradient(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        let (a, b) = (x * x + y - 11.0, x + y * y - 7.0);
        [4.0 * x * a + 2.0 * b, 2.0 * a + 4.0 * y * b]
    }

    fn name(&self) -> String {
        "Himmelblau".into()
    }

    fn formula(&self) -> String {
        "f(x, y) = (x² + y − 11)² + (x + y² − 7)²".into()
    }
}
// ANCHOR_END: himmelblau

impl Himmelblau {
    /// The four minima (to six decimals; all four have f = 0).
    pub const MINIMA: [[f32; 2]; 4] =
        [[3.0, 2.0], [-2.805_118, 3.131_312], [-3.779_31, -3.283_186], [3.584_428, -1.848_126]];

    /// The one local maximum, between the four minima, where f ≈ 181.6.
    pub const MAXIMUM: [f32; 2] = [-0.270_845, -0.923_039];
}

// ANCHOR: saddle
/// f(x, y) = x² − y² + y⁴/4: the textbook saddle x² − y² at the origin, with a
/// quartic term that gives it a floor, so that descent leaving the saddle ends in one
/// of two minima, (0, ±√2) with f = −1, instead of running off to −∞.
#[derive(Debug, Clone, Copy, Default)]
pub struct Saddle;

impl Surface for Saddle {
    fn value(&self, [x, y]: [f32; 2]) -> f32 {
        x * x - y * y + 0.25 * y.powi(4)
    }

    /// ∂f/∂x = 2x; ∂f/∂y = −2y + y³, which is 0 at y = 0 (the saddle) and y = ±√2.
    fn gradient(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [2.0 * x, -2.0 * y + y.powi(3)]
    }

    fn name(&self) -> String {
        "saddle".into()
    }

    fn formula(&self) -> String {
        "f(x, y) = x² − y² + y⁴/4".into()
    }
}
// ANCHOR_END: saddle

impl Saddle {
    /// The minimum with y > 0 (the other is its mirror image).
    pub const MINIMUM: [f32; 2] = [0.0, std::f32::consts::SQRT_2];
}

// ANCHOR: quadratic
/// f(x, y) = a·x² + b·y²: a bowl whose curvature differs by b/a between the two
/// directions (its condition number). Gradient descent must take steps small enough
/// for the steep direction, and then crawls along the flat one.
#[derive(Debug, Clone, Copy)]
pub struct Quadratic {
    pub a: f32,
    pub b: f32,
}

impl Surface for Quadratic {
    fn value(&self, [x, y]: [f32; 2]) -> f32 {
        self.a * x * x + self.b * y * y
    }

    fn gradient(&self, [x, y]: [f32; 2]) -> [f32; 2] {
        [2.0 * self.a * x, 2.0 * self.b * y]
    }

    fn name(&self) -> String {
        "quadratic".into()
    }

    fn formula(&self) -> String {
        format!("f(x, y) = {}·x² + {}·y²", self.a, self.b)
    }
}
// ANCHOR_END: quadratic

impl Default for Quadratic {
    /// d2l's ill-conditioned example, 0.1·x² + 2·y² (condition number 20).
    fn default() -> Self {
        Quadratic { a: 0.1, b: 2.0 }
    }
}
