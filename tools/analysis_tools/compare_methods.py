"""Compare distillation methods as users will: configs x seeds on one
dataset and one fixed schedule, with the student alone and the teacher.

    python tools/analysis_tools/compare_methods.py \\
        --teacher configs/demo/resnet8-w16_digits.py \\
        --student configs/demo/resnet8_digits.py \\
        configs/demo/ktan_resnet8-w16_resnet8_digits.py [more configs] \\
        --seeds 0 1 2 --work-dir work_dirs/compare [--epochs 15] \\
        [--data-root data/digits] [--cfg-options k=v ...]

The teacher is trained once (the first seed) and is every distiller's
``teacher_ckpt`` (an online method, e.g. AFD or DML, has none: the
teacher row then is its large network trained alone); a config whose
teacher is another config file (a complementary student's
ReconstructionTeacher) gets that teacher, trained once too, with its own
row. Each other config trains once per seed. Every run goes
through MMDetection's / MMPretrain's Runner in its own process and writes
``result.json`` in its work dir; a run that has one is not redone, so an
interrupted comparison resumes. The table (metric mean, standard deviation
and the values per seed, training minutes, gain over the student alone) is
printed and written to ``<work-dir>/results.md``. The metric is COCO
``bbox_mAP`` for detectors and ``accuracy/top1`` for classifiers.
"""
import argparse
import json
import os
import os.path as osp
import statistics
import subprocess
import sys
import time

from mmengine.config import DictAction

METRICS = ('coco/bbox_mAP', 'accuracy/top1')


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('configs', nargs='*', help='distillation configs')
    parser.add_argument('--teacher', help='teacher config (required)')
    parser.add_argument('--student',
                        help="the student's own config, the baseline "
                        '(required)')
    parser.add_argument('--seeds', type=int, nargs='+', default=[0, 1, 2])
    parser.add_argument('--work-dir', default='work_dirs/compare')
    parser.add_argument('--epochs', type=int, help='every run\'s epochs')
    parser.add_argument('--data-root', help='every dataloader\'s data_root')
    parser.add_argument('--cfg-options', nargs='+', action=DictAction,
                        default={}, help='key=value overrides for every run')
    parser.add_argument('--make-digits', action='store_true',
                        help='write scikit-learn\'s digits to --data-root '
                        '(default: <work-dir>/digits) first')
    parser.add_argument('--run-one', nargs=4, help=argparse.SUPPRESS)
    return parser.parse_args()


def set_schedule(cfg, epochs):
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs
    cfg.default_hooks.checkpoint.interval = epochs
    schedulers = cfg.param_scheduler if isinstance(
        cfg.param_scheduler, (list, tuple)) else [cfg.param_scheduler]
    for s in schedulers:
        if 'T_max' in s:
            s.T_max = epochs
        if 'end' in s and s.get('by_epoch', True) and s.end > 1:
            s.end = epochs


def run_one(config, seed, work_dir, options):
    """Train and test one config (in this process); write result.json."""
    from mmengine.config import Config
    from mmengine.runner import Runner
    options = json.loads(options)
    cfg = Config.fromfile(config)
    if options.get('data_root'):
        for loader in ('train_dataloader', 'val_dataloader',
                       'test_dataloader'):
            cfg[loader].dataset.data_root = options['data_root']
        for split in ('val', 'test'):  # COCO metrics read the annotations
            evaluator = cfg.get(f'{split}_evaluator')
            if isinstance(evaluator, dict) and evaluator.get('ann_file'):
                evaluator.ann_file = osp.join(
                    options['data_root'],
                    cfg[f'{split}_dataloader'].dataset.ann_file)
    if options.get('cfg_options'):
        extra = dict(options['cfg_options'])
        if 'teacher' not in cfg.model:  # an online method (AFD, DML)
            extra.pop('model.teacher_ckpt', None)
        cfg.merge_from_dict(extra)
    if options.get('epochs'):
        set_schedule(cfg, options['epochs'])
    cfg.randomness = dict(seed=int(seed))
    cfg.work_dir = work_dir
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    minutes = (time.time() - start) / 60
    metrics = runner.test()
    metric = next(k for k in METRICS if k in metrics)
    with open(osp.join(work_dir, 'result.json'), 'w') as f:
        json.dump(dict(config=config, seed=int(seed), metric=metric,
                       value=float(metrics[metric]), minutes=minutes,
                       max_epochs=cfg.train_cfg.max_epochs), f)


