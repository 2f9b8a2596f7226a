//! Cron schedules for [`Registrar::cron`](crate::Registrar::cron) (plugin-api 1.3): the five
//! fields of cron — minute, hour, day of month, month, day of week — in UTC.
//!
//! Each field takes `*`, a number, a range `a-b`, a list `a,b,c`, a step `*/n` or `a-b/n`;
//! months and days of the week also take names (`jan`, `mon`); Sunday is 0 or 7. As in classic
//! cron, when both the day of month and the day of week are restricted, a day matching either
//! runs.
//!
//! ```
//! use zoryx_plugin_api::Cron;
//!
//! let weekdays_at_nine = Cron::parse("0 9 * * mon-fri").unwrap();
//! // 2026-11-30 is a Monday; 08:00 UTC → 09:00 UTC the same day.
//! let monday_8am = 1_795_996_800 + 8 * 3600;
//! assert_eq!(weekdays_at_nine.next_after(monday_8am), Some(monday_8am + 3600));
//! assert!(Cron::parse("61 * * * *").expect_err("refused").contains("minute"));
//! ```

use std::fmt;

/// A parsed cron expression.
#[derive(Clone, PartialEq, Eq)]
pub struct Cron {
    text: String,
    minutes: u64,
    hours: u32,
    days: u32,
    months: u16,
    weekdays: u8,
    any_day: bool,
    any_weekday: bool,
}

impl fmt::Debug for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Cron({:?})", self.text)
    }
}

impl fmt::Display for Cron {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.text)
    }
}

const MONTHS: [&str; 12] = [
    "jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec",
];
const WEEKDAYS: [&str; 7] = ["sun", "mon", "tue", "wed", "thu", "fri", "sat"];

/// The bits of one field, or why it does not parse.
fn field(text: &str, what: &str, min: u32, max: u32, names: &[&str]) -> Result<u64, String> {
    let value = |part: &str| -> Result<u32, String> {
        if let Some(i) = names.iter().position(|n| n.eq_ignore_ascii_case(part)) {
            return Ok(min + u32::try_from(i).unwrap_or(0));
        }
        let n: u32 = part
            .parse()
            .map_err(|_| format!("{what}: `{part}` is not a number"))?;
        // Sunday as 7.
        let n = if what == "day of week" && n == 7 {
            0
        } else {
            n
        };
        if n < min || n > max {
            return Err(format!("{what}: {n} is outside {min}-{max}"));
        }
        Ok(n)
    };
    let mut bits = 0_u64;
    for item in text.split(',') {
        let (range, step) = match item.split_once('/') {
            Some((range, step)) => {
                let step: u32 = step
                    .parse()
                    .ok()
                    .filter(|s| *s > 0)
                    .ok_or_else(|| format!("{what}: `{step}` is not a step"))?;
                (range, step)
            }
            None => (item, 1),
        };
        let (low, high) = if range == "*" {
            (min, max)
        } else if let Some((a, b)) = range.split_once('-') {
            let (a, b) = (value(a)?, value(b)?);
            if a > b {
                return Err(format!("{what}: the range {range} runs backwards"));
            }
            (a, b)
        } else {
            let a = value(range)?;
            (a, if step > 1 { max } else { a })
        };
        let mut n = low;
        while n <= high {
            bits |= 1 << n;
            n += step;
        }
    }
    Ok(bits)
}

/// Days since 1970-01-01 → (year, month 1–12, day 1–31).
fn civil(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = u32::try_from(doy - (153 * mp + 2) / 5 + 1).unwrap_or(1);
    let month = u32::try_from(if mp < 10 { mp + 3 } else { mp - 9 }).unwrap_or(1);
    (yoe + era * 400 + i64::from(month <= 2), month, day)
}

