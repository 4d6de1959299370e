//! The phases of a run and the loop that drives each one. The steps are cut into phases at each
//! `TwoPass` step ([`split_phases`]); the first phase reads the inputs, each later one the spill
//! file the phase before it wrote. Within a phase a reader thread sends batches over a bounded
//! channel, and the pool parses batch k+1 while batch k goes through the steps and is written
//! (`rayon::join`). Between phases the spill file is closed and the two-pass step told that it
//! has observed everything (`end_observe`). Cancellation is checked between batches.

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::{bounded, Receiver};
use thresher_core::{InputBuf, Stats, Step, StepMode, StepStats};
use thresher_io::{Batch, BatchReader, Folder, Format, InputFile, ReadOptions};

use super::batch::{Ctx, Phase};
use super::outputs::Outputs;
use super::{out_err, RunError, RunOptions};
use crate::recipe::Recipe;

/// What the phases of a run share.
pub(super) struct Pipeline<'a> {
    pub(super) recipe: &'a Recipe,
    pub(super) opts: &'a RunOptions,
    pub(super) files: &'a [InputFile],
    /// `OUTDIR/.work`, where the spill files go.
    pub(super) work: &'a Folder,
    pub(super) ctx: Ctx<'a>,
    /// Consumed batch buffers, on their way back to the reader.
    pub(super) recycled: Receiver<InputBuf>,
}

impl Pipeline<'_> {
    /// Runs the phases one after the other, writing to `outputs` and counting into the stats.
    pub(super) fn run_phases(
        &self,
        outputs: &mut Outputs,
        stats: &mut Stats,
        step_stats: &mut [StepStats],
    ) -> Result<(), RunError> {
        let steps = self.ctx.steps;
        let phases = split_phases(steps);
        let mut seq = 0u64;
        // The spill file the previous phase wrote, and its number of documents.
        let mut spill: Option<(PathBuf, u64)> = None;
        for (k, range) in phases.iter().enumerate() {
            let next_two_pass = phases.get(k + 1).map(|r| &*steps[r.start]);
            if let Some(p) = &self.opts.progress {
                p.phase
                    .store(((k as u64) << 32) | phases.len() as u64, Ordering::Relaxed);
                p.phase_docs.store(0, Ordering::Relaxed);
                p.phase_total
                    .store(spill.as_ref().map_or(0, |s| s.1), Ordering::Relaxed);
                if let Ok(mut name) = p.phase_name.lock() {
                    *name = phase_name(steps, range.clone(), next_two_pass);
                }
            }
            let spill_out = next_two_pass.map(|_| format!("spill-{k}.jsonl"));
            if let Some(name) = &spill_out {
                outputs
                    .open_spill(self.work, name)
                    .map_err(|e| out_err(&self.work.join(name), e))?;
            }
            let source = self.source(k, spill.as_ref());
            let phase = Phase {
                first_phase: k == 0,
                steps: range.clone(),
                observer: next_two_pass,
                read_opts: &self.recipe.input,
            };
            let spilled = self.run_phase(&phase, source, &mut seq, outputs, stats, step_stats)?;
            if let Some(e) = cancelled(&self.opts.cancel) {
                return Err(e);
            }
            if let Some(step) = next_two_pass {
                outputs
                    .close_spill()
                    .map_err(|e| out_err(self.work.path(), e))?;
                let t0 = std::time::Instant::now();
                step.end_observe().map_err(|e| RunError::Step {
                    step: step.name().to_string(),
                    message: e.to_string(),
                })?;
                // Between the passes (clustering, tables): the two-pass step's time.
                if let Some(st) = phases.get(k + 1).and_then(|r| step_stats.get_mut(r.start)) {
                    st.add_wall_and_time(t0.elapsed());
                }
                spill = spill_out.map(|name| (self.work.join(&name), spilled));
            }
        }
        Ok(())
    }

    /// The batches of phase `k`: the inputs for the first phase, the previous phase's spill
    /// file (path and number of documents) for the others.
    fn source(
        &self,
        k: usize,
        spill: Option<&(PathBuf, u64)>,
    ) -> Box<dyn Iterator<Item = Batch> + Send> {
        match (k, spill) {
            (0, _) => {
                let r = BatchReader::new(self.files.to_vec(), self.recipe.input.clone());
                Box::new(recycling(r, self.recycled.clone()))
            }
            (_, Some((path, n))) if *n > 0 => {
                let opts = ReadOptions {
                    max_doc_bytes: u64::MAX,
                    ..ReadOptions::default()
                };
                let file = InputFile {
                    path: path.clone(),
                    format: Format::Jsonl,
                    size: None,
                    range: None,
                };
                let r = BatchReader::new(vec![file], opts);
                Box::new(recycling(r, self.recycled.clone()))
            }
            _ => Box::new(std::iter::empty()),
        }
    }

    /// Runs one phase over the batches of `source` (read on a thread of their own); `seq`
    /// numbers the records. Returns the number of documents spilled for the next phase.
    fn run_phase(
        &self,
        phase: &Phase<'_>,
        source: Box<dyn Iterator<Item = Batch> + Send>,
        seq: &mut u64,
        outputs: &mut Outputs,
        stats: &mut Stats,
        step_stats: &mut [StepStats],
    ) -> Result<u64, RunError> {
        let ctx = &self.ctx;
        std::thread::scope(|s| -> Result<u64, RunError> {
            let (btx, brx) = bounded::<Batch>(2);
            s.spawn(move || {
                for b in source {
                    if btx.send(b).is_err() {
                        break;
                    }
                }
            });
            // Batch k+1 is parsed while batch k goes through the steps in order, is serialized
            // and written (`join`: the pool's threads take both), so no thread waits for the
            // one-at-a-time parts of a batch; and batch k's texts are still in the processor's
            // cache when the kernel copies them into the output files.
            ctx.pool.install(|| {
                let mut spilled = 0;
                let mut parse = |batch: Batch| {
                    let first = *seq;
                    *seq += batch.items.len() as u64;
                    move || ctx.parse_batch(phase, batch, first)
                };
                let mut pending = brx.recv().ok().map(|b| parse(b)());
                while let Some(parsed) = pending.take() {
                    if let Some(e) = cancelled(&self.opts.cancel) {
                        return Err(e);
                    }
                    let next = brx.recv().ok().map(&mut parse);
                    let (out, next) = rayon::join(
                        || {
                            let mut out = ctx.finish_batch(phase, parsed, stats, step_stats)?;
                            outputs
                                .write(&mut out.lines)
                                .map_err(|e| out_err(&outputs.outdir, e))?;
                            Ok::<_, RunError>(out)
                        },
                        || next.map(|parse_next| parse_next()),
                    );
                    let out = out?;
                    spilled += out.spilled;
                    out.lines.into_iter().for_each(|c| c.recycle(&ctx.recycle));
                    pending = next;
                }
                Ok(spilled)
            })
        })
    }
}

