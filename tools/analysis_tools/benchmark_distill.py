"""Time a distillation step against the work it cannot avoid.

    python tools/analysis_tools/benchmark_distill.py CONFIG \
        [--img-size 320] [--batch 2] [--rounds 10] [--random-teacher] \
        [--device cpu|cuda]

Detectors and classifiers (e.g. a CIFAR pair: ``--img-size 32 --batch 64``;
for a classifier the teacher's forward includes its head, which KD needs).

Interleaved in one run, on the same batch: the student's plain train step
(a copy of the student with its own optimizer), the teacher's feature
forward, the teacher's dense-head work the method needs (its class scores
for logit KD; for CrossKD its own predictions, plus its head layers from the
crossed one on run forward and backward on inputs of the student's shape),
and the distiller's full train step (student, teacher, adapters, discriminator, both optimizer
steps). Medians over ``--rounds`` after one warm-up round. The last line is
JSON with ``ratio = distill_step / (student_step + teacher_feat)``,
``ratio_with_head`` which also counts that teacher head work, and
``ratio_both = distill_step / both``, where ``both`` is the teacher's
forward and the student's step timed back to back as one unit (the
distiller's order and memory traffic; its median is less noisy than a sum
of two medians), and ``ratio_paired``, the median over rounds of each
round's ``distill_step / both`` (the two are timed next to each other, so
a slow spell of the machine cancels out of each round's ratio).
``page_faults`` gives each part's median count of minor page faults.

On CPU, glibc hands freed memory back to the system and page-faults it in
again, and which part pays for that depends on what ran before it as much
as on its own work: one run's ratio moves by several percent with it.
``--keep-memory`` keeps freed memory in the process (glibc's ``mallopt``)
for every part alike, so each is timed for its own work.

Even so, one run's ratios move by a few percent from process to process
(the machine, the memory layout). ``--runs N`` repeats the whole
measurement in N fresh processes, one after another, prints each run's
line and then a summary line: the median, min and max of each ratio.
"""
import argparse
import ctypes
import ctypes.util
import copy
import json
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

import torch
from mmengine.config import Config, DictAction
from mmengine.optim import (OptimWrapper, OptimWrapperDict,
                            build_optim_wrapper)
from mmengine.registry import init_default_scope

import mmkd  # noqa: F401
from mmkd.models.distillers.utils import build_model
from mmkd.models.terms.crosskd import CrossHead, in_width
from mmkd.utils.synthetic_data import random_batch


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('config')
    parser.add_argument('--img-size', type=int, default=320)
    parser.add_argument('--batch', type=int, default=2)
    parser.add_argument('--rounds', type=int, default=10)
    parser.add_argument('--threads', type=int, default=None)
    parser.add_argument(
        '--device', default='cpu',
        help='cpu (default) or cuda; on cuda every part is timed to the '
        'end of its kernels')
    add_repeat_args(parser)
    parser.add_argument(
        '--random-teacher',
        action='store_true',
        help='use randomly initialised teacher weights (timing does not '
        'depend on them) instead of the config\'s teacher_ckpt')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, e.g. model.loss_kd=None')
    return parser.parse_args()


def add_repeat_args(parser) -> None:
    """``--keep-memory`` and ``--runs``, of both benchmark tools."""
    parser.add_argument(
        '--keep-memory', action='store_true',
        help='keep freed memory in the process (glibc), so that no part '
        'pays page faults for memory that another part freed')
    parser.add_argument(
        '--runs', type=int, default=1,
        help='repeat the measurement in this many fresh processes and '
        'print the median, min and max of each ratio')


def timed(fn, device: str) -> float:
    sync = torch.cuda.synchronize if device.startswith('cuda') else (
        lambda: None)
    sync()
    start = time.perf_counter()
    fn()
    sync()
    return time.perf_counter() - start


def zero_learning_rates(wrapper) -> None:
    wrappers = wrapper.values() if isinstance(wrapper, OptimWrapperDict) \
        else [wrapper]
    for w in wrappers:
        for group in w.optimizer.param_groups:
            group['lr'] = 0.0


