"""The student-only export: a distillation checkpoint's student (or peer)
as a plain checkpoint, and its config for the plain toolboxes."""
import copy
import os.path as osp
from collections import OrderedDict
from typing import Dict, Optional

import numpy as np
import torch

from .atomic import save_atomic
from .safe_load import STUDENT_PREFIX, get_state_dict, load_checkpoint_file


def extract_student_state(state: Dict[str, torch.Tensor]) -> OrderedDict:
    """The student's own weights from a distiller state dict."""
    return OrderedDict((k[len(STUDENT_PREFIX):], v) for k, v in state.items()
                       if k.startswith(STUDENT_PREFIX))


def peer_state(state: Dict[str, torch.Tensor], peer: int,
               src: str) -> Dict[str, torch.Tensor]:
    """Peer ``peer``'s weights (``peers.<peer - 1>.*``) as ``student.*``."""
    prefix = f'peers.{peer - 1}.'
    found = sorted({int(k.split('.')[1]) + 1 for k in state
                    if k.startswith('peers.')})
    if peer < 1 or peer not in found:
        raise ValueError(
            f'{src!r} has ' + (f'peers {found}' if found else 'no peers (it '
                               'is not from an online method such as AFD)')
            + f'; --peer {peer} names none of them (the student is network '
            '0: export it without --peer).')
    return {STUDENT_PREFIX + k[len(prefix):]: v for k, v in state.items()
            if k.startswith(prefix)}


def plain_meta(meta: Optional[dict]) -> dict:
    """The part of runner ``meta`` plain MMDetection uses (class names,
    palette), as built-in Python types that ``weights_only`` accepts."""
    dataset_meta = (meta or {}).get('dataset_meta') or {}

    def plain(x):
        if isinstance(x, (list, tuple)):
            return type(x)(plain(i) for i in x)
        if isinstance(x, np.generic):
            return x.item()
        return x

    return dict(dataset_meta={
        k: plain(v)
        for k, v in dataset_meta.items() if k in ('classes', 'palette')
    })


def export_student(src: str, dst: str, peer: Optional[int] = None,
                   overwrite: bool = False) -> dict:
    """Write the student of a distiller checkpoint ``src`` to ``dst`` (or
    with ``peer=k``, peer k of an online run: network k, the student being
    network 0).

    The result holds only the student's weights and its class names, loads
    into the student's own config in plain MMDetection and passes
    ``torch.load(weights_only=True)`` without any allow-list. An existing
    ``dst`` is replaced only with ``overwrite=True`` (``--force``), and never
    when it is ``src`` or a training checkpoint.

    Returns:
        dict: What was written.
    """
    refuse_to_overwrite(src, dst, overwrite)
    ckpt = load_checkpoint_file(src, 'checkpoint')
    state = get_state_dict(ckpt)
    if peer is not None:
        state = peer_state(state, peer, src)
    student = extract_student_state(state)
    if not student:
        raise ValueError(
            f'{src!r} has no "{STUDENT_PREFIX}*" weights: it is not an mmkd '
            'distiller checkpoint (a plain detector checkpoint needs no '
            'export).')
    out = student_checkpoint(student, plain_meta(ckpt.get('meta')))
    save_atomic(out, dst)
    return out


def refuse_to_overwrite(src: str, dst: str, overwrite: bool = False) -> None:
    """Refuse an export that would write over its input or over any runner
    checkpoint (a file with optimizer state or distiller weights): either
    would destroy what a resume needs. Any other existing file (another
    run's ``student_latest.pth``, an earlier export) only with
    ``overwrite``."""
    if not osp.exists(dst):
        return
    if osp.exists(src) and osp.samefile(src, dst):
        raise FileExistsError(
            f'The output {dst!r} is the checkpoint being exported: writing '
            'it would destroy the training checkpoint (resume would fail). '
            'Give another output path, e.g. student.pth.')
    try:  # mmap: only the keys are read
        held = torch.load(dst, map_location='cpu', weights_only=True,
                          mmap=True)
    except Exception:  # noqa: BLE001 (not a checkpoint we can read)
        held = None
    state = held.get('state_dict', {}) if isinstance(held, dict) else {}
    if isinstance(held, dict) and (
            {'optimizer', 'message_hub'} & set(held)
            or any(k.startswith(STUDENT_PREFIX) for k in state)):
        raise FileExistsError(
            f'The output {dst!r} is a training checkpoint (it holds '
            'optimizer state or distiller weights); writing over it would '
            'lose what a resume needs. Give another output path, e.g. '
            'student.pth.')
    if not overwrite:
        raise FileExistsError(
            f'The output {dst!r} exists. Give another output path, or '
            'replace it with --force (export_student(..., overwrite=True)).')


