//! Parameter checks shared by the steps' [`StepConfig::validate`](crate::StepConfig::validate).
//!
//! A recipe value that cannot be right (a fraction of 7, a negative ratio, a minimum above its
//! maximum) would otherwise run to the end and reject every document, or none. Each check
//! returns an [`Error::Config`] whose message starts with the parameter's name in backticks
//! (`` `line_punct_thr` = 7 must be within [0, 1] ``): the recipe loader looks for the
//! backticked names, in order, to point the error at the line that sets one of them.

use std::fmt::Display;
use std::ops::RangeInclusive;

use crate::{Error, Result};

/// `v` must be a fraction: a number within [0, 1] (not NaN).
pub fn check_fraction(step: &str, key: &str, v: f64) -> Result<()> {
    check_range(step, key, v, 0.0..=1.0)
}

/// `v` must be a finite number, at least 0 (a ratio that may exceed 1, such as "per word").
pub fn check_non_negative(step: &str, key: &str, v: f64) -> Result<()> {
    if v.is_finite() && v >= 0.0 {
        Ok(())
    } else {
        Err(Error::config(
            step,
            format!("`{key}` = {v} must be a finite number, at least 0"),
        ))
    }
}

/// `v` must be within `range` (inclusive; a NaN is never within).
pub fn check_range<T: PartialOrd + Display>(
    step: &str,
    key: &str,
    v: T,
    range: RangeInclusive<T>,
) -> Result<()> {
    if range.contains(&v) {
        Ok(())
    } else {
        Err(Error::config(
            step,
            format!(
                "`{key}` = {v} must be within [{}, {}]",
                range.start(),
                range.end()
            ),
        ))
    }
}

/// `v` must be at least `min` (a count or a length where less makes no sense).
pub fn check_at_least<T: PartialOrd + Display>(step: &str, key: &str, v: T, min: T) -> Result<()> {
    if v >= min {
        Ok(())
    } else {
        Err(Error::config(
            step,
            format!("`{key}` = {v} must be at least {min}"),
        ))
    }
}

/// The lower bound `lo` of a quantity must not be above its upper bound `hi`: no document
/// could pass both. Callers skip the check when a bound is switched off (0 or -1 in the
/// reference tools' conventions).
pub fn check_min_max<T: PartialOrd + Display>(
    step: &str,
    lo_key: &str,
    lo: T,
    hi_key: &str,
    hi: T,
) -> Result<()> {
    if lo <= hi {
        Ok(())
    } else {
        Err(Error::config(
            step,
            format!("`{lo_key}` = {lo} is above `{hi_key}` = {hi}: no document could pass both"),
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn message(r: Result<()>) -> String {
        match r {
            Err(Error::Config { message, .. }) => message,
            other => panic!("expected a config error, got {other:?}"),
        }
    }

    #[test]
    fn fractions() {
        assert!(check_fraction("s", "f", 0.0).is_ok());
        assert!(check_fraction("s", "f", 1.0).is_ok());
        assert_eq!(
            message(check_fraction("s", "line_punct_thr", 7.0)),
            "`line_punct_thr` = 7 must be within [0, 1]"
        );
        assert!(check_fraction("s", "f", -0.1).is_err());
        assert!(check_fraction("s", "f", f64::NAN).is_err());
    }

    #[test]
    fn non_negative_and_at_least() {
        assert!(check_non_negative("s", "r", 3.5).is_ok());
        assert!(check_non_negative("s", "r", -0.5).is_err());
        assert!(check_non_negative("s", "r", f64::INFINITY).is_err());
        assert!(check_at_least("s", "n", 1usize, 1).is_ok());
        assert_eq!(
            message(check_at_least("s", "n", 0usize, 1)),
            "`n` = 0 must be at least 1"
        );
    }

    #[test]
    fn min_above_max() {
        assert!(check_min_max("s", "min_x", 3, "max_x", 3).is_ok());
        assert_eq!(
            message(check_min_max("s", "min_x", 5, "max_x", 3)),
            "`min_x` = 5 is above `max_x` = 3: no document could pass both"
        );
    }
}
