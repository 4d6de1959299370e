//! The progress display of `thresher run`: on a terminal, a bar against the known total (input
//! bytes on disk in the first pass, the spilled documents in a later one) with percent, ETA,
//! the pass and its steps, and rates over the last seconds; off a terminal, one plain line
//! every few seconds (so a batch job's log shows the run going). Each line is also a
//! `thresher::progress` tracing event, for `--log-file`.

use std::collections::VecDeque;
use std::fmt::Write as _;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use thresher::Progress;

/// The window the rates and the ETA are measured over.
const WINDOW: Duration = Duration::from_secs(10);

/// How progress is shown.
#[derive(Debug, Clone, Copy)]
pub enum Mode {
    /// A bar redrawn in place (stderr is a terminal).
    Bar,
    /// A plain line every so often (stderr is a file or a pipe).
    Lines(Duration),
}

/// A running display; [`Display::stop`] ends it.
pub struct Display {
    stop: Arc<AtomicBool>,
    handle: JoinHandle<()>,
}

impl Display {
    /// Starts showing `p` on stderr, logging to `dispatch` as well.
    pub fn start(p: Arc<Progress>, mode: Mode, dispatch: tracing::Dispatch) -> Display {
        let stop = Arc::new(AtomicBool::new(false));
        let s = stop.clone();
        let handle = std::thread::spawn(move || {
            tracing::dispatcher::with_default(&dispatch, || run(&p, mode, &s));
        });
        Display { stop, handle }
    }

    /// Stops the display (the bar is cleared; the summary follows).
    pub fn stop(self) {
        self.stop.store(true, Ordering::Relaxed);
        let _ = self.handle.join();
    }
}

/// One reading of the counters.
#[derive(Clone, Copy)]
struct Sample {
    at: Instant,
    /// Bytes on disk (first pass) or documents (later passes): the bar's position.
    pos: u64,
    docs: u64,
}

/// What one line or bar shows.
pub struct View {
    /// The bar's position and length (0: unknown).
    pub pos: u64,
    /// See `pos`.
    pub len: u64,
    /// The text after the bar.
    pub text: String,
    /// The percent done, if the total is known.
    pub percent: Option<f64>,
    /// Seconds left at the recent rate, if known.
    pub eta: Option<f64>,
}

/// `h:mm:ss`.
pub fn hms(secs: f64) -> String {
    let s = secs.max(0.0).round() as u64;
    format!("{}:{:02}:{:02}", s / 3600, s / 60 % 60, s % 60)
}

/// Reads the counters and the recent window into what is shown.
struct Meter {
    window: VecDeque<Sample>,
    phase: u64,
    started: Instant,
}

impl Meter {
    fn new() -> Self {
        Meter {
            window: VecDeque::new(),
            phase: u64::MAX,
            started: Instant::now(),
        }
    }

    /// The view now; `Some(name)` as well when a new pass has begun.
    fn read(&mut self, p: &Progress) -> (View, Option<String>) {
        let now = Instant::now();
        let phase = p.phase.load(Ordering::Relaxed);
        // 0 passes: the run has not begun reading.
        let started = phase & 0xffff_ffff > 0;
        let (k, n) = (phase >> 32, (phase & 0xffff_ffff).max(1));
        let first = k == 0;
        let docs = if first {
            p.docs.load(Ordering::Relaxed)
        } else {
            p.phase_docs.load(Ordering::Relaxed)
        };
        let (pos, len) = if first {
            (
                p.input_done.load(Ordering::Relaxed),
                p.total_bytes.load(Ordering::Relaxed),
            )
        } else {
            (docs, p.phase_total.load(Ordering::Relaxed))
        };
        let mut new_pass = None;
        if phase != self.phase {
            self.phase = phase;
            self.window.clear();
            new_pass = started.then(|| p.phase_name());
        }
        self.window.push_back(Sample { at: now, pos, docs });
        while self
            .window
            .front()
            .is_some_and(|s| now.duration_since(s.at) > WINDOW)
            && self.window.len() > 2
        {
            self.window.pop_front();
        }
        let oldest = self
            .window
            .front()
            .copied()
            .unwrap_or(Sample { at: now, pos, docs });
        let dt = now.duration_since(oldest.at).as_secs_f64();
        let (pos_rate, doc_rate) = if dt > 0.2 {
            (
                (pos - oldest.pos.min(pos)) as f64 / dt,
                (docs - oldest.docs.min(docs)) as f64 / dt,
            )
        } else {
            (0.0, 0.0)
        };
        let percent = (len > 0).then(|| (100.0 * pos as f64 / len as f64).min(100.0));
        let eta = (len > 0 && pos_rate > 0.0).then(|| len.saturating_sub(pos) as f64 / pos_rate);

        let mut text = String::new();
        if started {
            let _ = write!(text, "pass {}/{n} ({})", k + 1, p.phase_name());
        } else {
            text.push_str("starting");
        }
        if first {
            let _ = write!(
                text,
                " · {:.1}/{:.1} MB · {docs} docs · {:.1} MB/s · {:.0} docs/s",
                pos as f64 / 1e6,
                len as f64 / 1e6,
                pos_rate / 1e6,
                doc_rate
            );
        } else {
            let _ = write!(text, " · {docs}/{len} docs · {doc_rate:.0} docs/s");
        }
        if let Some(e) = eta {
            let _ = write!(text, " · ETA {}", hms(e));
        }
        // Kept so far means something only in the last pass: before it, every document that
        // survives goes on to the next pass.
        if k + 1 == n {
            let kept = p.kept.load(Ordering::Relaxed);
            let of = if first { docs } else { docs.max(1) };
            if of > 0 {
                let _ = write!(
                    text,
                    " · kept {kept} ({:.1}%{})",
                    100.0 * kept as f64 / of as f64,
                    if first { "" } else { " of this pass" }
                );
            }
        }
        let view = View {
            pos,
            len,
            text,
            percent,
            eta,
        };
        (view, new_pass)
    }
}

