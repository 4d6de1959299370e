//! `Pipeline.process` on Arrow data (a pyarrow Table or RecordBatch, or anything else with
//! `__arrow_c_stream__`): the batches cross the Arrow C stream interface in both directions,
//! so no Python object is made per cell. Rows are read with the Parquet reader's column rules
//! ([`thresher_io::parquet::batch_records`]); each text is copied once, from the Arrow buffer
//! into its document. The kept and rejected outputs are the input's rows (`take`) with every
//! column, its type and the schema's metadata kept, and the text column replaced by the final
//! texts; rejected rows gain `reason`, `value`, `value_text` and `step`.

use std::ffi::CStr;
use std::sync::{Arc, Mutex};

use arrow_array::ffi_stream::{ArrowArrayStreamReader, FFI_ArrowArrayStream};
use arrow_array::{
    ArrayRef, Float64Array, Int64Array, LargeStringArray, RecordBatch, RecordBatchIterator,
    StringArray, StringViewArray,
};
use arrow_schema::{DataType, Field, Schema, SchemaRef};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyCapsule;
use thresher::pipeline::Decision;
use thresher_io::parquet::{batch_records, text_column};
use thresher_io::Record;

const STREAM: &CStr = c"arrow_array_stream";

/// Arrow record batches handed to Python through `__arrow_c_stream__` (once: the stream moves
/// them out). `pyarrow.table(obj)` or `pyarrow.RecordBatchReader.from_stream(obj)` reads it.
#[pyclass(frozen, module = "thresher._thresher")]
pub struct ArrowStream {
    schema: SchemaRef,
    batches: Mutex<Option<Vec<RecordBatch>>>,
}

#[pymethods]
impl ArrowStream {
    /// The Arrow PyCapsule protocol: a capsule holding an `ArrowArrayStream` of the batches.
    #[pyo3(signature = (requested_schema=None))]
    fn __arrow_c_stream__<'py>(
        &self,
        py: Python<'py>,
        requested_schema: Option<Bound<'py, PyAny>>,
    ) -> PyResult<Bound<'py, PyCapsule>> {
        // The schema is the data's own; a consumer that asks for another casts afterwards
        // (the protocol allows ignoring the request).
        let _ = requested_schema;
        let batches = self
            .batches
            .lock()
            .map_err(|_| PyValueError::new_err("stream poisoned"))?
            .take()
            .ok_or_else(|| PyValueError::new_err("this Arrow stream was already consumed"))?;
        let reader = RecordBatchIterator::new(batches.into_iter().map(Ok), self.schema.clone());
        let stream = FFI_ArrowArrayStream::new(Box::new(reader));
        // The capsule owns the stream: a consumer moves it out (leaving `release` null); one
        // never consumed is released when the capsule is freed (`FFI_ArrowArrayStream`'s Drop).
        PyCapsule::new_with_value(py, stream, STREAM)
    }
}

impl ArrowStream {
    fn new(schema: SchemaRef, batches: Vec<RecordBatch>) -> Self {
        ArrowStream {
            schema,
            batches: Mutex::new(Some(batches)),
        }
    }
}

/// The record batches of `data`'s `__arrow_c_stream__`.
pub fn import(data: &Bound<'_, PyAny>) -> PyResult<(SchemaRef, Vec<RecordBatch>)> {
    if !data.hasattr("__arrow_c_stream__")? {
        return Err(PyTypeError::new_err(
            "expected Arrow data with __arrow_c_stream__ (a pyarrow Table; pyarrow 14 or later)",
        ));
    }
    let capsule = data.call_method0("__arrow_c_stream__")?;
    let capsule = capsule.cast::<PyCapsule>()?;
    let ptr = capsule.pointer_checked(Some(STREAM))?;
    // SAFETY: a capsule named "arrow_array_stream" holds an `ArrowArrayStream` (the Arrow
    // PyCapsule protocol); `from_raw` moves it out, leaving a released (null) stream that the
    // capsule's destructor then skips, as the protocol requires of a consumer.
    let stream = unsafe { FFI_ArrowArrayStream::from_raw(ptr.as_ptr().cast()) };
    let reader = ArrowArrayStreamReader::try_new(stream)
        .map_err(|e| PyValueError::new_err(format!("Arrow stream: {e}")))?;
    let schema = arrow_array::RecordBatchReader::schema(&reader);
    let batches = reader
        .collect::<Result<Vec<_>, _>>()
        .map_err(|e| PyValueError::new_err(format!("Arrow stream: {e}")))?;
    Ok((schema, batches))
}

/// What `process` gives back for Arrow data: kept, rejected and errors as Arrow streams.
pub struct Outputs {
    pub kept: ArrowStream,
    pub rejected: ArrowStream,
    pub errors: ArrowStream,
}

/// The records of the batches (rows numbered across them, from line 1 of `name`).
pub fn records(
    batches: &[RecordBatch],
    name: &Arc<str>,
    opts: &thresher_io::ReadOptions,
) -> Vec<Record> {
    let mut first = 0u64;
    let mut out = Vec::with_capacity(batches.iter().map(|b| b.num_rows()).sum());
    for b in batches {
        out.extend(batch_records(b, name, first, opts));
        first += b.num_rows() as u64;
    }
    out
}

