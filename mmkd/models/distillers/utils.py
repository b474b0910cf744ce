"""Building a distiller's parts from configs that name only what changes."""
import copy
import inspect
import os.path as osp
from typing import Optional, Union

from mmdet.registry import MODELS
from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config


def signature_default(cls, name: str):
    """The default value of the argument ``name`` of ``cls.__init__``, or
    of the first base class whose ``__init__`` names it (a subclass may
    take ``**kwargs``)."""
    for klass in cls.__mro__:
        param = inspect.signature(klass.__init__).parameters.get(name)
        if param is not None:
            return param.default
    raise KeyError(f'{cls.__name__} has no argument {name!r}')


def with_defaults(cfg: Optional[dict], default: Optional[dict],
                  name: str, inferred=()) -> Optional[dict]:
    """The config of a component: ``cfg`` over its ``default``.

    A dict without ``type`` changes only the fields it names (as
    ``--cfg-options model.loss_gan.gan_type=hinge`` or
    ``model=dict(loss_kd=dict(temperature=4))`` give); a dict with ``type``
    is a whole component; ``None`` switches it off. A field the
    component's class does not take is an error naming it.

    Args:
        cfg: What the config gives.
        default: The distiller's default for it.
        name: The argument's name, for messages (``model.<name>``).
        inferred: Fields the distiller fills in (channels).
    """
    if cfg is None:
        return None
    if not isinstance(cfg, dict):
        raise TypeError(f'model.{name} must be a dict or None, got {cfg!r}')
    cfg = dict(copy.deepcopy(cfg))
    if 'type' not in cfg:
        if default is None:
            raise ValueError(
                f"model.{name} has no default: give its 'type', e.g. "
                f"model.{name}=dict(type=..., ...).")
        cfg = dict(copy.deepcopy(default), **cfg)
    cls = MODELS.get(cfg['type']) if isinstance(cfg['type'], str) \
        else cfg['type']
    if cls is None:
        raise KeyError(f"model.{name}: type {cfg['type']!r} is not "
                       'registered (is its module in custom_imports?).')
    params = inspect.signature(cls.__init__).parameters
    if not any(p.kind == p.VAR_KEYWORD for p in params.values()):
        fields = [k for k in params if k not in ('self', *inferred)]
        given = [k for k in cfg if k in inferred]
        unknown = [k for k in cfg if k != 'type' and k not in params]
        if unknown or given:
            bad = unknown or given
            why = ('is inferred from the models; do not set it' if given
                   else f'is not a field of {cls.__name__}')
            raise ValueError(
                f'model.{name}: {", ".join(map(repr, bad))} {why}. '
                f'{cls.__name__} takes: {", ".join(fields)}.')
    return cfg


def model_cfg(model: Union[str, dict, Config], what: str) -> ConfigDict:
    """A model config from a config file, an ``mmdet::`` path, a full
    config or a model dict."""
    if isinstance(model, str):
        if '::' not in model and not osp.isfile(model):
            raise FileNotFoundError(
                f'{what} config {model!r} does not exist (give a config '
                "file, an 'mmdet::' path or a model dict).")
        model = get_config(model) if '::' in model else Config.fromfile(model)
    if isinstance(model, Config) or 'model' in model:
        model = model['model']
    if not isinstance(model, dict) or 'type' not in model:
        raise ValueError(f'{what} must be a config file, an mmdet:: path or '
                         f"a model dict with a 'type'; got {model}")
    return ConfigDict(copy.deepcopy(model))
