"""The mmkd demo: teacher, student alone, student distilled with KTAN.

    python tools/demo.py                       # generated shapes data
    python tools/demo.py --data-root ../shared/data/raccoon   # any COCO set
    python tools/demo.py --task cls            # scikit-learn's digits: also KD

Trains the three models of ``configs/demo/`` with MMDetection's Runner, as
``tools/train.py`` would, evaluates each with COCO mAP on the validation
split, prints a table and exports the distilled student as a plain
MMDetection checkpoint. CPU only; a few minutes on the default data.

A COCO-format ``--data-root`` needs ``annotations/train.json`` and
``annotations/val.json``; images are looked up in ``images/{split}2017/``,
``images/{split}/`` or ``images/``.
"""
import argparse
import copy
import json
import os
import os.path as osp
import time

from mmengine.config import Config
from mmengine.runner import Runner

from mmkd.utils import export_student
from mmkd.utils.synthetic_data import make_shapes_dataset

CONFIGS = osp.join(osp.dirname(osp.dirname(osp.abspath(__file__))),
                   'configs', 'demo')
TEACHER = osp.join(CONFIGS, 'retinanet_r18_fpn_12e_shapes.py')
STUDENT = osp.join(CONFIGS, 'retinanet_r18-w16_fpn-64_12e_shapes.py')
KTAN = osp.join(CONFIGS,
                'ktan_retinanet-r18_retinanet-r18-w16_fpn-64_12e_shapes.py')
CLS_TEACHER = osp.join(CONFIGS, 'resnet8-w16_digits.py')
CLS_STUDENT = osp.join(CONFIGS, 'resnet8_digits.py')
CLS_KTAN = osp.join(CONFIGS, 'ktan_resnet8-w16_resnet8_digits.py')
CLS_KD = osp.join(CONFIGS, 'kd_resnet8-w16_resnet8_digits.py')


def parse_args():
    parser = argparse.ArgumentParser(
        description='Train a teacher, a student and a KTAN student; compare.')
    parser.add_argument('--task', choices=['det', 'cls'], default='det',
                        help='detection (default) or classification')
    parser.add_argument('--data-root', help='a COCO-format dataset (det)')
    parser.add_argument('--work-dir', help='default: work_dirs/demo '
                        '(det), work_dirs/demo_cls (cls)')
    parser.add_argument('--epochs', type=int,
                        help='default: 12 (det), 15 (cls)')
    parser.add_argument('--seed', type=int, default=0)
    parser.add_argument(
        '--img-size', type=int, help='training/test scale (default: 128 on '
        'the generated data, 256 on --data-root)')
    args = parser.parse_args()
    cls = args.task == 'cls'
    args.work_dir = args.work_dir or ('work_dirs/demo_cls' if cls else
                                      'work_dirs/demo')
    args.epochs = args.epochs or (15 if cls else 12)
    return args


def dataset_settings(args):
    """data_root, classes, image prefixes and scale of the run."""
    if args.data_root is None:
        root = make_shapes_dataset(
            osp.abspath(osp.join(args.work_dir, 'shapes')))
        return dict(root=root, prefixes=dict(train='images/train/',
                                             val='images/val/'),
                    scale=args.img_size or 128)
    root = osp.abspath(args.data_root)
    prefixes = {}
    for split in ('train', 'val'):
        ann = osp.join(root, 'annotations', f'{split}.json')
        if not osp.isfile(ann):
            raise FileNotFoundError(
                f'{ann} not found: --data-root needs annotations/train.json '
                'and annotations/val.json in COCO format')
        for prefix in (f'images/{split}2017/', f'images/{split}/', 'images/'):
            if osp.isdir(osp.join(root, prefix)):
                prefixes[split] = prefix
                break
        else:
            raise FileNotFoundError(f'no image folder for {split} in {root}')
    with open(osp.join(root, 'annotations', 'train.json')) as f:
        categories = sorted(json.load(f)['categories'], key=lambda c: c['id'])
    return dict(root=root, prefixes=prefixes, scale=args.img_size or 256,
                classes=tuple(c['name'] for c in categories))


def adapt(cfg: Config, data: dict, args) -> Config:
    """Point a demo config at the run's data, scale, schedule and seed."""
    epochs = args.epochs
    model = cfg.model.student if 'student' in cfg.model else cfg.model
    models = [model] + ([cfg.model.teacher] if 'teacher' in cfg.model else [])
    classes = data.get('classes', cfg.classes)
    for m in models:
        m.bbox_head.num_classes = len(classes)
    for split, loader in (('train', cfg.train_dataloader),
                          ('val', cfg.val_dataloader)):
        ds = loader.dataset
        ds.data_root = data['root']
        ds.metainfo = dict(classes=classes)
        ds.data_prefix = dict(img=data['prefixes'][split])
        for step in ds.pipeline:
            if step.type == 'Resize':
                step.scale = (data['scale'], data['scale'])
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.ann_file = osp.join(data['root'], 'annotations',
                                          'val.json')
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg.max_epochs = epochs
    cfg.train_cfg.val_interval = epochs
    cfg.param_scheduler[1].end = epochs
    cfg.default_hooks.checkpoint.interval = epochs
    cfg.randomness = dict(seed=args.seed)
    return cfg


