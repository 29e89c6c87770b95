//! An sRGB ICC profile (version 2, matrix/TRC display class), made in code so
//! the PDF/A output intent needs no profile file on the worker's image. Its
//! numbers are IEC 61966-2-1's primaries adapted to the D50 connection space
//! (Bradford) and the sRGB transfer curve sampled at 1024 points.

/// sRGB primaries (columns of the RGB → XYZ matrix), D50-adapted.
const RED: [f64; 3] = [0.436_074_7, 0.222_504_5, 0.013_932_2];
const GREEN: [f64; 3] = [0.385_064_9, 0.716_878_6, 0.097_104_5];
const BLUE: [f64; 3] = [0.143_080_4, 0.060_616_9, 0.714_173_3];
const D50: [f64; 3] = [0.964_2, 1.0, 0.824_9];
const CURVE_POINTS: usize = 1024;

pub const DESCRIPTION: &str = "sRGB IEC61966-2.1";

/// The profile's bytes.
pub fn srgb() -> Vec<u8> {
    let curve = curve();
    // Tags in the order they are laid out; the three TRCs share one curve.
    let data: [(&[u8; 4], Vec<u8>); 7] = [
        (b"desc", description(DESCRIPTION)),
        (b"cprt", text("No copyright, use freely")),
        (b"wtpt", xyz(D50)),
        (b"rXYZ", xyz(RED)),
        (b"gXYZ", xyz(GREEN)),
        (b"bXYZ", xyz(BLUE)),
        (b"rTRC", curve),
    ];
    let shared_trc = [b"gTRC", b"bTRC"];
    let tag_count = data.len() + shared_trc.len();
    let mut offset = 128 + 4 + 12 * tag_count;
    let mut table = Vec::new();
    let mut body = Vec::new();
    let mut trc = (0, 0);
    for (signature, bytes) in &data {
        table.extend_from_slice(*signature);
        table.extend_from_slice(&u32_be(offset));
        table.extend_from_slice(&u32_be(bytes.len()));
        if *signature == b"rTRC" {
            trc = (offset, bytes.len());
        }
        body.extend_from_slice(bytes);
        // Every tag starts on a 4-byte boundary.
        while body.len() % 4 != 0 {
            body.push(0);
        }
        offset = 128 + 4 + 12 * tag_count + body.len();
    }
    for signature in shared_trc {
        table.extend_from_slice(signature);
        table.extend_from_slice(&u32_be(trc.0));
        table.extend_from_slice(&u32_be(trc.1));
    }
    let size = 128 + 4 + table.len() + body.len();
    let mut out = header(size);
    out.extend_from_slice(&u32_be(tag_count));
    out.extend_from_slice(&table);
    out.extend_from_slice(&body);
    out
}

fn header(size: usize) -> Vec<u8> {
    let mut h = Vec::with_capacity(size);
    h.extend_from_slice(&u32_be(size));
    h.extend_from_slice(&[0; 4]); // preferred CMM: none
    h.extend_from_slice(&[0x02, 0x10, 0, 0]); // version 2.1
    h.extend_from_slice(b"mntr");
    h.extend_from_slice(b"RGB ");
    h.extend_from_slice(b"XYZ ");
    for part in [2026u16, 1, 1, 0, 0, 0] {
        h.extend_from_slice(&part.to_be_bytes());
    }
    h.extend_from_slice(b"acsp");
    // Platform, flags, manufacturer, model (4 bytes each), attributes (8).
    h.extend_from_slice(&[0; 24]);
    h.extend_from_slice(&[0; 4]); // perceptual rendering intent
    for v in D50 {
        h.extend_from_slice(&s15_fixed16(v));
    }
    h.extend_from_slice(&[0; 4]); // creator
    h.resize(128, 0);
    h
}

fn description(ascii: &str) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"desc");
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(&u32_be(ascii.len() + 1));
    t.extend_from_slice(ascii.as_bytes());
    t.push(0);
    // No Unicode or ScriptCode descriptions: language, count, code, count, 67 bytes.
    t.extend_from_slice(&[0; 4 + 4 + 2 + 1 + 67]);
    t
}

fn text(ascii: &str) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"text");
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(ascii.as_bytes());
    t.push(0);
    t
}

fn xyz(v: [f64; 3]) -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"XYZ ");
    t.extend_from_slice(&[0; 4]);
    for c in v {
        t.extend_from_slice(&s15_fixed16(c));
    }
    t
}

fn curve() -> Vec<u8> {
    let mut t = Vec::new();
    t.extend_from_slice(b"curv");
    t.extend_from_slice(&[0; 4]);
    t.extend_from_slice(&u32_be(CURVE_POINTS));
    for i in 0..CURVE_POINTS {
        let v = i as f64 / (CURVE_POINTS - 1) as f64;
        let linear = if v <= 0.040_45 {
            v / 12.92
        } else {
            ((v + 0.055) / 1.055).powf(2.4)
        };
        t.extend_from_slice(&((linear * 65535.0).round() as u16).to_be_bytes());
    }
    t
}

fn s15_fixed16(v: f64) -> [u8; 4] {
    ((v * 65536.0).round() as i32).to_be_bytes()
}

fn u32_be(v: usize) -> [u8; 4] {
    (v as u32).to_be_bytes()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn be32(b: &[u8], at: usize) -> usize {
        u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]]) as usize
    }

    #[test]
    fn the_profile_is_a_well_formed_rgb_display_profile() {
        let p = srgb();
        assert_eq!(be32(&p, 0), p.len(), "size field");
        assert_eq!(&p[12..24], b"mntrRGB XYZ ");
        assert_eq!(&p[36..40], b"acsp");
        let count = be32(&p, 128);
        assert_eq!(count, 9);
        for i in 0..count {
            let entry = 132 + 12 * i;
            let (offset, size) = (be32(&p, entry + 4), be32(&p, entry + 8));
            assert_eq!(offset % 4, 0, "tag {i} is aligned");
            assert!(offset + size <= p.len(), "tag {i} lies inside the profile");
        }
        // The curve's ends are black and white, and its middle is sRGB's (0.5 → 0.214).
        let curve = p.windows(4).position(|w| w == b"curv").expect("curve");
        let point = |i: usize| u16::from_be_bytes([p[curve + 12 + 2 * i], p[curve + 13 + 2 * i]]);
        assert_eq!(point(0), 0);
        assert_eq!(point(CURVE_POINTS - 1), 65535);
        let mid = f64::from(point(CURVE_POINTS / 2)) / 65535.0;
        assert!((mid - 0.214).abs() < 0.002, "{mid}");
    }
}
