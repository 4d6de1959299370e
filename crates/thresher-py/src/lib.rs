//! `thresher._thresher`: the native half of the Python package `thresher` (see
//! `python/thresher/__init__.py`, which wraps it). It loads recipes, runs them over files
//! ([`run`]), decides about in-memory batches ([`Pipeline`]), lists the recipes and steps, and
//! is the `thresher` command ([`cli_main`]). The GIL is released whenever Rust works.

// As in the `thresher` command: documents made on one thread and freed on another (the worker
// pool) cost glibc's malloc an arena lock each; mimalloc frees them without one.
#[global_allocator]
static GLOBAL: mimalloc::MiMalloc = mimalloc::MiMalloc;

mod arrow;

use std::path::PathBuf;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use crossbeam_channel::RecvTimeoutError;
use std::time::Duration;

use pyo3::create_exception;
use pyo3::exceptions::{PyKeyboardInterrupt, PyRuntimeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList, PyString};
use serde_json::{Map, Value};
use thresher::pipeline::Decision;
use thresher::RecipeError as CoreRecipeError;
use thresher::{registry, Progress, Recipe, RunError as CoreRunError, RunOptions};
use thresher_core::SourcePos;
use thresher_io::Record;

create_exception!(
    thresher,
    RecipeError,
    PyValueError,
    "A recipe could not be loaded: unknown step, bad parameter (the message names the line)."
);
create_exception!(
    thresher,
    RunError,
    PyRuntimeError,
    "A run could not be done: unreadable input, unusable output directory, a failed step."
);

/// What the refusal of a step this build lacks says instead of "build with the feature": this
/// build of the package has no `language_id` step at all (the published wheel has it, with the
/// table from the data package).
const LANGID_ADVICE: &str = "this build of the thresher package has no language-ID step; \
    build it with the step: MATURIN_PEP517_ARGS=\"--features langid-file\" pip install . \
    (the default of pyproject.toml), then pip install thresher[langid] for its table";

/// Finds the language-ID table for the `language_id` step: `thresher._langid.table_path()`,
/// which unpacks the `thresher-langid-data` package's table into a cache directory once, or
/// raises with what to install. Called (at most once a process when it succeeds) when a recipe
/// with the step is loaded, on whichever thread loads it; it takes the GIL, which every caller
/// in this module has released or holds.
#[cfg(feature = "langid-file")]
fn resolve_langid_table() -> Result<PathBuf, String> {
    Python::attach(|py| {
        let path = py
            .import("thresher._langid")
            .and_then(|m| m.call_method0("table_path"))
            .and_then(|p| p.extract::<PathBuf>());
        path.map_err(|e| e.value(py).to_string())
    })
}

fn recipe_err(e: CoreRecipeError) -> PyErr {
    let text = e.to_string();
    let text = match text.find("needs thresher built with the `langid` feature") {
        Some(i) => format!("{}is not available: {LANGID_ADVICE}", &text[..i]),
        None => text,
    };
    RecipeError::new_err(text)
}

/// A recipe from a bundled name, a path (str or os.PathLike), a TOML text, or a dict shaped as
/// the TOML (`{"step": [{"type": ...}, ...], "input": {...}}`).
fn load_recipe(recipe: &Bound<'_, PyAny>) -> PyResult<Recipe> {
    if let Ok(d) = recipe.cast::<PyDict>() {
        let table: toml::Table = pythonize::depythonize(d.as_any())
            .map_err(|e| RecipeError::new_err(format!("recipe dict: not a TOML table: {e}")))?;
        let text = toml::to_string(&table)
            .map_err(|e| RecipeError::new_err(format!("recipe dict: {e}")))?;
        return Recipe::parse("<dict>", &text).map_err(recipe_err);
    }
    let spec: String = if let Ok(s) = recipe.cast::<PyString>() {
        s.to_cow()?.into_owned()
    } else {
        let path: PathBuf = recipe.extract().map_err(|_| {
            RecipeError::new_err(
                "recipe: expected a bundled recipe's name, a path, a TOML text or a dict",
            )
        })?;
        path.to_string_lossy().into_owned()
    };
    // A TOML text has a newline or a table header; a name or a path has neither.
    if spec.contains('\n') || spec.trim_start().starts_with('[') {
        Recipe::parse("<string>", &spec).map_err(recipe_err)
    } else {
        Recipe::load(&spec).map_err(recipe_err)
    }
}

