"""Behaviours of Prefect 1.4.1 found in a compatibility review, pinned so they stay."""

from __future__ import annotations

import logging

import pytest

from prefect.configuration import load_configuration
from prefect.utilities.graphql import parse_graphql
from prefect.utilities.logging import configure_logging


def test_env_var_escape_sequences_are_interpreted(tmp_path, monkeypatch):
    path = tmp_path / "config.toml"
    path.write_text("[env_vars]\nx = 1\n")
    monkeypatch.setenv(
        "PREFECT_COMPAT__ENV_VARS__ESCAPED_CHARACTERS", r"line 1\nline 2\rand 3\tand 4"
    )

    config = load_configuration(str(path), env_var_prefix="PREFECT_COMPAT")

    assert config.env_vars.escaped_characters == "line 1\nline 2\rand 3\tand 4"


def test_parse_graphql_dedents_and_strips_string_documents():
    query = """

        hi
            there

    """
    assert parse_graphql(query) == "hi\n    there"


@pytest.fixture
def restore_prefect_logger():
    logger = logging.getLogger("prefect")
    saved = (list(logger.handlers), logger.propagate, logger.level)
    test_logger = logging.getLogger("prefect-test-logger")
    test_saved = list(test_logger.handlers)
    try:
        yield logger
    finally:
        logger.handlers[:] = saved[0]
        logger.propagate = saved[1]
        logger.setLevel(saved[2])
        test_logger.handlers[:] = test_saved


def test_configure_logging_for_tests_uses_a_separate_logger(restore_prefect_logger):
    logger = configure_logging(testing=True)
    assert logger.name == "prefect-test-logger"


def test_configure_logging_keeps_propagation_to_the_root_logger(restore_prefect_logger):
    restore_prefect_logger.propagate = True
    logger = configure_logging()
    assert logger.propagate is True
