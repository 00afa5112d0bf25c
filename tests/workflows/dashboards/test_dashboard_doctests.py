from __future__ import annotations

import doctest

import pytest

from workflows.dashboards import formatting, macros


@pytest.mark.parametrize("module", [formatting, macros])
def test_docstring_examples_hold(module):
    result = doctest.testmod(module)
    assert result.attempted > 0 and result.failed == 0