/// The recipe's TOML text, after loading (for `Pipeline.recipe_text` and error messages).
#[pyfunction]
fn recipe_text(recipe: &Bound<'_, PyAny>) -> PyResult<String> {
    Ok(load_recipe(recipe)?.text)
}

/// The language-ID table re-encoded for the data package (`thresher_langid::pack`): what
/// python/langid-data/build_data.py compresses. The GIL is released while it works.
#[cfg(feature = "langid-file")]
#[pyfunction]
fn langid_pack<'py>(py: Python<'py>, table: &[u8]) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
    let packed = py
        .detach(|| thresher_langid::pack::encode(table))
        .map_err(PyValueError::new_err)?;
    Ok(pyo3::types::PyBytes::new(py, &packed))
}

/// Writes the table of a re-encoded one (`langid_pack`'s inverse) to the file `out` (created
/// or truncated, then synced): the data package's unpacking (python/thresher/_langid.py).
#[cfg(feature = "langid-file")]
#[pyfunction]
fn langid_unpack(py: Python<'_>, packed: &[u8], out: PathBuf) -> PyResult<()> {
    py.detach(|| {
        let table = thresher_langid::pack::decode(packed).map_err(PyValueError::new_err)?;
        let write = || -> std::io::Result<()> {
            use std::io::Write;
            let mut f = std::fs::File::create(&out)?;
            f.write_all(&table)?;
            f.sync_all()
        };
        write().map_err(PyErr::from)
    })
}

/// The bundled recipes: (name, description, TOML text).
#[pyfunction]
fn recipes() -> Vec<(String, String, String)> {
    thresher::recipe::bundled()
        .iter()
        .map(|(name, text)| {
            (
                name.to_string(),
                thresher::recipe::description(text),
                text.to_string(),
            )
        })
        .collect()
}

/// The step types: (name, description, [(param, type, default, doc)], available). A step this
/// build lacks (language_id) is listed with no parameters and `available` false.
#[pyfunction]
#[allow(clippy::type_complexity)] // the Python wrapper gives it names
fn steps() -> Vec<(String, String, Vec<(String, String, String, String)>, bool)> {
    let mut out: Vec<_> = registry::step_names()
        .iter()
        .map(|name| {
            let params = registry::step_params(name)
                .unwrap_or_default()
                .into_iter()
                .map(|p| (p.name, p.ty, p.default, p.doc))
                .collect();
            let desc = registry::step_description(name).unwrap_or_default();
            (name.to_string(), desc.to_string(), params, true)
        })
        .collect();
    for (name, _) in registry::FEATURE_STEPS {
        if registry::feature_message(name).is_some() {
            out.push((
                name.to_string(),
                LANGID_ADVICE.to_string(),
                Vec::new(),
                false,
            ));
        }
    }
    out
}

/// The `thresher` command on `argv` (argv[0] is the program's name); returns its exit code.
#[pyfunction]
fn cli_main(py: Python<'_>, argv: Vec<String>) -> u8 {
    py.detach(|| thresher_cli::main(argv.into_iter().map(Into::into)))
}

