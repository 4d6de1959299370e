//! The HTML run report: `OUTDIR/report.html`, one self-contained page (no network) with the
//! funnel, the rejections by reason, the measured values against their thresholds, lengths,
//! languages, scores, near-duplicate clusters, repair edits, errors per file, step times and
//! sample rejected documents. Charts are Vega-Lite specifications drawn by the vendored vega,
//! vega-lite and vega-embed scripts (BSD-3-Clause, `src/report/vendor/`), embedded in the page.
//!
//! The executor gathers what the page needs beyond `stats.json` with a [`Collector`] (bounded
//! samples, so the page stays a few MB whatever the run's size) and writes it as
//! `OUTDIR/report-data.json`; [`write_report`] draws the page from those files, at the end of a
//! run or later (`thresher report OUTDIR`).

mod collect;
mod explain;
mod html;

use std::path::{Path, PathBuf};

pub use collect::{Collector, DocExample, DocPoint, End, ErrorExample, ReasonData, ReportData};
pub use explain::explain;
pub use html::render;

/// The report page's file name in OUTDIR.
pub const REPORT_HTML: &str = "report.html";
/// The file of the data gathered during the run, beside `stats.json`.
pub const REPORT_DATA: &str = "report-data.json";

/// The vendored chart libraries' versions (npm packages `vega`, `vega-lite`, `vega-embed`).
pub const VEGA_VERSION: &str = "6.4.0";
/// See [`VEGA_VERSION`].
pub const VEGA_LITE_VERSION: &str = "6.5.0";
/// See [`VEGA_VERSION`].
pub const VEGA_EMBED_VERSION: &str = "7.3.0";

/// Why a report could not be written.
#[derive(Debug, thiserror::Error)]
#[error("{path}: {message}")]
pub struct ReportError {
    /// The file concerned.
    pub path: PathBuf,
    /// What went wrong.
    pub message: String,
}

fn err(path: &Path, e: impl std::fmt::Display) -> ReportError {
    ReportError {
        path: path.to_path_buf(),
        message: e.to_string(),
    }
}

/// Reads a JSON file of OUTDIR (`None` if it is not there).
fn read_json<T: serde::de::DeserializeOwned>(
    out: &thresher_io::OutDir,
    name: &str,
) -> Result<Option<T>, ReportError> {
    let path = out.path().join(name);
    match out.root().read_to_string(name).map_err(|e| err(&path, e))? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| err(&path, e)),
        None => Ok(None),
    }
}

/// Draws `OUTDIR/report.html` for the finished run in `outdir` (`thresher report OUTDIR`);
/// returns its path. Takes the directory's lock, so it is refused while a run writes there.
pub fn write_report(outdir: &Path) -> Result<PathBuf, ReportError> {
    let out = thresher_io::OutDir::open(outdir).map_err(|e| err(outdir, e))?;
    write_report_to(&out)
}

/// Draws `report.html` in the (locked) output directory `out` from its `stats.json`,
/// `run.json` and, if there, `report-data.json`, atomically; returns its path.
pub fn write_report_to(out: &thresher_io::OutDir) -> Result<PathBuf, ReportError> {
    let dir = out.path();
    let stats: serde_json::Value = read_json(out, "stats.json")?.ok_or_else(|| {
        err(
            &dir.join("stats.json"),
            "not found (is this the output directory of a finished thresher run?)",
        )
    })?;
    let mut run: serde_json::Value = read_json(out, crate::run::RUN_JSON)?.unwrap_or_default();
    let data: Option<ReportData> = read_json(out, REPORT_DATA)?;
    if let Some(m) = run.as_object_mut() {
        m.entry("outdir")
            .or_insert_with(|| dir.display().to_string().into());
    }
    let html = render(&stats, &run, data.as_ref());
    out.root()
        .write_atomic(REPORT_HTML, html.as_bytes(), false)
        .map_err(|e| err(&dir.join(REPORT_HTML), e))?;
    Ok(dir.join(REPORT_HTML))
}
