//! Reading variable values as numbers: shared by the poller (which decides which variables
//! count as numeric for descriptions) and the renderers, so neither depends on the other.

/// The value of a variable as a sample, if it is numeric. Like nut_exporter, on/off words
/// (`enabled`, `off`, …) count as 1 and 0. Hex, dates and text are not numbers.
pub fn numeric_value(value: &str) -> Option<f64> {
    let v = value.trim();
    const ON: &[&str] = &["enable", "enabled", "on", "true", "active", "activated"];
    const OFF: &[&str] = &[
        "disable",
        "disabled",
        "off",
        "false",
        "inactive",
        "deactivated",
    ];
    if ON.iter().any(|w| v.eq_ignore_ascii_case(w)) {
        return Some(1.0);
    }
    if OFF.iter().any(|w| v.eq_ignore_ascii_case(w)) {
        return Some(0.0);
    }
    let first = v.chars().next()?;
    if !(first.is_ascii_digit() || matches!(first, '-' | '+' | '.')) {
        return None;
    }
    // Rust would also accept "infinity" and "NaN" spellings after a sign; only plain decimals.
    if !v
        .chars()
        .all(|c| c.is_ascii_digit() || matches!(c, '-' | '+' | '.' | 'e' | 'E'))
    {
        return None;
    }
    v.parse::<f64>().ok().filter(|x| x.is_finite())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_words() {
        assert_eq!(numeric_value(" 230.5 "), Some(230.5));
        assert_eq!(numeric_value("-3"), Some(-3.0));
        assert_eq!(numeric_value("Enabled"), Some(1.0));
        assert_eq!(numeric_value("off"), Some(0.0));
        for text in [
            "OL",
            "0x1F",
            "2024-01-01",
            "inf",
            "-infinity",
            "NaN",
            "",
            "1.2.3",
        ] {
            assert_eq!(numeric_value(text), None, "{text}");
        }
    }
}
