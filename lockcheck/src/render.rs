//! Text rendering of findings.
use std::fmt;

use crate::report::{Finding, Report};

pub(crate) fn summary(finding: &Finding) -> String {
    match finding {
        Finding::ActualDeadlock(hang) | Finding::Stall(hang) => crate::hang::summary(finding.headline(), hang),
        _ => format!("SUMMARY: {}", finding.headline()),
    }
}

pub(crate) fn finding(finding: &Finding, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    writeln!(f, "lockcheck: {}", finding.headline())?;
    match finding {
        Finding::ActualDeadlock(hang) => crate::hang::body(hang, true, f)?,
        Finding::Stall(hang) => crate::hang::body(hang, false, f)?,
        _ => writeln!(f, "{finding:?}")?,
    }
    f.write_str(&summary(finding))
}

pub(crate) fn report(report: &Report, f: &mut fmt::Formatter<'_>) -> fmt::Result {
    for x in &report.findings {
        writeln!(f, "{x}")?;
    }
    Ok(())
}