def keep_freed_memory() -> None:
    """glibc: neither trim the heap nor map large blocks on their own
    (``M_TRIM_THRESHOLD``, ``M_MMAP_THRESHOLD``): freed memory is reused
    without page faults."""
    libc = ctypes.CDLL(ctypes.util.find_library('c'))
    mallopt = getattr(libc, 'mallopt', None)
    if mallopt is None or not (mallopt(-1, 1 << 31) and
                               mallopt(-3, 32 << 20)):
        raise SystemExit('--keep-memory needs glibc\'s mallopt')


def minor_faults() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_minflt


def finite(log: dict) -> dict:
    """Refuse to time a step whose losses are not finite (its updates
    would have been skipped)."""
    bad = [k for k, v in log.items() if not torch.isfinite(v).all()]
    if bad:
        raise RuntimeError(f'non-finite {bad}: the timing would not be of '
                           'full steps')
    return log


def reused_layers(term, model, maps) -> None:
    """CrossKD's unavoidable extra: the teacher's head layers from the
    crossed one on, forward and backward (to their input, as the student's
    gradient goes), on an input of the teacher's width there at each paired
    level; the alignment and the losses are the method's own cost."""
    for _, j in model.level_pairs:
        for branch in ['cls'] + ['reg'] * (term.reg_weight > 0):
            layers = term.t_layers[branch]
            n, _, h, w = maps[j].shape
            x = maps[j].new_zeros(n, in_width(layers[term.index]), h, w,
                                  requires_grad=True)
            y = x
            for layer in layers[term.index:]:
                y = layer(y)
            y.sum().backward()


def make_batch(student, batch_size, size):
    """A batch of random images as the toolbox's packing makes it."""
    return random_batch(student, batch_size, size)


def no_runner(model) -> None:
    """The timed steps run without a Runner, so without the base hooks
    (resume, checkpoints, run guard) whose absence the first step would
    warn about: none of their jobs applies to a timing."""
    model.schedule.without_runner()


RATIOS = ('ratio', 'ratio_with_head', 'ratio_both', 'ratio_paired')


def repeat(runs: int, script: str = __file__, ratios=RATIOS) -> None:
    """This command's measurement (of ``script``) in ``runs`` fresh
    processes, one after another: each run's line, then the median, min and
    max of each of ``ratios``."""
    results = []
    for _ in range(runs):
        proc = subprocess.run(
            [sys.executable, script, *sys.argv[1:], '--runs', '1'],
            capture_output=True, text=True)
        if proc.returncode:
            raise SystemExit(proc.stderr[-3000:])
        line = proc.stdout.strip().splitlines()[-1]
        print(line, flush=True)
        results.append(json.loads(line))
    values = {k: [r[k] for r in results] for k in ratios}
    print(json.dumps(dict(
        config=results[0]['config'], runs=runs,
        keep_memory=results[0]['keep_memory'],
        **{stat: {k: round(fn(v), 4) for k, v in values.items()}
           for stat, fn in (('median', statistics.median), ('min', min),
                            ('max', max))})))


