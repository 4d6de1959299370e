//! Parquet in and out: [`ParquetReader`] reads documents from a Parquet file row group by row
//! group; [`ParquetShardedWriter`] writes an output category as Parquet shards of a fixed
//! schema ([`Category::schema`]).

mod meta;
mod read;
mod schema;
mod value;
mod write;

pub use meta::{columns_of as meta_columns_of, input_schemas, MetaColumn, MetaKind};
pub use read::{batch_records, text_column, ParquetReader, Shared, BATCH_ROWS};
pub use schema::{Category, RowChunk, Rows};
pub use value::cell as json_cell;
pub use write::{schema_of, ParquetShardedWriter, ROW_GROUP_BYTES, ROW_GROUP_ROWS};

#[cfg(test)]
mod tests;