impl Cron {
    /// Parses five fields; the error names the field that is wrong.
    pub fn parse(text: &str) -> Result<Self, String> {
        let fields: Vec<&str> = text.split_whitespace().collect();
        let [minute, hour, day, month, weekday] = fields.as_slice() else {
            return Err(format!(
                "`{text}` has {} fields; cron takes 5 (minute hour day-of-month month day-of-week)",
                fields.len()
            ));
        };
        Ok(Self {
            text: fields.join(" "),
            minutes: field(minute, "minute", 0, 59, &[])?,
            hours: u32::try_from(field(hour, "hour", 0, 23, &[])?).unwrap_or(0),
            days: u32::try_from(field(day, "day of month", 1, 31, &[])? >> 1).unwrap_or(0),
            months: u16::try_from(field(month, "month", 1, 12, &MONTHS)? >> 1).unwrap_or(0),
            weekdays: u8::try_from(field(weekday, "day of week", 0, 6, &WEEKDAYS)?).unwrap_or(0),
            any_day: *day == "*",
            any_weekday: *weekday == "*",
        })
    }

    fn day_matches(&self, days: i64) -> bool {
        let (_, month, day) = civil(days);
        if self.months & (1 << (month - 1)) == 0 {
            return false;
        }
        let weekday = u32::try_from((days + 4).rem_euclid(7)).unwrap_or(0);
        let by_day = self.days & (1 << (day - 1)) != 0;
        let by_weekday = self.weekdays & (1 << weekday) != 0;
        match (self.any_day, self.any_weekday) {
            (false, false) => by_day || by_weekday,
            (true, false) => by_weekday,
            (false, true) => by_day,
            (true, true) => true,
        }
    }

    /// The first moment strictly after `unix_secs` (seconds since the epoch, UTC) that the
    /// schedule names, on a whole minute; `None` if there is none within five years (such as
    /// `0 0 31 2 *`).
    pub fn next_after(&self, unix_secs: u64) -> Option<u64> {
        let start = i64::try_from(unix_secs / 60 + 1).ok()?;
        let first_day = start.div_euclid(1440);
        for days in first_day..first_day + 5 * 366 {
            if !self.day_matches(days) {
                continue;
            }
            let from = if days == first_day {
                start.rem_euclid(1440)
            } else {
                0
            };
            for minute_of_day in from..1440 {
                let (hour, minute) = (minute_of_day / 60, minute_of_day % 60);
                if self.hours & (1 << hour) != 0 && self.minutes & (1 << minute) != 0 {
                    return u64::try_from((days * 1440 + minute_of_day) * 60).ok();
                }
            }
        }
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// 2026-11-30 00:00 UTC, a Monday.
    const MONDAY: u64 = 1_795_996_800;

    #[test]
    fn fields_parse_with_ranges_lists_steps_and_names() {
        let every_15 = Cron::parse("*/15 * * * *").expect("parse");
        assert_eq!(every_15.next_after(MONDAY), Some(MONDAY + 15 * 60));
        assert_eq!(
            every_15.next_after(MONDAY + 14 * 60 + 59),
            Some(MONDAY + 15 * 60)
        );
        let sundays = Cron::parse("30 6 * * 7").expect("parse");
        assert_eq!(
            sundays.next_after(MONDAY),
            Some(MONDAY + 6 * 86_400 + 6 * 3600 + 1800)
        );
        let first_of_month = Cron::parse("0 0 1 jan,dec *").expect("parse");
        assert_eq!(first_of_month.next_after(MONDAY), Some(MONDAY + 86_400));
        assert_eq!(
            Cron::parse("0 0 31 2 *").expect("parse").next_after(MONDAY),
            None
        );
    }

    #[test]
    fn day_of_month_or_weekday_when_both_are_given() {
        // The 15th, or any Friday: Friday 2026-12-04 comes first.
        let either = Cron::parse("0 12 15 * fri").expect("parse");
        assert_eq!(
            either.next_after(MONDAY),
            Some(MONDAY + 4 * 86_400 + 12 * 3600)
        );
    }

    #[test]
    fn mistakes_name_their_field() {
        assert!(
            Cron::parse("* * *")
                .expect_err("refused")
                .contains("has 3 fields")
        );
        assert!(
            Cron::parse("* 24 * * *")
                .expect_err("refused")
                .contains("hour: 24")
        );
        assert!(
            Cron::parse("* * * foo *")
                .expect_err("refused")
                .contains("month: `foo`")
        );
        assert!(
            Cron::parse("*/0 * * * *")
                .expect_err("refused")
                .contains("minute")
        );
        assert!(
            Cron::parse("5-1 * * * *")
                .expect_err("refused")
                .contains("backwards")
        );
    }
}