/// The display loop, until `stop`.
fn run(p: &Progress, mode: Mode, stop: &AtomicBool) {
    let mut meter = Meter::new();
    match mode {
        Mode::Bar => {
            let bar = indicatif::ProgressBar::new(0);
            bar.set_style(
                indicatif::ProgressStyle::with_template(
                    "{spinner} {elapsed_precise} [{bar:30}] {percent:>3}% {wide_msg}",
                )
                .unwrap_or_else(|_| indicatif::ProgressStyle::default_bar())
                .progress_chars("=> "),
            );
            while !stop.load(Ordering::Relaxed) {
                let (v, new_pass) = meter.read(p);
                if let Some(name) = new_pass {
                    log_pass(p, &name);
                }
                bar.set_length(v.len.max(1));
                bar.set_position(v.pos.min(v.len.max(1)));
                bar.set_message(v.text);
                std::thread::sleep(Duration::from_millis(200));
            }
            bar.finish_and_clear();
        }
        Mode::Lines(every) => {
            let mut last = Instant::now();
            while !stop.load(Ordering::Relaxed) {
                std::thread::sleep(Duration::from_millis(50).min(every));
                if let Some(name) = meter.read_pass_change(p) {
                    log_pass(p, &name);
                }
                if last.elapsed() >= every {
                    last = Instant::now();
                    let (v, _) = meter.read(p);
                    line(&meter, &v);
                }
            }
        }
    }
}

impl Meter {
    /// Samples the counters (for the window) and says when a new pass has begun.
    fn read_pass_change(&mut self, p: &Progress) -> Option<String> {
        let phase = p.phase.load(Ordering::Relaxed);
        if phase == self.phase {
            return None;
        }
        self.read(p).1
    }
}

/// A new pass, in the log.
fn log_pass(p: &Progress, name: &str) {
    let phase = p.phase.load(Ordering::Relaxed);
    tracing::info!(
        target: "thresher::progress",
        pass = (phase >> 32) + 1,
        passes = phase & 0xffff_ffff,
        steps = name,
        "pass started"
    );
}

/// One plain progress line on stderr, and the same as a log event.
fn line(meter: &Meter, v: &View) {
    let elapsed = meter.started.elapsed().as_secs_f64();
    let pct = v.percent.map_or(String::new(), |x| format!("{x:.1}% "));
    eprintln!("thresher: {} {pct}{}", hms(elapsed), v.text);
    tracing::info!(
        target: "thresher::progress",
        elapsed_s = elapsed,
        percent = v.percent,
        eta_s = v.eta,
        position = v.pos,
        total = v.len,
        "{}",
        v.text
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rates_come_from_the_window_and_give_an_eta() {
        let p = Progress::default();
        p.total_bytes.store(1000, Ordering::Relaxed);
        p.phase.store(1, Ordering::Relaxed); // pass 1 of 1
        let mut m = Meter::new();
        let (v, new_pass) = m.read(&p);
        assert!(new_pass.is_some());
        assert_eq!(v.eta, None, "no rate yet");
        std::thread::sleep(Duration::from_millis(300));
        p.input_done.store(250, Ordering::Relaxed);
        p.docs.store(10, Ordering::Relaxed);
        let (v, _) = m.read(&p);
        assert_eq!(v.percent, Some(25.0));
        let eta = v.eta.expect("an ETA once input has been read");
        // 250 bytes in ~0.3 s: about 0.9 s for the other 750.
        assert!(eta > 0.5 && eta < 1.5, "{eta}");
        assert!(v.text.contains("kept 0 (0.0%)"), "{}", v.text);
    }

    #[test]
    fn kept_is_shown_in_the_last_pass_only() {
        let p = Progress::default();
        assert!(Meter::new().read(&p).0.text.starts_with("starting"));
        p.phase.store(2, Ordering::Relaxed); // pass 1 of 2
        p.docs.store(10, Ordering::Relaxed);
        let (v, _) = Meter::new().read(&p);
        assert!(!v.text.contains("kept"), "{}", v.text);
        p.phase.store((1 << 32) | 2, Ordering::Relaxed);
        p.phase_total.store(8, Ordering::Relaxed);
        p.phase_docs.store(4, Ordering::Relaxed);
        p.kept.store(3, Ordering::Relaxed);
        let (v, _) = Meter::new().read(&p);
        assert_eq!(v.percent, Some(50.0));
        assert!(v.text.contains("4/8 docs"), "{}", v.text);
        assert!(v.text.contains("kept 3 (75.0% of this pass)"), "{}", v.text);
    }

    #[test]
    fn hms_formats() {
        assert_eq!(hms(3725.4), "1:02:05");
    }
}