def student_checkpoint(state_dict: Dict[str, torch.Tensor],
                       meta: dict) -> dict:
    """A plain MMDetection checkpoint of the student: CPU tensors and
    built-in types only."""
    return dict(
        state_dict=OrderedDict(
            (k, v.detach().cpu().clone()) for k, v in state_dict.items()),
        meta=meta)


def uses_mmkd_types(cfg) -> bool:
    """Whether a model config names a component only mmkd registers (the
    CIFAR backbones), so that its plain config still imports them."""
    from mmengine.registry import MODELS
    if isinstance(cfg, dict):
        kind = cfg.get('type')
        cls = MODELS.module_dict.get(kind) if isinstance(kind, str) else None
        if cls is not None and cls.__module__.startswith('mmkd.'):
            return True
        return any(uses_mmkd_types(v) for v in cfg.values())
    if isinstance(cfg, (list, tuple)):
        return any(uses_mmkd_types(v) for v in cfg)
    return False


def student_config(cfg, peer: Optional[int] = None):
    """The student's own config from a distillation config (or peer k's
    with ``peer=k``): ``model`` is that network, and nothing refers to
    mmkd (plugin import, DDP wrapper, optimizer constructor, mmkd hooks,
    checkpoint backend) and nothing of the distillation run's state
    (``resume``, ``load_from``: a resumed run's config would make plain
    ``tools/test.py`` resume a training checkpoint), so plain MMDetection
    and MMPretrain test and fine-tune with it."""
    from mmengine.config import Config
    from mmengine.registry import HOOKS
    out = Config(copy.deepcopy(cfg.to_dict()) if hasattr(cfg, 'to_dict')
                 else copy.deepcopy(dict(cfg)))
    out.model = out.model['student'] if peer is None else \
        out.model['peers'][peer - 1]
    if isinstance(out.model, str):  # student='path/to/config.py'
        from mmkd.models.distillers.utils import model_cfg
        out.model = model_cfg(out.model, 'student').to_dict()
    out.pop('model_wrapper_cfg', None)
    out.resume, out.load_from = False, None
    imports = out.get('custom_imports', {}).get('imports', [])
    others = [m for m in ([imports] if isinstance(imports, str) else imports)
              if m != 'mmkd' and not m.startswith('mmkd.')]
    if uses_mmkd_types(out.model):  # e.g. the CIFAR backbones
        others.append('mmkd.models.backbones')
    if others:
        out.custom_imports.imports = others
    else:
        out.pop('custom_imports', None)
    optim = out.get('optim_wrapper')
    if optim and optim.get('constructor') == 'DistillOptimWrapperConstructor':
        optim.pop('constructor')
        for part in [k for k, v in optim.items()
                     if isinstance(v, dict) and 'optimizer' in v]:
            optim.pop(part)  # disc, adv: the distiller's other parts

    def from_mmkd(hook):  # mmkd's hooks are in mmengine's root registry
        cls = HOOKS.module_dict.get(hook['type']) if isinstance(
            hook['type'], str) else hook['type']
        return cls is not None and cls.__module__.startswith('mmkd.')

    out.pop('distill_default_hooks', None)
    default_hooks = out.get('default_hooks') or {}
    for name in [k for k, h in default_hooks.items()
                 if isinstance(h, dict) and 'type' in h and from_mmkd(h)]:
        default_hooks.pop(name)
    checkpoint = default_hooks.get('checkpoint') or {}
    if (checkpoint.get('backend_args') or {}).get('backend', '').startswith(
            'mmkd'):
        checkpoint.pop('backend_args')
    if out.get('custom_hooks'):
        out.custom_hooks = [h for h in out.custom_hooks if not from_mmkd(h)]
    return out