/// Runs a recipe over files, as `thresher run` does; returns `stats.json`'s text. The GIL is
/// released during the run; `progress` (if given) is called about five times a second with
/// the live counters; Ctrl-C (or an exception from `progress`) stops the run after the batch
/// in hand, leaving a resumable output directory, and is raised again.
#[pyfunction]
#[pyo3(signature = (recipe, inputs, output, threads=0, resume=false, overwrite=false, progress=None))]
#[allow(clippy::too_many_arguments)] // the Python signature
fn run(
    py: Python<'_>,
    recipe: &Bound<'_, PyAny>,
    inputs: Vec<PathBuf>,
    output: PathBuf,
    threads: usize,
    resume: bool,
    overwrite: bool,
    progress: Option<Bound<'_, PyAny>>,
) -> PyResult<String> {
    let recipe = load_recipe(recipe)?;
    if threads > thresher::MAX_THREADS {
        return Err(PyValueError::new_err(format!(
            "threads={threads} is more than {} (the output does not depend on the thread \
             count; 0 means one per core)",
            thresher::MAX_THREADS
        )));
    }
    if resume && overwrite {
        return Err(PyValueError::new_err(
            "resume and overwrite exclude each other",
        ));
    }
    let counters = Arc::new(Progress::default());
    let cancel = Arc::new(AtomicUsize::new(0));
    let opts = RunOptions {
        inputs,
        outdir: output,
        threads,
        resume,
        overwrite,
        progress: Some(counters.clone()),
        cancel: Some(cancel.clone()),
        shard: None,
        no_report: false,
    };
    let (tx, rx) = crossbeam_channel::bounded(1);
    let worker = std::thread::Builder::new()
        .name("thresher-run".into())
        .spawn(move || {
            let _ = tx.send(thresher::run(&recipe, &opts));
        })
        .map_err(|e| RunError::new_err(format!("cannot start the run: {e}")))?;
    // The calling thread waits without the GIL, and takes it back between waits to report
    // progress and to let Python's signal handlers run (Ctrl-C).
    let mut stop: Option<PyErr> = None;
    let result = loop {
        match py.detach(|| rx.recv_timeout(Duration::from_millis(200))) {
            Ok(r) => break r,
            Err(RecvTimeoutError::Disconnected) => {
                break Err(CoreRunError::Step {
                    step: "run".into(),
                    message: "the run's thread ended without a result".into(),
                })
            }
            Err(RecvTimeoutError::Timeout) => {}
        }
        if stop.is_some() {
            continue;
        }
        let reported = match &progress {
            Some(cb) => cb.call1((progress_dict(py, &counters)?,)).map(drop),
            None => Ok(()),
        };
        if let Err(e) = reported.and_then(|_| py.check_signals()) {
            // SIGINT's number: the run stops after the batch in hand.
            cancel.store(2, Ordering::Relaxed);
            stop = Some(e);
        }
    };
    let _ = py.detach(|| worker.join());
    if let Some(e) = stop {
        return Err(e);
    }
    match result {
        Ok(stats) => {
            serde_json::to_string(&stats).map_err(|e| RunError::new_err(format!("stats: {e}")))
        }
        Err(e @ CoreRunError::Interrupted { .. }) => {
            Err(PyKeyboardInterrupt::new_err(e.to_string()))
        }
        Err(CoreRunError::Recipe(e)) => Err(recipe_err(e)),
        Err(e) => Err(RunError::new_err(e.to_string())),
    }
}

fn progress_dict<'py>(py: Python<'py>, p: &Progress) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    let phase = p.phase.load(Ordering::Relaxed);
    d.set_item("docs", p.docs.load(Ordering::Relaxed))?;
    d.set_item("bytes", p.bytes.load(Ordering::Relaxed))?;
    d.set_item("kept", p.kept.load(Ordering::Relaxed))?;
    d.set_item("phase", phase >> 32)?;
    d.set_item("phases", (phase & 0xffff_ffff).max(1))?;
    d.set_item("phase_docs", p.phase_docs.load(Ordering::Relaxed))?;
    Ok(d)
}

/// A recipe's steps, built once, deciding about in-memory batches (see `thresher.Pipeline`).
#[pyclass(frozen, module = "thresher._thresher")]
struct Pipeline {
    inner: thresher::pipeline::Pipeline,
    batch_file: Arc<str>,
}

/// A Python value as the JSON value a step sees; what JSON has no form for (a date, bytes, a
/// numpy scalar pythonize does not know) becomes its `str()`.
fn to_value(v: &Bound<'_, PyAny>) -> Value {
    match pythonize::depythonize::<Value>(v) {
        Ok(v) => v,
        Err(_) => Value::String(
            v.str()
                .map(|s| s.to_string_lossy().into_owned())
                .unwrap_or_default(),
        ),
    }
}

