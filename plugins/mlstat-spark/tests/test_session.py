import logging

from mlstat_spark.session import quiet_interrupt


def _log_interrupt() -> None:
    try:
        raise KeyboardInterrupt
    except KeyboardInterrupt:  # what py4j does when Ctrl-C stops a call into the JVM
        logging.exception("KeyboardInterrupt while sending command.")


def test_ctrl_c_during_a_job_prints_no_py4j_traceback_and_other_errors_still_show(caplog):
    with quiet_interrupt():
        _log_interrupt()
        logging.error("a real error")
    assert [r.getMessage() for r in caplog.records] == ["a real error"]


def test_the_broken_connection_after_ctrl_c_is_not_logged_either(caplog):
    with quiet_interrupt():
        try:
            try:
                raise KeyboardInterrupt
            except KeyboardInterrupt:
                raise BrokenPipeError(32, "Broken pipe")  # noqa: B904 (as py4j does)
        except BrokenPipeError:
            logging.getLogger("py4j.clientserver").exception("Exception occurred while "
                                                             "shutting down connection")
        logging.getLogger("py4j.clientserver").error("a real error")
    assert [r.getMessage() for r in caplog.records] == ["a real error"]


def test_the_filter_is_removed_after_the_job(caplog):
    with quiet_interrupt():
        pass
    _log_interrupt()
    assert [r.getMessage() for r in caplog.records] == ["KeyboardInterrupt while sending command."]
