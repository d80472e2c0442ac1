"""Params of the Spark engine (light: discovery imports this, never pyspark)."""

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, field_validator

from mlstat_core.components import Params

MASTER = re.compile(
    r"local(\[(\*|[1-9]\d*)(,\s*[1-9]\d*)?\])?"          # local, local[4], local[*,2]
    r"|local-cluster\[\d+,\s*\d+,\s*\d+\]"
    r"|yarn|k8s://\S+")
MASTER_FORMS = ("local, local[N], local[*], spark://host:7077 (spark://[::1]:7077 for an IPv6 "
                "address), yarn, k8s://https://host:port or sc://host:15002")
_HOST_PORT = re.compile(r"\[(?P<ipv6>[^\[\]]*)\](?::(?P<port6>\d+))?"
                        r"|(?P<host>[^\s/:\[\],;]+)(?::(?P<port>\d+))?")


def host_port(part: str, default_port: int | None) -> tuple[str, int]:
    """``host``, ``host:port`` or, as in URLs, an IPv6 address in brackets (``[::1]:7077``,
    ``[fe80::1%eth0]:7077``) as a host and port; ValueError saying what is wrong otherwise,
    also for a missing port where there is no default (``spark://``: Spark needs it)."""
    match = _HOST_PORT.fullmatch(part)
    if match is None:
        if "[" not in part and "]" not in part and part.count(":") > 1:
            raise ValueError(f"{part!r} looks like an IPv6 address: write it in brackets, the "
                             f"port after them (spark://[::1]:7077)")
        raise ValueError(f"{part!r} is not host, host:port or [IPv6 address]:port")
    host, port = match["host"], match["port"]
    if match["ipv6"] is not None:
        host, port = match["ipv6"], match["port6"]
        try:
            ipaddress.IPv6Address(host)
        except ValueError:
            raise ValueError(f"[{host}] is not an IPv6 address") from None
    if port is None and default_port is None:
        raise ValueError(f"{part!r} has no port: Spark needs one for each master "
                         "(spark://host:7077, the standalone master's default)")
    number = int(port) if port is not None else default_port
    if not 0 < number < 65536:
        raise ValueError(f"port {port} of {part!r} is not between 1 and 65535")
    return host, number


def master_addresses(master: str) -> list[tuple[str, int]]:
    """The host and port of each master a ``spark://`` URL names (standby masters follow
    commas: ``spark://a:7077,b:7077``), or of the server of an ``sc://`` URL (its ``/;key=value``
    settings left aside); none for other masters. ValueError saying what is wrong."""
    if master.startswith("spark://"):
        hosts = master[len("spark://"):]
        if not hosts:
            raise ValueError("no host after spark://")
        return [host_port(part, None) for part in hosts.split(",")]
    if master.startswith("sc://"):
        server = master[len("sc://"):].split("/", 1)[0]
        if not server:
            raise ValueError("no host after sc://")
        return [host_port(server, 15002)]
    return []


class SparkParams(Params):
    master: str = Field("local[*]", description="master URL: local[N], spark://host:port, "
                                                "yarn, or sc://host for Spark Connect")
    app_name: str = Field("mlstat", description="application name shown by the cluster")
    input_format: Literal["auto", "csv", "parquet", "table"] = Field(
        "auto", description="how to read --input: by suffix, or as a catalog table name")
    partitions: int | None = Field(None, ge=1, description="repartition the input to this many "
                                                           "partitions before scoring")
    batch_size: int = Field(10_000, ge=1, description="most records handed to the model at "
                            "a time by each Python worker, one batch per core at once (bounds "
                            "executor memory); the chunk size (--chunk-size, [predict] "
                            "chunk_size) bounds them too: the smaller applies")
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
        value = value.strip()
        if value.startswith(("spark://", "sc://")):
            try:
                master_addresses(value)
            except ValueError as exc:
                raise ValueError(f"not a Spark master URL: {exc}; give one of "
                                 f"{MASTER_FORMS}") from None
        elif not MASTER.fullmatch(value):
            raise ValueError(f"not a Spark master URL; give one of {MASTER_FORMS}")
        return value

    @field_validator("config", mode="before")
    @classmethod
    def _settings_as_text(cls, value: Any) -> Any:
        """Spark settings are text: numbers and booleans written as such in TOML
        (``"spark.sql.shuffle.partitions" = 8``) are taken as Spark would read them."""
        if not isinstance(value, dict):
            return value
        return {key: (str(v).lower() if isinstance(v, bool) else str(v))
                if isinstance(v, int | float) else v for key, v in value.items()}