/// A text cell: a `str` is moved in without the JSON round trip; anything else is a value the
/// reader's rules turn into an error record.
fn text_value(v: &Bound<'_, PyAny>) -> Value {
    match v.cast::<PyString>() {
        Ok(s) => match s.to_cow() {
            Ok(c) => Value::String(c.into_owned()),
            // A lone surrogate: not UTF-8, as invalid UTF-8 in a file is an error record.
            Err(_) => Value::String(s.to_string_lossy().into_owned()),
        },
        Err(_) => to_value(v),
    }
}

impl Pipeline {
    fn source(&self, index: usize) -> SourcePos {
        SourcePos {
            file: self.batch_file.clone(),
            line: index as u64 + 1,
            byte_offset: 0,
        }
    }

    /// Reads a record's fields (a dict) as the JSONL reader reads a line's.
    fn record(&self, index: usize, fields: Map<String, Value>) -> Record {
        thresher_io::record_from_map(
            Value::Object(fields),
            self.source(index),
            &self.inner.recipe().input,
        )
    }

    fn fields_of(&self, d: &Bound<'_, PyAny>) -> Result<Map<String, Value>, String> {
        let dict = d
            .cast::<PyDict>()
            .map_err(|_| format!("not a dict but {}", type_name(d)))?;
        let text_field = &self.inner.recipe().input.text_field;
        let mut m = Map::new();
        for (k, v) in dict.iter() {
            let key = match k.cast::<PyString>() {
                Ok(s) => s.to_string_lossy().into_owned(),
                Err(_) => k.str().map_or_else(|_| String::new(), |s| s.to_string()),
            };
            let value = if &key == text_field {
                text_value(&v)
            } else {
                to_value(&v)
            };
            m.insert(key, value);
        }
        Ok(m)
    }
}

fn type_name(v: &Bound<'_, PyAny>) -> String {
    v.get_type()
        .name()
        .map(|n| n.to_string())
        .unwrap_or_else(|_| "?".into())
}

#[pymethods]
impl Pipeline {
    #[new]
    #[pyo3(signature = (recipe, threads=1, batch_name="batch"))]
    fn new(
        py: Python<'_>,
        recipe: &Bound<'_, PyAny>,
        threads: usize,
        batch_name: &str,
    ) -> PyResult<Self> {
        let recipe = load_recipe(recipe)?;
        let inner = py
            .detach(|| thresher::pipeline::Pipeline::new(recipe, threads))
            .map_err(recipe_err)?;
        Ok(Pipeline {
            inner,
            batch_file: batch_name.into(),
        })
    }

    /// The recipe's TOML text.
    #[getter]
    fn recipe_text(&self) -> String {
        self.inner.recipe().text.clone()
    }

    /// The `[input]` field names: (id, text, metadata).
    #[getter]
    fn fields(&self) -> (String, String, String) {
        let i = &self.inner.recipe().input;
        (
            i.id_field.clone(),
            i.text_field.clone(),
            i.metadata_field.clone(),
        )
    }

    /// Each step's counts over every batch so far, as JSON (`stats.json`'s `steps`).
    fn step_stats(&self) -> PyResult<String> {
        serde_json::to_string(&self.inner.step_stats())
            .map_err(|e| RunError::new_err(e.to_string()))
    }

