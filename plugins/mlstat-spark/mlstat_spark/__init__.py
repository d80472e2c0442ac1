"""Spark execution engine for mlstat (the ``spark`` engine of ``mlstat predict``)."""
