//! The step contract: what a pipeline step is and what it may decide.

use std::any::Any;
use std::borrow::Cow;
use std::ops::ControlFlow;

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

    /// The step as a [`Filter`]: a step whose decision is a set of rules on measured values.
    /// Only filters can run in annotate mode (`mode = "annotate"`, see [`Annotate`]); `None`
    /// (the default) for steps that edit, deduplicate or label.
    fn as_filter(&self) -> Option<&dyn Filter> {
        None
    }

    /// Switches a step that edits text to annotate-only mode (`mode = "annotate"` in a recipe):
    /// it then records what it would remove (in its annotations and a summary in
    /// `metadata.<step>`) and leaves the text as it is. Returns `false` (the default) for steps
    /// that cannot; filters annotate through [`Annotate`] instead.
    fn set_annotate_only(&mut self) -> bool {
        false
    }
}

/// A step whose decision is a set of rules, each comparing a measured value with a threshold.
///
/// The step's [`Step::process`] is `Rules::filter().run(self, doc, cx, self.name())`, and its
/// [`Step::as_filter`] returns `Some(self)`: the same rules then run in both modes, so that
/// annotate mode records exactly the values that filtering compares.
///
/// ```
/// use std::ops::ControlFlow;
/// use thresher_core::{Annotate, Document, Filter, Outcome, Rules, Step, StepCx};
///
/// /// Rejects documents shorter than `min_chars` characters.
/// struct MinChars { min_chars: usize }
///
/// impl Filter for MinChars {
///     fn judge(&self, doc: &mut Document, _cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()> {
///         let n = doc.text().chars().count();
///         rules.rule("chars", n, n < self.min_chars, "min_chars:too_short")
///     }
/// }
///
/// impl Step for MinChars {
///     fn name(&self) -> &str { "min_chars" }
///     fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
///         Rules::filter().run(self, doc, cx, self.name())
///     }
///     fn as_filter(&self) -> Option<&dyn Filter> { Some(self) }
/// }
///
/// let mut cx = StepCx::default();
/// let step = MinChars { min_chars: 10 };
/// assert!(matches!(step.process(Document::new("a", "short"), &mut cx), Outcome::Reject { .. }));
/// // Annotate mode keeps it and writes the measured value into its metadata.
/// let annotating = Annotate::new(Box::new(MinChars { min_chars: 10 })).unwrap();
/// let Outcome::Keep(doc) = annotating.process(Document::new("a", "short"), &mut cx) else {
///     panic!()
/// };
/// assert_eq!(doc.metadata["min_chars"]["chars"], 5);
/// ```
pub trait Filter: Send + Sync {
    /// Measures `doc` and hands each rule's value to `rules`, in the filter's order, with `?`
    /// after each so that filter mode stops at the first rule that fails (a filter may measure
    /// lazily: [`Rules::annotating`] says when every value is wanted, even those of rules
    /// switched off or settled by a cheap bound). The document may be edited (C4's line
    /// removals); edits happen in both modes.
    fn judge(&self, doc: &mut Document, cx: &mut StepCx, rules: &mut Rules) -> ControlFlow<()>;
}

/// The two ways a [`Filter`]'s rules run: filtering (stop at the first rule that fails and
/// reject with its reason) or annotating (measure every rule, record each value, keep).
#[derive(Debug, Default)]
pub struct Rules {
    annotate: bool,
    /// Filter mode: the rule that failed. Annotate mode: unused.
    reason: Option<Reason>,
    /// The document could not be processed (both modes).
    error: Option<String>,
    /// Annotate mode: each measured value by name.
    values: Map<String, Value>,
}

impl Rules {
    /// Filter mode: the first rule that fails rejects the document.
    pub fn filter() -> Self {
        Rules::default()
    }

    /// Annotate mode: every rule is measured and its value recorded; the document is kept.
    pub fn annotate() -> Self {
        Rules {
            annotate: true,
            ..Rules::default()
        }
    }

    /// True in annotate mode, where every value is wanted: a filter then also measures rules
    /// that are switched off, and computes exact values where filtering settles for a bound.
    pub fn annotating(&self) -> bool {
        self.annotate
    }

    /// One rule: the measured `value` (named `name` in the annotations, in the step's own
    /// words: `mean_word_length`), whether it `fails` the rule's threshold, and the reason
    /// code a failure rejects with. Filter mode breaks on a failure; annotate mode records the
    /// value and goes on. The value is converted only when it is used.
    pub fn rule(
        &mut self,
        name: &str,
        value: impl Into<Value>,
        fails: bool,
        code: impl Into<Cow<'static, str>>,
    ) -> ControlFlow<()> {
        if self.annotate {
            self.values.insert(name.to_string(), value.into());
            ControlFlow::Continue(())
        } else if fails {
            self.reason = Some(Reason::new(code, value));
            ControlFlow::Break(())
        } else {
            ControlFlow::Continue(())
        }
    }

