//! The output directory's bookkeeping around a run: [`prepare_outdir`] refuses to mix a new run
//! with a previous one's output (unless resuming or overwriting) and records the run's
//! fingerprint (recipe and inputs) in `.run.json`, which `--resume` checks; [`set_work_dirs`]
//! gives each two-pass step its scratch folder in `.work`; [`clean_work`] removes `.work` when
//! the run ends, however it ends. The locking and ownership rules themselves are
//! [`thresher_io::outdir`]'s.

use serde_json::json;
use thresher_core::{Step, StepMode};
use thresher_io::outdir::{step_work_name, WORK};
use thresher_io::{Folder, InputFile, OutDir, OutDirError};

use super::{out_err, RunError, RunOptions};
use crate::recipe::Recipe;

const RUN_FILE: &str = ".run.json";

/// Checks that the (locked) output directory can be used: refuses to mix a new run with a
/// previous one's output unless asked to resume or overwrite, and refuses to remove anything
/// thresher did not write. Then records the run (recipe and inputs) in `.run.json`.
pub(super) fn prepare_outdir(
    recipe: &Recipe,
    files: &[InputFile],
    opts: &RunOptions,
    out: &OutDir,
) -> Result<(), RunError> {
    let dir = out.path();
    let root = out.root();
    let fingerprint = json!({
        "recipe_xxh3": format!("{:016x}", xxhash_rust::xxh3::xxh3_64(recipe.text.as_bytes())),
        "inputs": files.iter().map(|f| match &f.range {
            // A byte range of the file (a shard's part): resuming with other cuts is refused.
            Some(r) => json!([f.path.to_string_lossy(), f.len(), [r.start, r.end]]),
            None => json!([f.path.to_string_lossy(), f.len()]),
        }).collect::<Vec<_>>(),
    });
    let previous = match root.read_to_string(RUN_FILE) {
        Ok(p) => p,
        // Replaced anyway (a link there is removed, not followed).
        Err(_) if opts.overwrite => None,
        Err(e) => return Err(out_err(dir, e)),
    };
    let own = out.ownership()?;
    if opts.overwrite {
        // Exactly what a previous run wrote; refused, with nothing removed, if anything else
        // is in thresher's folders.
        out.remove_owned(&own, &[])?;
        for name in [
            "stats.json",
            RUN_FILE,
            super::RUN_JSON,
            crate::report::REPORT_HTML,
            crate::report::REPORT_DATA,
        ] {
            root.remove_file(name).map_err(|e| out_err(dir, e))?;
        }
    } else if opts.resume {
        if let Some(prev) = &previous {
            let prev: serde_json::Value = serde_json::from_str(prev).unwrap_or_default();
            if prev != fingerprint {
                return Err(out_err(
                    dir,
                    "--resume: the recipe or the inputs differ from the interrupted run's",
                ));
            }
        }
        // The interrupted run's temporary data is made again; its complete shards are kept.
        out.remove_temporaries(&own)?;
        root.remove_file("stats.json")
            .map_err(|e| out_err(dir, e))?;
    } else if !own.foreign.is_empty() {
        out.remove_owned(&own, &[])?; // the refusal that names the foreign files
    } else if previous.is_some() || own.has_output {
        return Err(out_err(
            dir,
            "holds a previous run's output; use --resume to finish it or --overwrite to replace it",
        ));
    }
    root.write_atomic(RUN_FILE, fingerprint.to_string().as_bytes(), false)
        .map_err(|e| out_err(dir, format!("not writable: {e}")))?;
    Ok(())
}

/// Gives each step that needs scratch space (the two-pass ones) a folder of its own in `.work`.
pub(super) fn set_work_dirs(steps: &[Box<dyn Step>], work: &Folder) -> Result<(), RunError> {
    for (i, step) in steps.iter().enumerate() {
        if step.mode() == StepMode::TwoPass {
            let dir = work.folder(&step_work_name(i, step.name()))?;
            step.set_work_dir(dir.path()).map_err(|e| RunError::Step {
                step: step.name().to_string(),
                message: e.to_string(),
            })?;
        }
    }
    Ok(())
}

/// Removes `.work` (the temporary data; a resume makes it again), leaving the shards. Fails at
/// once if what thresher wrote cannot be told apart; a failed removal is returned inside, to be
/// reported only if the run itself succeeded.
pub(super) fn clean_work(out: &OutDir) -> Result<Result<(), OutDirError>, OutDirError> {
    let own = out.ownership()?;
    let cleaned = out.remove_owned(&own, &[WORK]);
    out.remove_empty_folder(WORK);
    Ok(cleaned)
}
