//! Logs: human-readable on stderr at the level -v/-q ask for (warnings by default), and, with
//! `--log-file`, every event of the run as JSON lines (start, each pass, progress, end) for
//! batch systems. The progress lines themselves are not repeated on stderr.

use std::fs::File;
use std::path::Path;
use std::sync::Mutex;

use tracing::level_filters::LevelFilter;
use tracing_subscriber::filter::Targets;
use tracing_subscriber::layer::SubscriberExt;
use tracing_subscriber::Layer;

/// The dispatcher for this invocation: stderr by `verbose`/`quiet`, and the log file if given
/// (created or appended to).
pub fn init(
    verbose: u8,
    quiet: bool,
    log_file: Option<&Path>,
) -> std::io::Result<tracing::Dispatch> {
    let level = match (quiet, verbose) {
        (true, _) => LevelFilter::ERROR,
        (false, 0) => LevelFilter::WARN,
        (false, 1) => LevelFilter::INFO,
        _ => LevelFilter::DEBUG,
    };
    // Progress is on stderr already, as the bar or the plain lines.
    let stderr_filter = Targets::new()
        .with_target("thresher::progress", LevelFilter::OFF)
        .with_default(level);
    let stderr = tracing_subscriber::fmt::layer()
        .with_writer(std::io::stderr)
        .with_target(false)
        .without_time()
        .with_filter(stderr_filter);
    let file = match log_file {
        Some(path) => {
            let f = File::options().create(true).append(true).open(path)?;
            Some(
                tracing_subscriber::fmt::layer()
                    .json()
                    .with_writer(Mutex::new(f))
                    .with_filter(LevelFilter::INFO),
            )
        }
        None => None,
    };
    let subscriber = tracing_subscriber::registry().with(stderr).with(file);
    Ok(tracing::Dispatch::new(subscriber))
}