def train_and_test(name, cfg, work_dir):
    print(f'\n===== {name}: training ({cfg.train_cfg.max_epochs} epochs) '
          f'in {work_dir} =====', flush=True)
    cfg.work_dir = work_dir
    start = time.time()
    runner = Runner.from_cfg(cfg)
    runner.train()
    minutes = (time.time() - start) / 60
    metrics = runner.test()
    model = runner.model.student if hasattr(runner.model,
                                            'student') else runner.model
    params = sum(p.numel() for p in model.parameters()) / 1e6
    return dict(name=name, params=params, minutes=minutes,
                mAP=metrics['coco/bbox_mAP'],
                mAP50=metrics['coco/bbox_mAP_50'])


def adapt_cls(cfg: Config, root: str, args) -> Config:
    """Point a digits config at the run's data, schedule and seed."""
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.dataset.data_root = root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg.max_epochs = cfg.train_cfg.val_interval = args.epochs
    cfg.param_scheduler.T_max = args.epochs
    cfg.default_hooks.checkpoint.interval = args.epochs
    cfg.randomness = dict(seed=args.seed)
    return cfg


def main_cls(args):
    """Teacher, student alone, KTAN and KD on the 1,797 digits."""
    from mmkd.utils.digits import make_digits_dataset
    root = make_digits_dataset(osp.abspath(osp.join(args.work_dir, 'digits')))
    print(f'data: {root} (scikit-learn digits, 32 px)', flush=True)
    teacher_dir = osp.join(args.work_dir, 'teacher')
    ktan, kd = (adapt_cls(Config.fromfile(c), root, args)
                for c in (CLS_KTAN, CLS_KD))
    for cfg in (ktan, kd):
        cfg.model.teacher_ckpt = osp.join(teacher_dir,
                                          f'epoch_{args.epochs}.pth')
    runs = [('teacher  ResNet-8 x4 wide', CLS_TEACHER, 'teacher'),
            ('student  ResNet-8 alone', CLS_STUDENT, 'student'),
            ('student  ResNet-8 KTAN', ktan, 'ktan'),
            ('student  ResNet-8 KD', kd, 'kd')]
    rows = []
    for name, cfg, work in runs:
        if isinstance(cfg, str):
            cfg = adapt_cls(Config.fromfile(cfg), root, args)
        start = time.time()
        cfg.work_dir = osp.join(args.work_dir, work)
        print(f'\n===== {name}: training ({args.epochs} epochs) in '
              f'{cfg.work_dir} =====', flush=True)
        runner = Runner.from_cfg(cfg)
        runner.train()
        minutes = (time.time() - start) / 60
        top1 = runner.test()['accuracy/top1']
        model = getattr(runner.model, 'student', runner.model)
        rows.append(dict(name=name, top1=top1, minutes=minutes, params=sum(
            p.numel() for p in model.parameters()) / 1e6))
    exported = osp.join(args.work_dir, 'ktan_student.pth')
    export_student(osp.join(args.work_dir, 'ktan',
                            f'epoch_{args.epochs}.pth'), exported,
                   overwrite=True)
    print('\n| model | params (M) | top-1 (%) | train min |')
    print('|---|---|---|---|')
    for r in rows:
        print(f'| {r["name"]} | {r["params"]:.3f} | {r["top1"]:.2f} | '
              f'{r["minutes"]:.1f} |')
    print(f'\nKTAN vs student alone: {rows[2]["top1"] - rows[1]["top1"]:+.2f}'
          f'; KD vs student alone: {rows[3]["top1"] - rows[1]["top1"]:+.2f}')
    print(f'Exported student: {exported} (loads with '
          f'{osp.join(args.work_dir, "ktan", "student_config.py")})')


def main():
    args = parse_args()
    os.makedirs(args.work_dir, exist_ok=True)
    if args.task == 'cls':
        return main_cls(args)
    data = dataset_settings(args)
    print(f'data: {data["root"]} (scale {data["scale"]})', flush=True)

    teacher_cfg = adapt(Config.fromfile(TEACHER), data, args)
    student_cfg = adapt(Config.fromfile(STUDENT), data, args)
    ktan_cfg = Config.fromfile(KTAN)
    ktan_cfg.model.teacher = copy.deepcopy(teacher_cfg.model)
    ktan_cfg = adapt(ktan_cfg, data, args)
    teacher_dir = osp.join(args.work_dir, 'teacher')
    ktan_cfg.model.teacher_ckpt = osp.join(teacher_dir,
                                           f'epoch_{args.epochs}.pth')

    rows = [
        train_and_test('teacher  RetinaNet-R18', teacher_cfg, teacher_dir),
        train_and_test('student  R18-w16 alone', student_cfg,
                       osp.join(args.work_dir, 'student')),
        train_and_test('student  R18-w16 KTAN', ktan_cfg,
                       osp.join(args.work_dir, 'ktan')),
    ]
    exported = osp.join(args.work_dir, 'ktan_student.pth')
    export_student(
        osp.join(args.work_dir, 'ktan', f'epoch_{args.epochs}.pth'),
        exported, overwrite=True)
    student_cfg.dump(osp.join(args.work_dir, 'ktan_student_config.py'))

    print('\n| model | params (M) | bbox mAP | mAP@0.5 | train min |')
    print('|---|---|---|---|---|')
    for r in rows:
        print(f'| {r["name"]} | {r["params"]:.2f} | {r["mAP"]:.3f} | '
              f'{r["mAP50"]:.3f} | {r["minutes"]:.1f} |')
    gain = rows[2]['mAP'] - rows[1]['mAP']
    print(f'\nKTAN vs student alone: {gain:+.3f} mAP')
    print(f'Exported student: {exported} (loads with '
          f'{osp.join(args.work_dir, "ktan_student_config.py")} in plain '
          'MMDetection)')


if __name__ == '__main__':
    main()
