"""Time an online (AFD, DML) or self-distillation (MB-AKT, BYOT) step
against the work it cannot avoid.

    python tools/analysis_tools/benchmark_online.py CONFIG \
        [--img-size 32] [--batch 64] [--rounds 10] [--device cpu|cuda] \
        [--keep-memory] [--runs N]

Interleaved in one run, on the same batch, medians over ``--rounds`` after
one warm-up round:

- AFD/DML: ``networks``, the plain train step of every network (copies,
  each with its own optimizer), back to back; ``distill_step``, the
  distiller's full step (logit, adversarial and discriminator updates).
- MB-AKT/BYOT: ``networks``, the student's step with its branches' forward
  and backward (the same distiller with every distillation term off:
  ``loss_kd``, ``loss_hint`` and the discriminator); ``distill_step``, the
  full step.

The last line is JSON with ``ratio = distill_step / networks``,
``ratio_paired``, the median of each round's ratio, and ``ratio_protocol``:
the step against the limit of the method's own protocol. AFD's paper runs
every network forward and backward twice per iteration (the logit update,
then the adversarial one on the stepped weights), so its limit is two
plain steps of every network; the others' is one. ``--keep-memory`` and
``--runs N`` are those of ``benchmark_distill.py``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import resource
import statistics
import sys

import torch
from mmengine.config import Config
from mmengine.optim import OptimWrapper, build_optim_wrapper
from mmengine.registry import init_default_scope

import mmkd  # noqa: F401
from mmkd.models.distillers.utils import build_model

sys.path.insert(0, osp.dirname(osp.abspath(__file__)))
from benchmark_distill import (add_repeat_args, finite,  # noqa: E402
                               keep_freed_memory, make_batch, no_runner,
                               repeat, timed, zero_learning_rates)

RATIOS = ('ratio', 'ratio_paired', 'ratio_protocol')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--img-size', type=int, default=32)
    parser.add_argument('--batch', type=int, default=64)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument('--device', default='cpu')
    add_repeat_args(parser)
    return parser.parse_args()


def plain_steps(model, model_cfg, batch, device):
    """A function running the unavoidable work once, as one unit."""
    if hasattr(model, 'peers'):  # every network's own plain step
        nets = [copy.deepcopy(n) for n in model.nets()]
        optims = [OptimWrapper(torch.optim.SGD(n.parameters(), lr=0.0))
                  for n in nets]
        return lambda: [n.train_step(copy.deepcopy(batch), o)
                        for n, o in zip(nets, optims)]
    cfg = dict(copy.deepcopy(model_cfg), loss_kd=None, loss_hint=None,
               discriminator=None, loss_gan=None)
    bare = build_model(cfg).to(device).train()
    bare.load_state_dict({k: v for k, v in model.state_dict().items()
                          if k.split('.')[0] in ('student', 'branches',
                                                 'num_iters')})
    optim = OptimWrapper(torch.optim.SGD(bare.parameters(), lr=0.0))
    return lambda: finite(bare.train_step(copy.deepcopy(batch), optim))


def main():
    args = parse_args()
    if args.runs < 1:
        raise SystemExit(f'--runs {args.runs}: give 1 or more')
    if args.runs > 1:
        return repeat(args.runs, osp.abspath(__file__), RATIOS)
    if args.keep_memory:
        keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    model = build_model(copy.deepcopy(cfg.model)).to(args.device).train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    zero_learning_rates(optim)  # full steps on one batch, weights kept
    no_runner(model)
    batch = make_batch(model.student, args.batch, args.img_size)
    parts = dict(networks=plain_steps(model, cfg.model, batch, args.device),
                 distill_step=lambda: finite(model.train_step(
                     copy.deepcopy(batch), optim)))
    times = {k: [] for k in parts}
    for r in range(args.rounds + 1):
        now = {name: timed(fn, args.device) for name, fn in parts.items()}
        if r > 0:  # round 0 warms up
            for name, t in now.items():
                times[name].append(t)
        print(f'round {r}{" (warm-up, not counted)" if r == 0 else ""}: '
              + ', '.join(f'{k} {v:.3f}s' for k, v in now.items()),
              flush=True)
    med = {k: statistics.median(v) for k, v in times.items()}
    # AFD's protocol: every network forward and backward twice
    passes = 2 if getattr(model, 'discriminators', None) is not None else 1
    result = dict(
        config=os.path.basename(args.config), img_size=args.img_size,
        batch=args.batch, rounds=args.rounds, device=args.device,
        threads=torch.get_num_threads(), keep_memory=args.keep_memory,
        **{k: round(v, 4) for k, v in med.items()},
        ratio=round(med['distill_step'] / med['networks'], 4),
        ratio_paired=round(statistics.median(
            d / n for d, n in zip(times['distill_step'], times['networks'])),
            4),
        protocol_passes=passes,
        ratio_protocol=round(med['distill_step'] /
                             (passes * med['networks']), 4),
        peak_rss_mb=round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    print(json.dumps(result))


if __name__ == '__main__':
    main()