    /// A value that no threshold compares but that explains the others (a label, the word a
    /// list matched): recorded in annotate mode only.
    pub fn note(&mut self, name: &str, value: impl Into<Value>) {
        if self.annotate {
            self.values.insert(name.to_string(), value.into());
        }
    }

    /// The document cannot be processed: it goes to the errors output, in both modes.
    pub fn error(&mut self, error: impl Into<String>) -> ControlFlow<()> {
        self.error = Some(error.into());
        ControlFlow::Break(())
    }

    /// Filter mode: takes the reason of the rule that failed, if one did.
    pub fn take_reason(&mut self) -> Option<Reason> {
        self.reason.take()
    }

    /// The values recorded so far (annotate mode; empty when filtering).
    pub fn values(&self) -> &Map<String, Value> {
        &self.values
    }

    /// Runs `filter` on `doc` in this mode and turns the result into the step's outcome.
    /// Annotate mode merges the values into `doc.metadata[step]` (an object) and keeps it.
    pub fn run(
        mut self,
        filter: &dyn Filter,
        mut doc: Document,
        cx: &mut StepCx,
        step: &str,
    ) -> Outcome {
        let _ = filter.judge(&mut doc, cx, &mut self);
        if let Some(error) = self.error {
            return Outcome::Error { doc, error };
        }
        if self.annotate {
            if !self.values.is_empty() {
                match doc.metadata.get_mut(step) {
                    Some(Value::Object(m)) => m.extend(self.values),
                    _ => {
                        doc.metadata
                            .insert(step.to_string(), Value::Object(self.values));
                    }
                }
            }
            return Outcome::Keep(doc);
        }
        Outcome::keep_unless(doc, self.reason)
    }

    /// Runs `filter` in filter mode and returns the rule that rejects `doc`, if any (an error
    /// is returned as `Err`): for callers that want the verdict without an [`Outcome`].
    pub fn verdict(
        filter: &dyn Filter,
        doc: &mut Document,
        cx: &mut StepCx,
    ) -> std::result::Result<Option<Reason>, String> {
        let mut rules = Rules::filter();
        let _ = filter.judge(doc, cx, &mut rules);
        match rules.error {
            Some(e) => Err(e),
            None => Ok(rules.reason),
        }
    }
}

/// A [`Filter`] step in annotate mode (`mode = "annotate"` in a recipe): it measures every
/// rule, writes the values into `metadata.<step>` (e.g. `gopher_quality.mean_word_length`) and
/// keeps every document. Scheduling, reports and scratch folders are the wrapped step's.
pub struct Annotate {
    inner: Box<dyn Step>,
}

impl Annotate {
    /// Wraps `step`; an error when it is not a filter (it has no rules to annotate).
    pub fn new(step: Box<dyn Step>) -> Result<Self> {
        if step.as_filter().is_none() {
            return Err(crate::Error::config(
                step.name(),
                format!(
                    "`mode` = \"annotate\": `{}` is not a filter (it has no rules whose \
                     values could be annotated); only filters can annotate",
                    step.name()
                ),
            ));
        }
        Ok(Annotate { inner: step })
    }
}

impl Step for Annotate {
    fn name(&self) -> &str {
        self.inner.name()
    }

    fn mode(&self) -> StepMode {
        self.inner.mode()
    }

    fn prepare(&self, doc: &mut Document, cx: &mut StepCx) -> Option<Prepared> {
        self.inner.prepare(doc, cx)
    }

    fn process(&self, doc: Document, cx: &mut StepCx) -> Outcome {
        match self.inner.as_filter() {
            Some(f) => Rules::annotate().run(f, doc, cx, self.inner.name()),
            // `new` checked that it is a filter.
            None => self.inner.process(doc, cx),
        }
    }

    fn observe(&self, doc: &Document) -> Result<()> {
        self.inner.observe(doc)
    }

    fn set_work_dir(&self, dir: &std::path::Path) -> Result<()> {
        self.inner.set_work_dir(dir)
    }

    fn end_observe(&self) -> Result<()> {
        self.inner.end_observe()
    }

    fn report(&self) -> Map<String, Value> {
        let mut r = self.inner.report();
        r.insert("mode".into(), "annotate".into());
        r
    }

    fn as_filter(&self) -> Option<&dyn Filter> {
        self.inner.as_filter()
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
