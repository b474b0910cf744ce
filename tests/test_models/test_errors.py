"""Errors that name the field, the expected value and the fix (issue 24)."""
import pytest
from mmengine.config import Config

from mmkd.registry import MODELS
from .test_new_user import cfg_options


@pytest.mark.parametrize('how,got', [
    ('model.loss_kd.temperature=abc', "'abc', a str"),  # --cfg-options
    ("'4'", "'4', a str"),  # temperature='4' in a config file
])
def test_a_temperature_that_is_no_number(how, got, distiller_cfg):
    if how.startswith('model.'):
        cfg = cfg_options(Config(dict(model=distiller_cfg())), how)
    else:
        cfg = Config(dict(model=distiller_cfg(loss_kd=dict(temperature='4'))))
    with pytest.raises(TypeError, match=r'KDLoss: temperature must be a '
                       rf'number > 0 \(e\.g\. temperature=4\.0\), got {got}'):
        MODELS.build(cfg.model)


def test_a_tau_that_is_no_number():
    with pytest.raises(TypeError, match="CWDLoss: tau must be a number > 0"):
        MODELS.build(dict(type='CWDLoss', tau='2'))


@pytest.mark.parametrize('kind', ['DetectionDistiller', 'KTAN', 'AFD'])
def test_an_unknown_argument_lists_those_taken(kind, distiller_cfg):
    cfg = distiller_cfg(type=kind)
    if kind == 'AFD':
        cfg = dict(type='AFD', student=cfg['student'],
                   peers=[cfg['student']], probe_size=128)
    cfg['adv_warmup_iter'] = 10
    hint = r" Did you mean 'adv_warmup_iters'\?" if kind != 'AFD' else ''
    with pytest.raises(TypeError, match=rf"{kind} has no argument "
                       rf"'adv_warmup_iter'\.{hint} It takes: student, "):
        MODELS.build(cfg)
