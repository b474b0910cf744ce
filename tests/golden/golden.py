"""Golden steps: what one training step of every shipped distiller config
computes, recorded before the core was recomposed from terms (issue 26) and
reproduced by ``tests/test_golden.py`` ever since.

For each config: the model built as the config says, every weight then set
to a fixed value derived from its state-dict key (so the figures do not
depend on the order in which modules are constructed), a random teacher of
fixed weights saved as its ``teacher_ckpt``, one fixed batch, one
``train_step`` with the config's own optimizers. Recorded: every logged
value, and per top-level child (``student``, ``adapter``, ...) a digest of
its state after the step.

    python tests/golden/golden.py [CONFIG ...]   # (re)record steps.json
"""
import copy
import glob
import json
import os
import os.path as osp
import sys
import tempfile
import zlib

import torch

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
STEPS = osp.join(osp.dirname(osp.abspath(__file__)), 'steps.json')
# the methods whose checkpoints written before the redesign are fixtures
DISTILLERS = ('KTAN', 'DetectionDistiller', 'TeacherDistiller', 'KSANC',
              'ComplementaryDistiller', 'AFD', 'MBAKT')


def is_distiller(name) -> bool:
    """Whether a config's model type is an mmkd distiller."""
    from mmkd.models.distillers import BaseDistiller
    from mmkd.registry import MODELS
    cls = MODELS.get(name) if isinstance(name, str) else None
    return isinstance(cls, type) and issubclass(cls, BaseDistiller)


def distiller_configs():
    """Every shipped config whose model is an mmkd distiller."""
    from mmengine.config import Config
    found = []
    for path in sorted(glob.glob(osp.join(ROOT, 'configs', '*', '*.py'))):
        cfg = Config.fromfile(path)
        if is_distiller(cfg.get('model', {}).get('type')):
            found.append(osp.relpath(path, ROOT))
    return found


def fixed_value(key: str, like: torch.Tensor) -> torch.Tensor:
    """A fixed tensor for state-dict entry ``key``: the same on every
    machine and whatever order the modules were built in."""
    if not like.is_floating_point():
        return like.clone()  # counters (num_batches_tracked, num_iters)
    gen = torch.Generator().manual_seed(zlib.crc32(key.encode()))
    u = torch.rand(like.shape, generator=gen, dtype=torch.float64) * 2 - 1
    name = key.rsplit('.', 1)[-1]
    if name == 'running_var':
        value = 1 + 0.5 * u.abs()
    elif name == 'running_mean':
        value = 0.1 * u
    elif name in ('weight_u', 'weight_v'):  # spectral norm's vectors
        value = u / u.norm()
    elif like.dim() >= 2:
        fan_in = like[0].numel()
        value = u / fan_in**0.5
    elif name == 'weight':  # norms' scales
        value = 1 + 0.1 * u
    else:
        value = 0.1 * u
    return value.to(like.dtype)


def set_fixed_weights(model: torch.nn.Module) -> None:
    state = model.state_dict()
    model.load_state_dict(
        {k: fixed_value(k, v) for k, v in state.items()})


def digest(model: torch.nn.Module) -> dict:
    """Per top-level child: the sum and the sum of squares of its floating
    state (float64), and a checksum of its keys and shapes."""
    groups = {}
    for key, value in model.state_dict().items():
        top = key.split('.', 1)[0]
        g = groups.setdefault(top, dict(sum=0.0, sumsq=0.0, keys=0))
        g['keys'] = zlib.crc32(
            f'{key}{tuple(value.shape)}'.encode(), g['keys'])
        if value.is_floating_point():
            v = value.detach().double()
            g['sum'] += v.sum().item()
            g['sumsq'] += (v * v).sum().item()
    return groups


def golden_step(path: str) -> dict:
    """One step of the config at ``path`` (relative to the checkout)."""
    from mmengine.config import Config
    from mmengine.optim import build_optim_wrapper
    from mmengine.registry import init_default_scope

    import mmkd  # noqa: F401
    from mmkd.models.distillers.utils import build_model, model_cfg
    from mmkd.utils.synthetic_data import random_batch

    threads = torch.get_num_threads()
    torch.set_num_threads(1)  # one reduction order on every machine
    try:
        cfg = Config.fromfile(osp.join(ROOT, path))
        init_default_scope(cfg.get('default_scope', 'mmdet'))
        args = copy.deepcopy(cfg.model)
        with tempfile.TemporaryDirectory() as tmp:
            if args.get('teacher') is not None:
                teacher = build_model(model_cfg(args.teacher, 'teacher'))
                set_fixed_weights(teacher)
                args.teacher_ckpt = osp.join(tmp, 'teacher.pth')
                torch.save(dict(state_dict=teacher.state_dict()),
                           args.teacher_ckpt)
            torch.manual_seed(0)
            model = build_model(args)
        set_fixed_weights(model)
        model.train()
        optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
        classifier = hasattr(model.student, 'head')
        batch = random_batch(model.student, 4 if classifier else 2,
                             32 if classifier else 64, num_items=3)
        torch.manual_seed(0)
        log = model.train_step(batch, optim)
        return dict(
            losses={k: float(v.detach()) for k, v in sorted(log.items())},
            digest=digest(model),
            max_lr=max(group['lr'] for wrapper in optim.values()
                       for group in wrapper.optimizer.param_groups))
    finally:
        torch.set_num_threads(threads)


def main(paths):
    steps = {}
    if osp.exists(STEPS):
        with open(STEPS) as f:
            steps = json.load(f)
    for path in paths or distiller_configs():
        steps[path] = golden_step(path)
        steps[path].pop('max_lr')
        print(path, steps[path]['losses'], flush=True)
    with open(STEPS + '.tmp', 'w') as f:
        json.dump(dict(sorted(steps.items())), f, indent=1)
        f.write('\n')
    os.replace(STEPS + '.tmp', STEPS)


if __name__ == '__main__':
    sys.path.insert(0, ROOT)
    main(sys.argv[1:])
