//! Embed colours by name: the nearest of Discord's palette, so `0x57F287` reads "green".

/// The named colours, Discord's brand palette first, then the classic embed colours.
const PALETTE: &[(&str, u32)] = &[
    ("blurple", 0x5865F2),
    ("green", 0x57F287),
    ("yellow", 0xFEE75C),
    ("fuchsia", 0xEB459E),
    ("red", 0xED4245),
    ("white", 0xFFFFFF),
    ("black", 0x000000),
    ("blue", 0x3498DB),
    ("dark blue", 0x206694),
    ("green", 0x2ECC71),
    ("dark green", 0x1F8B4C),
    ("teal", 0x1ABC9C),
    ("dark teal", 0x11806A),
    ("purple", 0x9B59B6),
    ("dark purple", 0x71368A),
    ("magenta", 0xE91E63),
    ("gold", 0xF1C40F),
    ("orange", 0xE67E22),
    ("dark orange", 0xA84300),
    ("red", 0xE74C3C),
    ("dark red", 0x992D22),
    ("grey", 0x95A5A6),
    ("dark grey", 0x607D8B),
    ("blurple", 0x7289DA),
    ("red", 0xFF0000),
    ("green", 0x00FF00),
    ("blue", 0x0000FF),
    ("yellow", 0xFFFF00),
    ("orange", 0xFFA500),
    ("cyan", 0x00FFFF),
    ("pink", 0xFFC0CB),
    ("brown", 0x8B4513),
    ("navy", 0x000080),
];

fn rgb(colour: u32) -> (i64, i64, i64) {
    (
        i64::from((colour >> 16) & 0xFF),
        i64::from((colour >> 8) & 0xFF),
        i64::from(colour & 0xFF),
    )
}

/// A perceptual distance ("redmean"): plain RGB distance weighted by how the eye sees red and
/// blue at the two colours' mean red level. Scaled by 256 to stay in integers.
fn distance(a: u32, b: u32) -> i64 {
    let ((r1, g1, b1), (r2, g2, b2)) = (rgb(a), rgb(b));
    let mean_red = (r1 + r2) / 2;
    let (dr, dg, db) = (r1 - r2, g1 - g2, b1 - b2);
    (512 + mean_red) * dr * dr + 1024 * dg * dg + (767 - mean_red) * db * db
}

/// The name of the palette colour nearest to `colour` (`0xRRGGBB`).
pub fn colour_name(colour: u32) -> &'static str {
    PALETTE
        .iter()
        .min_by_key(|(_, value)| distance(colour & 0xFF_FFFF, *value))
        .map_or("black", |(name, _)| name)
}

/// `colour` as shown in the console: its name and its hex, e.g. `green #57f287`.
pub fn describe_colour(colour: u32) -> String {
    format!("{} #{:06x}", colour_name(colour), colour & 0xFF_FFFF)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn palette_colours_name_themselves() {
        for (name, value) in PALETTE {
            assert_eq!(colour_name(*value), *name, "{value:06x}");
        }
    }

    #[test]
    fn near_colours_take_the_nearest_name() {
        assert_eq!(colour_name(0x43B581), "green"); // the old "online" green
        assert_eq!(colour_name(0xF04747), "red"); // the old "dnd" red
        assert_eq!(colour_name(0x5865F0), "blurple");
        assert_eq!(colour_name(0xFAA61A), "orange");
        assert_eq!(colour_name(0x0A0A0A), "black");
        assert_eq!(colour_name(0xFAFAFA), "white");
    }

    #[test]
    fn description_carries_the_hex() {
        assert_eq!(describe_colour(0x57F287), "green #57f287");
        assert_eq!(describe_colour(0xFF00_0000 | 0xED4245), "red #ed4245");
    }
}
