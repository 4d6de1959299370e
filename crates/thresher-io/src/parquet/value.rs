//! Arrow cells as JSON values, for the metadata of documents read from Parquet.
//!
//! The rule, per Arrow type: integers stay integers, floats floats (NaN and infinities, which
//! JSON cannot hold, become null), booleans booleans, strings strings; dates and timestamps are
//! ISO 8601 strings (`2024-01-31`, `2024-01-31T12:00:00.5`, with a `Z` when the column has a time
//! zone: the instant in UTC); decimals are strings (exact); binary is a string when it is UTF-8,
//! else lower-case hex; lists are arrays, structs and maps objects; dictionary-encoded values are
//! their values. Types JSON has no sensible form for (intervals, unions) are null.

use arrow_array::cast::AsArray;
use arrow_array::types::*;
use arrow_array::{downcast_dictionary_array, Array, ArrowPrimitiveType};
use arrow_schema::{DataType, TimeUnit};
use serde_json::{Map, Number, Value};

/// The value of `array` at `row` as JSON (null when the cell is null).
pub fn cell(array: &dyn Array, row: usize) -> Value {
    if array.is_null(row) {
        return Value::Null;
    }
    match array.data_type() {
        DataType::Null => Value::Null,
        DataType::Boolean => Value::Bool(array.as_boolean().value(row)),
        DataType::Int8 => int(array.as_primitive::<Int8Type>().value(row)),
        DataType::Int16 => int(array.as_primitive::<Int16Type>().value(row)),
        DataType::Int32 => int(array.as_primitive::<Int32Type>().value(row)),
        DataType::Int64 => int(array.as_primitive::<Int64Type>().value(row)),
        DataType::UInt8 => int(array.as_primitive::<UInt8Type>().value(row)),
        DataType::UInt16 => int(array.as_primitive::<UInt16Type>().value(row)),
        DataType::UInt32 => int(array.as_primitive::<UInt32Type>().value(row)),
        DataType::UInt64 => Value::Number(array.as_primitive::<UInt64Type>().value(row).into()),
        DataType::Float16 => float(array.as_primitive::<Float16Type>().value(row).to_f64()),
        DataType::Float32 => float(f64::from(array.as_primitive::<Float32Type>().value(row))),
        DataType::Float64 => float(array.as_primitive::<Float64Type>().value(row)),
        DataType::Utf8 => Value::String(array.as_string::<i32>().value(row).to_owned()),
        DataType::LargeUtf8 => Value::String(array.as_string::<i64>().value(row).to_owned()),
        DataType::Utf8View => Value::String(array.as_string_view().value(row).to_owned()),
        DataType::Binary => bytes(array.as_binary::<i32>().value(row)),
        DataType::LargeBinary => bytes(array.as_binary::<i64>().value(row)),
        DataType::BinaryView => bytes(array.as_binary_view().value(row)),
        DataType::FixedSizeBinary(_) => bytes(array.as_fixed_size_binary().value(row)),
        DataType::Date32 => date::<Date32Type>(array, row),
        DataType::Date64 => date::<Date64Type>(array, row),
        DataType::Timestamp(unit, tz) => {
            let tz = tz.is_some();
            match unit {
                TimeUnit::Second => timestamp::<TimestampSecondType>(array, row, tz),
                TimeUnit::Millisecond => timestamp::<TimestampMillisecondType>(array, row, tz),
                TimeUnit::Microsecond => timestamp::<TimestampMicrosecondType>(array, row, tz),
                TimeUnit::Nanosecond => timestamp::<TimestampNanosecondType>(array, row, tz),
            }
        }
        // Times of day and durations: the count of their unit, as stored.
        DataType::Time32(TimeUnit::Second) => {
            int(array.as_primitive::<Time32SecondType>().value(row))
        }
        DataType::Time32(_) => int(array.as_primitive::<Time32MillisecondType>().value(row)),
        DataType::Time64(TimeUnit::Microsecond) => {
            int(array.as_primitive::<Time64MicrosecondType>().value(row))
        }
        DataType::Time64(_) => int(array.as_primitive::<Time64NanosecondType>().value(row)),
        DataType::Duration(TimeUnit::Second) => {
            int(array.as_primitive::<DurationSecondType>().value(row))
        }
        DataType::Duration(TimeUnit::Millisecond) => {
            int(array.as_primitive::<DurationMillisecondType>().value(row))
        }
        DataType::Duration(TimeUnit::Microsecond) => {
            int(array.as_primitive::<DurationMicrosecondType>().value(row))
        }
        DataType::Duration(TimeUnit::Nanosecond) => {
            int(array.as_primitive::<DurationNanosecondType>().value(row))
        }
        DataType::Decimal32(..) => decimal(array.as_primitive::<Decimal32Type>(), row),
        DataType::Decimal64(..) => decimal(array.as_primitive::<Decimal64Type>(), row),
        DataType::Decimal128(..) => decimal(array.as_primitive::<Decimal128Type>(), row),
        DataType::Decimal256(..) => decimal(array.as_primitive::<Decimal256Type>(), row),
        DataType::List(_) => {
            let l = array.as_list::<i32>();
            list(&*l.value(row))
        }
        DataType::LargeList(_) => {
            let l = array.as_list::<i64>();
            list(&*l.value(row))
        }
        DataType::FixedSizeList(..) => list(&*array.as_fixed_size_list().value(row)),
        DataType::ListView(_) => list(&*array.as_list_view::<i32>().value(row)),
        DataType::LargeListView(_) => list(&*array.as_list_view::<i64>().value(row)),
        DataType::Struct(fields) => {
            let s = array.as_struct();
            let mut m = Map::new();
            for (f, col) in fields.iter().zip(s.columns()) {
                m.insert(f.name().clone(), cell(&**col, row));
            }
            Value::Object(m)
        }
        DataType::Map(..) => {
            let entries = array.as_map().value(row);
            let (keys, values) = (entries.column(0), entries.column(1));
            let mut m = Map::new();
            for i in 0..entries.len() {
                let k = match cell(&**keys, i) {
                    Value::String(s) => s,
                    other => other.to_string(),
                };
                m.insert(k, cell(&**values, i));
            }
            Value::Object(m)
        }
        DataType::Dictionary(..) => downcast_dictionary_array!(
            array => {
                let key = array.keys().value(row);
                let key = arrow_buffer::ArrowNativeType::as_usize(key);
                cell(&**array.values(), key)
            },
            _ => Value::Null
        ),
        DataType::RunEndEncoded(..) | DataType::Interval(_) | DataType::Union(..) => Value::Null,
    }
}