def own_teacher(config, teacher):
    """The teacher config file of ``config`` when it is not ``teacher``."""
    from mmengine.config import Config
    own = Config.fromfile(config).model.get('teacher')
    if isinstance(own, str) and osp.isfile(own) and (
            osp.realpath(own) != osp.realpath(teacher)):
        return own
    return None


def name_of(config):
    return osp.splitext(osp.basename(config))[0]


def run(config, seed, work_dir, options):
    """One run in its own process, unless it has finished before."""
    result = osp.join(work_dir, 'result.json')
    if osp.exists(result):
        print(f'[compare] {name_of(config)} seed {seed}: done before',
              flush=True)
    else:
        print(f'[compare] {name_of(config)} seed {seed}: training in '
              f'{work_dir}', flush=True)
        start = time.time()
        subprocess.run([sys.executable, __file__, '--run-one', config,
                        str(seed), work_dir, json.dumps(options)],
                       check=True)
        print(f'[compare] {name_of(config)} seed {seed}: '
              f'{(time.time() - start) / 60:.1f} min', flush=True)
    with open(result) as f:
        return json.load(f)


def table(rows, baseline) -> str:
    percent = rows[0][0]['metric'].startswith('accuracy')

    def fmt(v):  # top-1 in percent, mAP in [0, 1]
        return f'{v:.2f}' if percent else f'{v:.3f}'

    lines = [f'| config | {rows[0][0]["metric"]} mean | std | per seed | '
             'train min | gain over the student alone |',
             '|---|---|---|---|---|---|']
    base = statistics.mean(r['value'] for r in baseline)
    for results in rows:
        values = [r['value'] for r in results]
        mean = statistics.mean(values)
        std = statistics.stdev(values) if len(values) > 1 else 0.0
        minutes = statistics.mean(r['minutes'] for r in results)
        digits = 2 if percent else 3
        gain = '' if results is baseline else f'{mean - base:+.{digits}f}'
        lines.append(
            f'| {name_of(results[0]["config"])} | {fmt(mean)} | {fmt(std)} | '
            + ' / '.join(fmt(v) for v in values) +
            f' | {minutes:.1f} | {gain} |')
    return '\n'.join(lines)


def main():
    args = parse_args()
    if args.run_one:
        return run_one(*args.run_one)
    if not (args.teacher and args.student):
        raise SystemExit('compare_methods.py needs --teacher and --student '
                         '(the student alone is the baseline of the gains)')
    os.makedirs(args.work_dir, exist_ok=True)
    if args.make_digits:
        from mmkd.utils.digits import make_digits_dataset
        args.data_root = make_digits_dataset(osp.abspath(
            args.data_root or osp.join(args.work_dir, 'digits')))
    options = dict(epochs=args.epochs, data_root=args.data_root,
                   cfg_options=args.cfg_options or None)
    # each config's teacher: the common one, or its own config file
    owns = {c: own_teacher(c, args.teacher) or args.teacher
            for c in args.configs}
    teachers = {args.teacher: 'teacher'}  # config -> its work dir name
    teachers.update((t, f'teacher-{name_of(t)}') for t in owns.values()
                    if t != args.teacher)
    # each teacher trains once (the first seed); its last checkpoint
    trained = {c: run(c, args.seeds[0], osp.join(args.work_dir, d), options)
               for c, d in teachers.items()}
    ckpts = {c: osp.join(args.work_dir, d,
                         f'epoch_{trained[c]["max_epochs"]}.pth')
             for c, d in teachers.items()}
    baseline = [run(args.student, s, osp.join(args.work_dir, 'student',
                                              f'seed{s}'), options)
                for s in args.seeds]
    rows = [[r] for r in trained.values()] + [baseline]
    for config in args.configs:
        distil = dict(options, cfg_options=dict(
            options['cfg_options'] or {},
            **{'model.teacher_ckpt': ckpts[owns[config]]}))
        rows.append([run(config, s, osp.join(args.work_dir, name_of(config),
                                             f'seed{s}'), distil)
                     for s in args.seeds])
    text = table(rows, baseline)
    with open(osp.join(args.work_dir, 'results.md'), 'w') as f:
        f.write(text + '\n')
    print('\n' + text)


if __name__ == '__main__':
    main()
