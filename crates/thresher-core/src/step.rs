//! The step contract: what a pipeline step is and what it may decide.

use std::any::Any;
use std::borrow::Cow;

use serde_json::{Map, Value};

use crate::{Document, Result};

/// Why a document was rejected: a stable snake_case code and the value that decided it.
///
/// Codes are part of thresher's interface: users count and filter on them, so a code never
/// changes meaning. Filters with several rules use `filter:rule`, e.g.
/// `gopher_repetition:dup_line_char_frac`.
#[derive(Debug, Clone, PartialEq)]
pub struct Reason {
    /// Stable snake_case reason code.
    pub code: Cow<'static, str>,
    /// The measured value that decided (a ratio, a count, the id of a kept twin...).
    pub value: Value,
}

impl Reason {
    /// A reason with a code and the value that decided it.
    pub fn new(code: impl Into<Cow<'static, str>>, value: impl Into<Value>) -> Self {
        Reason {
            code: code.into(),
            value: value.into(),
        }
    }
}

/// What a step decided about one document.
#[derive(Debug)]
pub enum Outcome {
    /// The document goes on to the next step (its text may have been edited).
    Keep(Document),
    /// The document is dropped, with the reason; it goes to the rejected output.
    Reject {
        /// The document as the step saw it.
        doc: Document,
        /// Why it was dropped.
        reason: Reason,
    },
    /// The document could not be processed (a budget exceeded, malformed content); it goes to
    /// the errors output with its source position.
    Error {
        /// The document as the step saw it.
        doc: Document,
        /// What went wrong, for a person to read.
        error: String,
    },
}

impl Outcome {
    /// Shorthand for [`Outcome::Reject`].
    pub fn reject(doc: Document, reason: Reason) -> Self {
        Outcome::Reject { doc, reason }
    }

    /// Keeps the document when `reason` is `None`, else rejects it with that reason: the usual
    /// end of a filter whose check returns the first rule that failed.
    pub fn keep_unless(doc: Document, reason: Option<Reason>) -> Self {
        match reason {
            Some(reason) => Outcome::Reject { doc, reason },
            None => Outcome::Keep(doc),
        }
    }

    /// Shorthand for [`Outcome::Error`].
    pub fn error(doc: Document, error: impl Into<String>) -> Self {
        Outcome::Error {
            doc,
            error: error.into(),
        }
    }

    /// The document, whatever was decided.
    pub fn doc(&self) -> &Document {
        match self {
            Outcome::Keep(d) | Outcome::Reject { doc: d, .. } | Outcome::Error { doc: d, .. } => d,
        }
    }
}

/// How the executor must schedule a step.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum StepMode {
    /// The step looks at one document at a time and keeps no state that depends on other
    /// documents: the executor runs it on many documents at once.
    #[default]
    Parallel,
    /// The step keeps state across documents (e.g. exact dedup: first occurrence wins): the
    /// executor calls it on one document at a time, in input order, so that the result does not
    /// depend on the number of threads.
    Ordered,
    /// The step needs to see every document before it decides on any (near-dedup, corpus-wide
    /// boilerplate): the executor first calls [`Step::observe`] on every document that reaches
    /// the step, then [`Step::end_observe`], then [`Step::process`] on each in input order.
    TwoPass,
}

/// What an `Ordered` step's [`Step::prepare`] computed for one document, for its `process`
/// (see [`StepCx::take_prepared`]).
pub type Prepared = Box<dyn Any + Send + Sync>;

/// Per-thread context handed to a step: a place for scratch state that outlives one document.
#[derive(Default)]
pub struct StepCx {
    /// Reusable scratch buffer, so that hot loops need not allocate per document.
    pub scratch: String,
    /// What the step's `prepare` returned for the document now being processed.
    prepared: Option<Prepared>,
}

impl StepCx {
    /// Takes what the step's [`Step::prepare`] returned for the document now being processed,
    /// if it is a `T`. `None` when `prepare` was not run on it (a step called directly, as in a
    /// test): the step then does that work itself.
    pub fn take_prepared<T: Any>(&mut self) -> Option<T> {
        self.prepared.take()?.downcast::<T>().ok().map(|b| *b)
    }

    /// Hands `prepare`'s value for the next document to its `process` (the executor calls it
    /// before each `process` of an `Ordered` step; a value not taken is dropped by the next call).
    pub fn set_prepared(&mut self, value: Option<Prepared>) {
        self.prepared = value;
    }
}

/// A pipeline step.
///
/// Steps are built once from a recipe and shared by all worker threads, so `process` takes
/// `&self`; steps with state (see [`StepMode`]) use interior mutability and declare their mode.
pub trait Step: Send + Sync {
    /// The step's name: its recipe type name (e.g. `gopher_repetition`), unversioned like every
    /// step's; used in stats, annotations, the `step` of a rejected record and its reason code.
    fn name(&self) -> &str;

    /// How the executor must schedule this step.
    fn mode(&self) -> StepMode {
        StepMode::Parallel
    }

    /// Work on one document that does not depend on other documents, done by an `Ordered` step
    /// before its `process`: the executor calls it on many documents at once (in parallel), so
    /// that only the cross-document part (a table lookup) runs one document at a time. What it
    /// returns reaches the same document's `process` through [`StepCx::take_prepared`].
    fn prepare(&self, _doc: &mut Document, _cx: &mut StepCx) -> Option<Prepared> {
        None
    }

    /// Decides about one document.
    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome;

    /// First pass of a [`StepMode::TwoPass`] step: sees every document that reaches the step.
    /// May be called from several threads at once and in any order; `doc.seq` gives the input
    /// order for steps whose result must not depend on it.
    fn observe(&self, _doc: &Document) -> Result<()> {
        Ok(())
    }

    /// Called once before the run, for a [`StepMode::TwoPass`] step, with an empty folder of its
    /// own under `OUTDIR/.work` for scratch files (removed when the run ends, is interrupted,
    /// or is resumed). A step that needs scratch space keeps its files there, never in the
    /// system's temporary folder, so that nothing outlives the run.
    fn set_work_dir(&self, _dir: &std::path::Path) -> Result<()> {
        Ok(())
    }

    /// Called once between the two passes of a [`StepMode::TwoPass`] step.
    fn end_observe(&self) -> Result<()> {
        Ok(())
    }

    /// Extra figures for `stats.json` (filter sizes, candidate counts...), written at the end.
    fn report(&self) -> Map<String, Value> {
        Map::new()
    }
}

/// A step's recipe parameters: deserialized from the step's `[[step]]` table in a TOML recipe
/// (with `#[serde(deny_unknown_fields)]`, so a misspelt key is an error) and turned into the
/// step. `Default` gives the reference tool's defaults.
pub trait StepConfig: serde::de::DeserializeOwned {
    /// Checks the parameters without building anything (no allocation, no file access), so
    /// that a recipe is refused when it is loaded: a fraction outside [0, 1], a minimum above
    /// its maximum... (see [`crate::check`]). `build` calls it too.
    fn validate(&self) -> Result<()> {
        Ok(())
    }

    /// Validates the parameters and builds the step.
    fn build(self) -> Result<Box<dyn Step>>;
}
