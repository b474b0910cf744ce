"""Building a distiller's parts from configs that name only what changes."""
import copy
import difflib
import inspect
import os.path as osp
from typing import Optional, Union

from mmengine.config import Config, ConfigDict
from mmengine.hub import get_config
from mmengine.registry import DefaultScope

from mmkd.registry import MODELS

TOOLBOXES = ('mmdet', 'mmpretrain')
# named first when a message lists a distiller's arguments
CORE_FIRST = ('student', 'teacher', 'teacher_ckpt')


# What a component given without 'type' is merged over when the
# distiller's own default for it is None.
COMPONENTS = dict(adapter=dict(type='T2SAdapter'),
                  loss_feat=dict(type='FeatureMSELoss'),
                  loss_kd=dict(type='KDLoss'))
# The fields of a component the distiller fills in from the probed models.
INFERRED = dict(adapter=('in_channels', 'out_channels'),
                attention=('in_channels', 'num_classes'),
                transform=('in_channels', 'out_channels'),
                discriminator=('in_channels', ),
                branch=('in_channels', 'out_channels', 'stride',
                        'num_classes', 'head'))


def check_count(value, name: str) -> int:
    """``value`` if it is an int >= 1, else a ValueError naming ``name``."""
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f'{name} must be an int >= 1, got {value!r}')
    return value


def toolbox_registry(scope: str):
    """The MODELS registry of an OpenMMLab toolbox, its models registered
    (None when the toolbox is not installed)."""
    import importlib
    try:
        importlib.import_module(f'{scope}.models')
        return importlib.import_module(f'{scope}.registry').MODELS
    except ImportError:
        return None


def toolbox_of(cfg: dict) -> Optional[str]:
    """The scope a model config belongs to: its ``_scope_`` or prefix, else
    the first toolbox (the run's default scope first) that registers its
    type; None for a type only mmkd registers."""
    kind = cfg.get('type')
    if cfg.get('_scope_'):
        return cfg['_scope_']
    if not isinstance(kind, str):
        return None
    if '.' in kind:
        return kind.split('.')[0]
    current = DefaultScope.get_current_instance()
    first = [current.scope_name] if current is not None else []
    for scope in dict.fromkeys(first + list(TOOLBOXES)):
        registry = toolbox_registry(scope)
        if registry is not None and kind in registry.module_dict:
            return scope
    return None


def build_model(cfg: dict):
    """Build a student or teacher in its own toolbox's scope, so that its
    parts (e.g. ``ResNet``, which both toolboxes register) are that
    toolbox's, whichever scope the run has."""
    cfg = ConfigDict(copy.deepcopy(cfg))
    scope = toolbox_of(cfg)
    if scope is None:
        return MODELS.build(cfg)
    cfg.setdefault('_scope_', scope)
    return toolbox_registry(scope).build(cfg)


def signature_default(cls, name: str):
    """The default value of the argument ``name`` of ``cls.__init__``, or
    of the first base class whose ``__init__`` names it (a subclass may
    take ``**kwargs``)."""
    for klass in cls.__mro__:
        if name in vars(klass).get('defaults', {}):
            return klass.defaults[name]
        param = inspect.signature(klass.__init__).parameters.get(name)
        if param is not None:
            return param.default
    check_arguments(cls, [name])


def accepted_arguments(cls) -> list:
    """The named arguments of ``cls.__init__`` and of the bases' it passes
    ``**kwargs`` on to, and a preset's ``defaults``."""
    names = []
    for klass in cls.__mro__:
        names += [n for n in vars(klass).get('defaults', {})
                  if n not in names]
        if '__init__' not in vars(klass):
            continue
        params = inspect.signature(klass.__init__).parameters.values()
        names += [p.name for p in params if p.name != 'self' and p.kind
                  not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
                  and p.name not in names]
        if not any(p.kind == p.VAR_KEYWORD for p in params):
            break
    return sorted(names, key=lambda n: n not in CORE_FIRST)


def check_arguments(cls, given) -> None:
    """A TypeError naming the first of ``given`` that ``cls`` does not take,
    the closest argument it does take, and all of them."""
    known = accepted_arguments(cls)
    for name in given:
        if name not in known:
            close = difflib.get_close_matches(name, known, n=1)
            hint = f' Did you mean {close[0]!r}?' if close else ''
            raise TypeError(
                f'{cls.__name__} has no argument {name!r}.{hint} It takes: '
                f'{", ".join(known)}.')


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
    cls = cfg['type']
    if isinstance(cls, str):
        scope = toolbox_of(cfg)
        cls = (toolbox_registry(scope) if scope else MODELS).get(cls)
    if cls is None:
        raise KeyError(f"model.{name}: type {cfg['type']!r} is not "
                       'registered (is its module in custom_imports?).')
    params = inspect.signature(cls.__init__).parameters
    inferred = (*inferred, *getattr(cls, 'inferred', ()))
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
    """A model config from a config file, an ``mmdet::``/``mmpretrain::``/
    ``mmkd::`` path, a full config or a model dict; a full config's
    top-level ``data_preprocessor`` goes into its model, as the Runner
    does."""
    if isinstance(model, str):
        if '::' not in model and not osp.isfile(model):
            raise FileNotFoundError(
                f'{what} config {model!r} does not exist (give a config '
                "file, an 'mmdet::', 'mmpretrain::' or 'mmkd::' path or a "
                'model dict).')
        model = get_config(model) if '::' in model else Config.fromfile(model)
    full = isinstance(model, Config) or 'type' not in model
    if full and 'model' in model:
        top = model.get('data_preprocessor')
        model = model['model']
        if isinstance(model, dict) and top is not None:
            # what the Runner gives the model of that config
            model = dict(model)
            model.setdefault('data_preprocessor', top)
    if not isinstance(model, dict) or 'type' not in model:
        raise ValueError(
            f'{what} must be a config file, an mmdet::/mmpretrain:: path '
            f"or a model dict with a 'type'; got {model}")
    return ConfigDict(copy.deepcopy(model))