/// The run's stop request, if a signal has asked for one (see [`RunOptions::cancel`]).
fn cancelled(cancel: &Option<Arc<AtomicUsize>>) -> Option<RunError> {
    cancel
        .as_ref()
        .and_then(|c| match c.load(Ordering::Relaxed) {
            0 => None,
            s => Some(RunError::Interrupted {
                signal: i32::try_from(s).unwrap_or(i32::MAX),
            }),
        })
}

/// The batches of `r`, which first takes back the buffers of consumed batches (`back`): owned
/// ones for reuse; mapped ones are unmapped here, on the reader's thread.
fn recycling(mut r: BatchReader, back: Receiver<InputBuf>) -> impl Iterator<Item = Batch> + Send {
    std::iter::from_fn(move || {
        while let Ok(buf) = back.try_recv() {
            if let Some(buf) = buf.into_vec() {
                r.recycle(buf);
            }
        }
        r.next_batch()
    })
}

/// A phase's description for the progress display: its steps, and the two-pass step that
/// observes what reaches its end.
fn phase_name(
    steps: &[Box<dyn Step>],
    range: std::ops::Range<usize>,
    observer: Option<&dyn Step>,
) -> String {
    let names: Vec<&str> = steps[range.clone()].iter().map(|s| s.name()).collect();
    let mut out = match names.as_slice() {
        [] => "reading".to_string(),
        [one] => format!("step {}: {one}", range.start + 1),
        [first, .., last] if names.len() > 3 => {
            format!("steps {}-{}: {first} … {last}", range.start + 1, range.end)
        }
        _ => format!(
            "steps {}-{}: {}",
            range.start + 1,
            range.end,
            names.join(", ")
        ),
    };
    if let Some(o) = observer {
        out.push_str(&format!(", {} observing", o.name()));
    }
    out
}

/// Splits the steps into phases: a new phase starts at each `TwoPass` step.
fn split_phases(steps: &[Box<dyn Step>]) -> Vec<std::ops::Range<usize>> {
    let mut phases = Vec::new();
    let mut start = 0;
    for (i, s) in steps.iter().enumerate() {
        if s.mode() == StepMode::TwoPass {
            phases.push(start..i);
            start = i;
        }
    }
    phases.push(start..steps.len());
    phases
}