/// The texts of one output column, in the Arrow type of the input's text column where that
/// is a string type (else plain `string`).
fn text_array(texts: Vec<String>, typ: &DataType) -> ArrayRef {
    match typ {
        DataType::LargeUtf8 => Arc::new(LargeStringArray::from(texts)),
        DataType::Utf8View => Arc::new(StringViewArray::from_iter_values(texts)),
        _ => Arc::new(StringArray::from(texts)),
    }
}

fn text_type(typ: &DataType) -> DataType {
    match typ {
        DataType::LargeUtf8 | DataType::Utf8View => typ.clone(),
        _ => DataType::Utf8,
    }
}

/// One output category's rows of one input batch.
#[derive(Default)]
struct Part {
    rows: Vec<u64>,
    texts: Vec<String>,
    reason: Vec<String>,
    value: Vec<Option<f64>>,
    value_text: Vec<String>,
    step: Vec<String>,
}

/// Builds the outputs from the decisions (one per row of `batches`, in order).
pub fn outputs(
    schema: &SchemaRef,
    batches: &[RecordBatch],
    decisions: Vec<Decision>,
    opts: &thresher_io::ReadOptions,
) -> Result<Outputs, arrow_schema::ArrowError> {
    let text = text_column(schema, opts);
    let out_schema = |extra: &[Field]| -> SchemaRef {
        let mut fields: Vec<Field> = schema
            .fields()
            .iter()
            .enumerate()
            .map(|(i, f)| {
                let f = f.as_ref().clone();
                if Some(i) == text {
                    let t = text_type(f.data_type());
                    f.with_data_type(t)
                } else {
                    f
                }
            })
            .collect();
        fields.extend(extra.iter().cloned());
        Arc::new(Schema::new_with_metadata(fields, schema.metadata().clone()))
    };
    let kept_schema = out_schema(&[]);
    let rejected_schema = out_schema(&[
        Field::new("reason", DataType::Utf8, false),
        Field::new("value", DataType::Float64, true),
        Field::new("value_text", DataType::Utf8, false),
        Field::new("step", DataType::Utf8, false),
    ]);
    let (mut e_index, mut e_id, mut e_error, mut e_step) = (vec![], vec![], vec![], vec![]);
    let mut kept_batches = Vec::with_capacity(batches.len());
    let mut rejected_batches = Vec::with_capacity(batches.len());
    let mut decisions = decisions.into_iter();
    let mut row0 = 0u64;
    for b in batches {
        let (mut kept, mut rejected) = (Part::default(), Part::default());
        for r in 0..b.num_rows() as u64 {
            match decisions.next() {
                Some(Decision::Kept(mut doc)) => {
                    kept.rows.push(r);
                    kept.texts.push(doc.take_text());
                }
                Some(Decision::Rejected {
                    mut doc,
                    reason,
                    step,
                }) => {
                    rejected.rows.push(r);
                    rejected.texts.push(doc.take_text());
                    let (v, t) = thresher_io::jsonl::write::rejected_value(&reason.value);
                    rejected.reason.push(reason.code.into_owned());
                    rejected.value.push(v);
                    rejected.value_text.push(t);
                    rejected.step.push(step);
                }
                Some(Decision::Error {
                    id, message, step, ..
                }) => {
                    e_index.push((row0 + r) as i64);
                    e_id.push(id);
                    e_error.push(message);
                    e_step.push(step);
                }
                // One decision per record: not reached.
                None => {
                    e_index.push((row0 + r) as i64);
                    e_id.push(String::new());
                    e_error.push("no decision (a thresher bug; please report it)".into());
                    e_step.push(None);
                }
            }
        }
        row0 += b.num_rows() as u64;
        let take = |part: Part, schema: &SchemaRef, rejected: bool| {
            let index = arrow_array::UInt64Array::from(part.rows);
            let taken = arrow_select::take::take_record_batch(b, &index)?;
            let mut columns = taken.columns().to_vec();
            if let Some(t) = text {
                columns[t] = text_array(part.texts, b.schema_ref().field(t).data_type());
            }
            if rejected {
                columns.push(Arc::new(StringArray::from(part.reason)));
                columns.push(Arc::new(Float64Array::from(part.value)));
                columns.push(Arc::new(StringArray::from(part.value_text)));
                columns.push(Arc::new(StringArray::from(part.step)));
            }
            RecordBatch::try_new(schema.clone(), columns)
        };
        kept_batches.push(take(kept, &kept_schema, false)?);
        rejected_batches.push(take(rejected, &rejected_schema, true)?);
    }
    let errors_schema = Arc::new(Schema::new(vec![
        Field::new("index", DataType::Int64, false),
        Field::new("id", DataType::Utf8, false),
        Field::new("error", DataType::Utf8, false),
        Field::new("step", DataType::Utf8, true),
    ]));
    let errors = RecordBatch::try_new(
        errors_schema.clone(),
        vec![
            Arc::new(Int64Array::from(e_index)),
            Arc::new(StringArray::from(e_id)),
            Arc::new(StringArray::from(e_error)),
            Arc::new(StringArray::from(e_step)),
        ],
    )?;
    Ok(Outputs {
        kept: ArrowStream::new(kept_schema, kept_batches),
        rejected: ArrowStream::new(rejected_schema, rejected_batches),
        errors: ArrowStream::new(errors_schema, vec![errors]),
    })
}