    /// Decides about a list of dicts; returns (kept, rejected, errors), lists of dicts as the
    /// `thresher` command writes its lines (`id`, `text`, `metadata`, `annotations` when a step
    /// noted something; rejected ones with `reason`, `value` and `step`; errors with `id`,
    /// `index` in the batch, `error` and `step`).
    #[allow(clippy::type_complexity)]
    fn process_dicts<'py>(
        &self,
        py: Python<'py>,
        records: &Bound<'py, PyList>,
    ) -> PyResult<(
        Vec<Bound<'py, PyAny>>,
        Vec<Bound<'py, PyAny>>,
        Vec<Bound<'py, PyAny>>,
    )> {
        let recs: Vec<Record> = records
            .iter()
            .enumerate()
            .map(|(i, r)| match self.fields_of(&r) {
                Ok(m) => self.record(i, m),
                Err(message) => Record::Error(thresher_io::RecordError {
                    source: self.source(i),
                    message,
                    id: String::new(),
                }),
            })
            .collect();
        let decisions = py.detach(|| self.inner.process(recs));
        let (mut kept, mut rejected, mut errors) = (Vec::new(), Vec::new(), Vec::new());
        for d in decisions {
            match d {
                Decision::Kept(doc) => kept.push(doc_dict(py, &doc)?.into_any()),
                Decision::Rejected { doc, reason, step } => {
                    let d = doc_dict(py, &doc)?;
                    d.set_item("reason", reason.code.as_ref())?;
                    let (value, value_text) =
                        thresher_io::jsonl::write::rejected_value(&reason.value);
                    d.set_item("value", value)?;
                    d.set_item("value_text", value_text)?;
                    d.set_item("step", step)?;
                    rejected.push(d.into_any());
                }
                Decision::Error {
                    id,
                    source,
                    message,
                    step,
                } => errors.push(error_dict(py, &id, &source, &message, step)?.into_any()),
            }
        }
        Ok((kept, rejected, errors))
    }

    /// Decides about Arrow data (anything with `__arrow_c_stream__`: a pyarrow Table); its
    /// rows are read as the Parquet reader reads a file's. Returns (kept, rejected, errors) as
    /// Arrow streams (`pyarrow.table(x)` reads one): kept and rejected rows keep every column
    /// and its type, the text column holding the final text; rejected rows add `reason`,
    /// `value`, `value_text` and `step`; errors are `index`, `id`, `error` and `step`.
    fn process_arrow(
        &self,
        py: Python<'_>,
        data: &Bound<'_, PyAny>,
    ) -> PyResult<(arrow::ArrowStream, arrow::ArrowStream, arrow::ArrowStream)> {
        let (schema, batches) = arrow::import(data)?;
        let opts = &self.inner.recipe().input;
        let out = py.detach(|| {
            let records = arrow::records(&batches, &self.batch_file, opts);
            let decisions = self.inner.process(records);
            arrow::outputs(&schema, &batches, decisions, opts)
        });
        let out = out.map_err(|e| RunError::new_err(format!("Arrow output: {e}")))?;
        Ok((out.kept, out.rejected, out.errors))
    }

    /// Decides about a batch given as columns (`names[k]` holds `columns[k]`, each a list of
    /// `rows` values), each row read as a record with those fields. Returns a dict of lists:
    /// `kept_index`/`kept_text`, `rejected_index`/`rejected_text`/`reason`/`value` (JSON
    /// text)/`step`, `error_index`/`error_id`/`error`/`error_step`.
    fn process_columns<'py>(
        &self,
        py: Python<'py>,
        names: Vec<String>,
        columns: Vec<Bound<'py, PyList>>,
        rows: usize,
    ) -> PyResult<Bound<'py, PyDict>> {
        if names.len() != columns.len() || columns.iter().any(|c| c.len() != rows) {
            return Err(PyValueError::new_err("columns of unequal lengths"));
        }
        let text_field = self.inner.recipe().input.text_field.clone();
        let mut maps: Vec<Map<String, Value>> = (0..rows).map(|_| Map::new()).collect();
        for (name, col) in names.iter().zip(&columns) {
            let is_text = *name == text_field;
            for (m, v) in maps.iter_mut().zip(col.iter()) {
                let value = if is_text {
                    text_value(&v)
                } else {
                    to_value(&v)
                };
                m.insert(name.clone(), value);
            }
        }
        let recs: Vec<Record> = maps
            .into_iter()
            .enumerate()
            .map(|(i, m)| self.record(i, m))
            .collect();
        let decisions = py.detach(|| self.inner.process(recs));
        let mut kept_index = Vec::new();
        let mut kept_text = Vec::new();
        let mut rejected_index = Vec::new();
        let mut rejected_text = Vec::new();
        let mut reason = Vec::new();
        let mut value = Vec::new();
        let mut value_text = Vec::new();
        let mut step_of = Vec::new();
        let mut error_index = Vec::new();
        let mut error_id = Vec::new();
        let mut error = Vec::new();
        let mut error_step = Vec::new();
        for (i, d) in decisions.into_iter().enumerate() {
            match d {
                Decision::Kept(mut doc) => {
                    kept_index.push(i);
                    kept_text.push(doc.take_text());
                }
                Decision::Rejected {
                    mut doc,
                    reason: r,
                    step,
                } => {
                    rejected_index.push(i);
                    rejected_text.push(doc.take_text());
                    reason.push(r.code.into_owned());
                    let (v, t) = thresher_io::jsonl::write::rejected_value(&r.value);
                    value.push(v);
                    value_text.push(t);
                    step_of.push(step);
                }
                Decision::Error {
                    id, message, step, ..
                } => {
                    error_index.push(i);
                    error_id.push(id);
                    error.push(message);
                    error_step.push(step);
                }
            }
        }
        let d = PyDict::new(py);
        d.set_item("kept_index", kept_index)?;
        d.set_item("kept_text", kept_text)?;
        d.set_item("rejected_index", rejected_index)?;
        d.set_item("rejected_text", rejected_text)?;
        d.set_item("reason", reason)?;
        d.set_item("value", value)?;
        d.set_item("value_text", value_text)?;
        d.set_item("step", step_of)?;
        d.set_item("error_index", error_index)?;
        d.set_item("error_id", error_id)?;
        d.set_item("error", error)?;
        d.set_item("error_step", error_step)?;
        Ok(d)
    }
}

