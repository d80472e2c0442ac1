"""Declares the Spark engine; pyspark is imported only when the engine is used."""

from __future__ import annotations

from mlstat_core import hookimpl
from mlstat_core.components import ComponentSpec
from mlstat_spark.params import SparkParams


@hookimpl
def mlstat_engines() -> list[ComponentSpec]:
    return [ComponentSpec(
        name="spark", kind="engine", factory="mlstat_spark.engine:SparkEngine",
        params=SparkParams,
        description="Scores partitions with mapInPandas on a Spark cluster or local[*].")]
