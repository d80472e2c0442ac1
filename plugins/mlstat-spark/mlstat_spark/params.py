"""Params of the Spark engine (light: discovery imports this, never pyspark)."""

from __future__ import annotations

import re
from typing import Any, Literal

from pydantic import Field, field_validator

from mlstat_core.components import Params

MASTER = re.compile(
    r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?"          # local, local[4], local[*,2]
    r"|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|spark://[^\s/:,]+(:\d+)?(,[^\s/:,]+(:\d+)?)*"     # standalone, with standby masters
    r"|yarn|k8s://\S+|sc://[^\s/:]+(:\d+)?(/\S*)?")
MASTER_FORMS = ("local, local[N], local[*], spark://host:7077, yarn, k8s://https://host:port "
                "or sc://host:15002")


class SparkParams(Params):
    master: str = Field("local[*]", description="master URL: local[N], spark://host:port, "
                                                "yarn, or sc://host for Spark Connect")
    app_name: str = Field("mlstat", description="application name shown by the cluster")
    input_format: Literal["auto", "csv", "parquet", "table"] = Field(
        "auto", description="how to read --input: by suffix, or as a catalog table name")
    partitions: int | None = Field(None, ge=1, description="repartition the input to this many "
                                                           "partitions before scoring")
    batch_size: int = Field(10_000, ge=100, description="records per Arrow batch handed to "
                                                        "the model (bounds executor memory)")
    parquet_dictionary: bool = Field(
        False, description="dictionary-encode the output Parquet columns (Parquet's default). "
                           "Off: on wide outputs of probabilities Spark's writer spends more "
                           "time trying dictionaries than scoring (2,000,000 records x 75 "
                           "columns: 16-19 s with, 9-10 s without on 2 cores)")
    writer: Literal["auto", "arrow", "spark"] = Field(
        "auto", description="who writes the output Parquet: 'arrow', each Python worker with "
                            "pyarrow (the predictions never enter the JVM; the output must be "
                            "a folder every executor reaches, as in local mode or on a shared "
                            "mount); 'spark', Spark's own writer (any URL Spark can write); "
                            "'auto', arrow for a local master and a local path, else spark")
    startup_timeout_s: float = Field(120.0, gt=0, description="give up starting a session "
                                                              "after this many seconds")
    connect_timeout_s: float = Field(5.0, gt=0, description="timeout of the reachability "
                                                            "check of a spark:// master")
    drift_sample: int = Field(100_000, ge=0, description="0: no drift check. Otherwise the "
                              "workers that write (writer 'arrow') count every record; with "
                              "Spark's writer the check reads this many first records")
    config: dict[str, str] = Field(default_factory=dict,
                                   description="extra Spark settings, e.g. spark.executor.memory")

    @field_validator("master")
    @classmethod
    def _known_master(cls, value: str) -> str:
        """A master Spark can start with, checked by ``mlstat validate`` (Spark itself says
        only that it could not parse it, after starting its JVM)."""
        if not MASTER.fullmatch(value.strip()):
            raise ValueError(f"not a Spark master URL; give one of {MASTER_FORMS}")
        return value.strip()

    @field_validator("config", mode="before")
    @classmethod
    def _settings_as_text(cls, value: Any) -> Any:
        """Spark settings are text: numbers and booleans written as such in TOML
        (``"spark.sql.shuffle.partitions" = 8``) are taken as Spark would read them."""
        if not isinstance(value, dict):
            return value
        return {key: (str(v).lower() if isinstance(v, bool) else str(v))
                if isinstance(v, int | float) else v for key, v in value.items()}
