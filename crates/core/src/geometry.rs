//! Where a point of the image Tesseract read lies on the page as it was
//! uploaded. Preprocessing scales, turns and deskews a page; every step records
//! its inverse here, so word boxes and the searchable PDF's text layer land on
//! the original pixels whatever was done to the copy that was read.

use crate::results::BBox;

/// `x' = a·x + c·y + e`, `y' = b·x + d·y + f`: PDF's `cm` operand order.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Affine {
    pub a: f64,
    pub b: f64,
    pub c: f64,
    pub d: f64,
    pub e: f64,
    pub f: f64,
}

impl Default for Affine {
    fn default() -> Self {
        Self::IDENTITY
    }
}

impl Affine {
    pub const IDENTITY: Self = Self {
        a: 1.0,
        b: 0.0,
        c: 0.0,
        d: 1.0,
        e: 0.0,
        f: 0.0,
    };

    pub fn scale(sx: f64, sy: f64) -> Self {
        Self {
            a: sx,
            d: sy,
            ..Self::IDENTITY
        }
    }

    pub fn translate(x: f64, y: f64) -> Self {
        Self {
            e: x,
            f: y,
            ..Self::IDENTITY
        }
    }

    /// Rotation by `radians`, counter-clockwise in a y-up space (clockwise on a y-down image).
    pub fn rotate(radians: f64) -> Self {
        let (s, c) = radians.sin_cos();
        Self {
            a: c,
            b: s,
            c: -s,
            d: c,
            e: 0.0,
            f: 0.0,
        }
    }

    /// `self` first, then `next`.
    pub fn then(self, next: Self) -> Self {
        Self {
            a: self.a * next.a + self.b * next.c,
            b: self.a * next.b + self.b * next.d,
            c: self.c * next.a + self.d * next.c,
            d: self.c * next.b + self.d * next.d,
            e: self.e * next.a + self.f * next.c + next.e,
            f: self.e * next.b + self.f * next.d + next.f,
        }
    }

    pub fn apply(self, x: f64, y: f64) -> (f64, f64) {
        (
            self.a * x + self.c * y + self.e,
            self.b * x + self.d * y + self.f,
        )
    }

    /// The undoing transform; `None` for a degenerate (zero-area) one.
    pub fn invert(self) -> Option<Self> {
        let det = self.a * self.d - self.b * self.c;
        if det.abs() < 1e-12 {
            return None;
        }
        let (a, b, c, d) = (self.d / det, -self.b / det, -self.c / det, self.a / det);
        Some(Self {
            a,
            b,
            c,
            d,
            e: -(self.e * a + self.f * c),
            f: -(self.e * b + self.f * d),
        })
    }

    /// The axis-aligned box around the mapped corners of `bbox`, clamped to `width × height`.
    pub fn map_box(self, bbox: BBox, width: u32, height: u32) -> BBox {
        let (x0, y0) = (f64::from(bbox.x), f64::from(bbox.y));
        let (x1, y1) = (x0 + f64::from(bbox.width), y0 + f64::from(bbox.height));
        let corners = [(x0, y0), (x1, y0), (x0, y1), (x1, y1)].map(|(x, y)| self.apply(x, y));
        let clamp = |v: f64, max: u32| v.clamp(0.0, f64::from(max));
        let min_x = clamp(corners.iter().map(|p| p.0).fold(f64::MAX, f64::min), width);
        let max_x = clamp(corners.iter().map(|p| p.0).fold(f64::MIN, f64::max), width);
        let min_y = clamp(corners.iter().map(|p| p.1).fold(f64::MAX, f64::min), height);
        let max_y = clamp(corners.iter().map(|p| p.1).fold(f64::MIN, f64::max), height);
        BBox {
            x: min_x.floor() as u32,
            y: min_y.floor() as u32,
            width: (max_x.ceil() - min_x.floor()) as u32,
            height: (max_y.ceil() - min_y.floor()) as u32,
        }
    }
}

/// From the pixels of an image turned clockwise by `degrees` (0/90/180/270)
/// back to the pixels of the `width × height` image it was turned from.
pub fn unturn(degrees: u16, width: u32, height: u32) -> Affine {
    let (w, h) = (f64::from(width), f64::from(height));
    match degrees {
        // Turned 90° clockwise: (x, y) came from (y, h - x).
        90 => Affine {
            a: 0.0,
            b: -1.0,
            c: 1.0,
            d: 0.0,
            e: 0.0,
            f: h,
        },
        180 => Affine {
            a: -1.0,
            b: 0.0,
            c: 0.0,
            d: -1.0,
            e: w,
            f: h,
        },
        // Turned 270° clockwise: (x, y) came from (w - y, x).
        270 => Affine {
            a: 0.0,
            b: 1.0,
            c: -1.0,
            d: 0.0,
            e: w,
            f: 0.0,
        },
        _ => Affine::IDENTITY,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn close(p: (f64, f64), q: (f64, f64)) -> bool {
        (p.0 - q.0).abs() < 1e-9 && (p.1 - q.1).abs() < 1e-9
    }

    #[test]
    fn composes_and_inverts() {
        let m = Affine::scale(2.0, 3.0)
            .then(Affine::rotate(0.3))
            .then(Affine::translate(5.0, -7.0));
        let back = m
            .invert()
            .map(|i| i.apply(m.apply(11.0, 13.0).0, m.apply(11.0, 13.0).1));
        assert!(back.is_some_and(|p| close(p, (11.0, 13.0))), "{back:?}");
        assert_eq!(Affine::scale(0.0, 1.0).invert(), None);
    }

    #[test]
    fn unturning_finds_the_original_corner() {
        // A 100×50 image turned 90° clockwise is 50×100; its top-right corner
        // (50, 0) was the original's top-left (0, 0).
        assert!(close(unturn(90, 100, 50).apply(50.0, 0.0), (0.0, 0.0)));
        assert!(close(unturn(180, 100, 50).apply(0.0, 0.0), (100.0, 50.0)));
        // Turned 270°: the new top-left (0, 0) was the original's top-right.
        assert!(close(unturn(270, 100, 50).apply(0.0, 0.0), (100.0, 0.0)));
        let b = unturn(90, 100, 50).map_box(
            BBox {
                x: 40,
                y: 0,
                width: 10,
                height: 20,
            },
            100,
            50,
        );
        assert_eq!(
            b,
            BBox {
                x: 0,
                y: 0,
                width: 20,
                height: 10
            }
        );
    }
}