fn int(v: impl Into<i64>) -> Value {
    Value::Number(v.into().into())
}

fn float(v: f64) -> Value {
    Number::from_f64(v).map_or(Value::Null, Value::Number)
}

fn bytes(b: &[u8]) -> Value {
    match std::str::from_utf8(b) {
        Ok(s) => Value::String(s.to_owned()),
        Err(_) => {
            const HEX: &[u8; 16] = b"0123456789abcdef";
            let mut s = String::with_capacity(b.len() * 2);
            for &c in b {
                s.push(HEX[(c >> 4) as usize] as char);
                s.push(HEX[(c & 15) as usize] as char);
            }
            Value::String(s)
        }
    }
}

fn list(values: &dyn Array) -> Value {
    Value::Array((0..values.len()).map(|i| cell(values, i)).collect())
}

fn decimal<T: DecimalType>(a: &arrow_array::PrimitiveArray<T>, row: usize) -> Value {
    Value::String(a.value_as_string(row))
}

fn date<T: ArrowPrimitiveType>(array: &dyn Array, row: usize) -> Value
where
    i64: From<T::Native>,
{
    let v = i64::from(array.as_primitive::<T>().value(row));
    match arrow_array::temporal_conversions::as_date::<T>(v) {
        Some(d) => Value::String(d.format("%Y-%m-%d").to_string()),
        None => Value::Null,
    }
}

fn timestamp<T: ArrowPrimitiveType<Native = i64>>(
    array: &dyn Array,
    row: usize,
    tz: bool,
) -> Value {
    let v = array.as_primitive::<T>().value(row);
    match arrow_array::temporal_conversions::as_datetime::<T>(v) {
        Some(t) => {
            let mut s = t.format("%Y-%m-%dT%H:%M:%S%.f").to_string();
            if tz {
                s.push('Z');
            }
            Value::String(s)
        }
        None => Value::Null,
    }
}
