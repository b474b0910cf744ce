"""Every shipped distiller config computes the step it computed before the
core was recomposed from terms (issue 26): the same logged losses and the
same weights after one ``train_step`` from fixed weights on a fixed batch
(``tests/golden/golden.py`` recorded them at the commit that added this
test). A config added later is recorded with ``python
tests/golden/golden.py CONFIG``; a change of behaviour made on purpose
re-records the configs it changes, and its commit says why."""
import json
import math

import pytest

from tests.golden.golden import STEPS, distiller_configs, golden_step

with open(STEPS) as f:
    GOLDEN = json.load(f)


def test_every_distiller_config_has_a_golden_step():
    assert sorted(GOLDEN) == distiller_configs()


@pytest.mark.parametrize('path', sorted(GOLDEN))
def test_the_step_is_the_golden_one(path):
    want, got = GOLDEN[path], golden_step(path)
    assert got['losses'].keys() == want['losses'].keys()
    for key, value in want['losses'].items():
        assert math.isclose(got['losses'][key], value, rel_tol=1e-6,
                            abs_tol=1e-7), (key, got['losses'][key], value)
    assert got['digest'].keys() == want['digest'].keys()
    for top, w in want['digest'].items():
        g = got['digest'][top]
        assert g['keys'] == w['keys'], f'{top}: other keys or shapes'
        scale = max(1.0, math.sqrt(w['sumsq']))
        for stat in ('sum', 'sumsq'):
            assert math.isclose(g[stat], w[stat], rel_tol=1e-6,
                                abs_tol=1e-6 * scale), (top, stat, g, w)