def main():
    args = parse_args()
    if args.runs < 1:
        raise SystemExit(f'--runs {args.runs}: give 1 or more')
    if args.runs > 1:
        return repeat(args.runs)
    if args.keep_memory:
        keep_freed_memory()
    if args.threads:
        torch.set_num_threads(args.threads)
    cfg = Config.fromfile(args.config)
    if args.cfg_options:
        cfg.merge_from_dict(args.cfg_options)
    init_default_scope(cfg.get('default_scope', 'mmdet'))
    model_cfg = copy.deepcopy(cfg.model)
    tmp = None
    if args.random_teacher:
        from mmkd.models.teacher import teacher_model_cfg
        tmp = tempfile.NamedTemporaryFile(suffix='.pth', delete=False)
        teacher = build_model(teacher_model_cfg(model_cfg.teacher))
        torch.save(teacher.state_dict(), tmp.name)
        model_cfg.teacher_ckpt = tmp.name
        del teacher
    model = build_model(model_cfg)
    if tmp is not None:
        os.unlink(tmp.name)
    model.to(args.device).train()
    optim = build_optim_wrapper(model, copy.deepcopy(cfg.optim_wrapper))
    student = copy.deepcopy(model.student)
    student_optim = OptimWrapper(
        torch.optim.SGD(student.parameters(), lr=1e-3, momentum=0.9))
    # Every step is computed in full (forward, backward, optimizer step),
    # but with a zero learning rate: repeated on one batch, real rates
    # drive untrained weights to NaN, and mmkd then skips those updates.
    zero_learning_rates(optim)
    zero_learning_rates(student_optim)

    no_runner(model)
    batch = make_batch(model.student, args.batch, args.img_size)
    inputs = model.data_preprocessor(copy.deepcopy(batch), True)['inputs']
    detector = getattr(model.task, 'part', None) == 'neck'

    kd_head = getattr(model.task, 'kd_head', None) == 'dense'
    cross = next((t for t in getattr(model, 'method_terms', ())
                  if isinstance(t, CrossHead)), None)

    def teacher_head():  # the teacher's dense-head work the method needs
        with torch.no_grad():
            maps = model.teacher.extract_feat(inputs)
            if kd_head:  # KD: the teacher's class scores
                model.task.teacher_cls_scores(maps)
            if cross:  # CrossKD: the teacher's own predictions
                model.teacher.bbox_head(maps)
        if cross:
            reused_layers(cross, model, maps)

    def student_step():
        student.train_step(copy.deepcopy(batch), student_optim)

    def teacher_feat():
        model.task.teacher_forward(
            inputs, kd=not detector and model.loss_kd is not None)

    def both():  # back to back, in the distiller's order
        teacher_feat()
        student_step()

    parts = dict(
        student_step=student_step,
        teacher_feat=teacher_feat,
        teacher_feat_head=teacher_head,
        both=both,
        distill_step=lambda: finite(model.train_step(copy.deepcopy(batch),
                                                     optim)))
    times = {k: [] for k in parts}
    faults = {k: [] for k in parts}
    for r in range(args.rounds + 1):
        now = {}
        for name, fn in parts.items():
            before = minor_faults()
            now[name] = timed(fn, args.device)
            if r > 0:  # round 0 warms up
                times[name].append(now[name])
                faults[name].append(minor_faults() - before)
        print(f'round {r}{" (warm-up, not counted)" if r == 0 else ""}: '
              + ', '.join(f'{k} {v:.3f}s' for k, v in now.items()),
              flush=True)
    med = {k: statistics.median(v) if v else 0.0 for k, v in times.items()}
    # the teacher head's work is measured with its features; isolate it
    head = max(0.0, med.pop('teacher_feat_head') - med['teacher_feat']
               ) if kd_head or cross else 0.0
    result = dict(
        config=os.path.basename(args.config),
        img_size=args.img_size,
        batch=args.batch,
        rounds=args.rounds,
        device=args.device,
        threads=torch.get_num_threads(),
        **{k: round(v, 4) for k, v in med.items()},
        teacher_head=round(head, 4),
        ratio=round(med['distill_step'] /
                    (med['student_step'] + med['teacher_feat']), 4),
        ratio_with_head=round(
            med['distill_step'] /
            (med['student_step'] + med['teacher_feat'] + head), 4),
        ratio_both=round(med['distill_step'] / med['both'], 4),
        ratio_paired=round(statistics.median(
            d / b for d, b in zip(times['distill_step'], times['both'])), 4),
        keep_memory=args.keep_memory,
        page_faults={k: statistics.median(v) for k, v in faults.items()},
        peak_rss_mb=round(
            resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1))
    if args.device.startswith('cuda'):
        result['peak_cuda_mb'] = round(
            torch.cuda.max_memory_allocated() / 2**20, 1)
    print(json.dumps(result))


if __name__ == '__main__':
    main()