fn pythonize<'py>(py: Python<'py>, v: &impl serde::Serialize) -> PyResult<Bound<'py, PyAny>> {
    pythonize::pythonize(py, v).map_err(|e| PyValueError::new_err(e.to_string()))
}

/// `{"id", "text", "metadata"[, "annotations"]}`, as the CLI's kept line.
fn doc_dict<'py>(py: Python<'py>, doc: &thresher_core::Document) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", &doc.id)?;
    d.set_item("text", doc.text())?;
    d.set_item("metadata", pythonize(py, &doc.metadata)?)?;
    if !doc.annotations.is_empty() {
        d.set_item("annotations", pythonize(py, &doc.annotations)?)?;
    }
    Ok(d)
}

fn error_dict<'py>(
    py: Python<'py>,
    id: &str,
    source: &SourcePos,
    message: &str,
    step: Option<String>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("id", id)?;
    d.set_item("index", source.line.saturating_sub(1))?;
    d.set_item("error", message)?;
    d.set_item("step", step)?;
    Ok(d)
}

/// The native module.
#[pymodule]
fn _thresher(m: &Bound<'_, PyModule>) -> PyResult<()> {
    // The module's own allocator (mimalloc, above): the command's purge mode.
    thresher_cli::tune_allocator();
    m.add_function(wrap_pyfunction!(run, m)?)?;
    m.add_function(wrap_pyfunction!(recipes, m)?)?;
    m.add_function(wrap_pyfunction!(steps, m)?)?;
    m.add_function(wrap_pyfunction!(recipe_text, m)?)?;
    m.add_function(wrap_pyfunction!(cli_main, m)?)?;
    #[cfg(feature = "langid-file")]
    {
        m.add_function(wrap_pyfunction!(langid_pack, m)?)?;
        m.add_function(wrap_pyfunction!(langid_unpack, m)?)?;
    }
    m.add_class::<Pipeline>()?;
    m.add_class::<arrow::ArrowStream>()?;
    m.add("RecipeError", m.py().get_type::<RecipeError>())?;
    m.add("RunError", m.py().get_type::<RunError>())?;
    m.add("LANGID_ADVICE", LANGID_ADVICE)?;
    // The version the data package `thresher-langid-data` must have (python/thresher/_langid.py).
    m.add("VERSION", env!("CARGO_PKG_VERSION"))?;
    #[cfg(feature = "langid-file")]
    thresher_langid::set_table_resolver(resolve_langid_table);
    m.add(
        "HAS_LANGID",
        registry::feature_message("language_id").is_none(),
    )?;
    Ok(())
}
