"""Ray Data's map_batches(batch_format="pyarrow") with the real ray library, on a local
cluster, reading Parquet files and writing Parquet: the kept rows are the CLI's, with their
texts and every column's type."""

import pytest

from test_parity import expected


@pytest.fixture(scope="module")
def ray_cluster():
    ray = pytest.importorskip("ray")
    # Logical CPUs: the two Filter actors hold one each, and Ray Data's read and repartition
    # tasks need their own, or the pipeline waits for a CPU that never frees.
    ray.init(
        num_cpus=4,
        include_dashboard=False,
        log_to_driver=False,
        configure_logging=False,
        object_store_memory=200 * 1024 * 1024,
    )
    yield ray
    ray.shutdown()


def test_ray_map_batches_pyarrow_keeps_the_cli_kept(ray_cluster, reference_docs, cli_fineweb, tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as pq
    import ray.data

    from thresher.integrations.batches import Filter

    sample = [
        {"id": d["id"], "text": d["text"], "source": d["metadata"]["source"], "n": i}
        for i, d in enumerate(reference_docs[:800])
    ]
    table = pa.Table.from_pylist(sample).cast(
        pa.schema([("id", pa.string()), ("text", pa.large_string()), ("source", pa.string()),
                   ("n", pa.int32())])
    )
    # Four Parquet files, as a user's dataset on disk or in a store is.
    src = tmp_path / "in"
    src.mkdir()
    for k in range(4):
        pq.write_table(table.slice(k * 200, 200), src / f"part-{k}.parquet", row_group_size=50)
    ds = ray.data.read_parquet(str(src), override_num_blocks=4)
    out = ds.map_batches(
        Filter,
        fn_constructor_args=("fineweb",),
        batch_format="pyarrow",
        batch_size=100,
        concurrency=2,
    )
    dest = tmp_path / "out"
    out.write_parquet(str(dest))
    kept = pq.read_table(dest)
    want = expected(cli_fineweb)
    ids = [d["id"] for d in sample]
    assert sorted(kept.column("id").to_pylist()) == sorted(i for i in ids if want[i][0] == "kept")
    for row in kept.to_pylist():
        assert row["text"] == want[row["id"]][1]
    assert kept.schema.field("text").type == pa.large_string()
    assert kept.schema.field("n").type == pa.int32()
