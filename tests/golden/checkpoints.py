"""Tiny checkpoints of every method, written by a real Runner at the
commit that added them (before the core was recomposed from terms, issue
26): ``tests/test_golden.py`` resumes and exports each of them with
today's code, as a user resumes a run and exports a student trained before
an upgrade.

Per method, ``tests/golden/checkpoints/<name>/``:
``model.json`` (the model config as a user wrote it, with today's
documented arguments), ``teacher.pth`` (its teacher's weights, where it
has one) and ``epoch_1.pth`` (one epoch of the tiny digits or shapes run of
``tests/runs.py``: weights, optimizers, schedulers, hooks' state, random
state).

    python tests/golden/checkpoints.py      # (re)write them
"""
import copy
import json
import os
import os.path as osp
import shutil
import sys
import tempfile

import torch

HERE = osp.join(osp.dirname(osp.abspath(__file__)), 'checkpoints')
SOURCE = osp.dirname(osp.dirname(osp.dirname(HERE)))


def methods() -> dict:
    """name -> the model config (its teacher as a model dict)."""
    from tests.conftest import cifar_resnet, retinanet
    t, s = cifar_resnet(16), cifar_resnet(8)
    teacher = dict(student=s, teacher=t, probe_size=32)
    return dict(
        ktan=dict(type='KTAN', **teacher),
        detection_distiller=dict(
            type='DetectionDistiller', student=retinanet(4, 8),
            teacher=retinanet(8, 16), probe_size=128),
        kd=dict(type='TeacherDistiller', adapter=None,
                loss_kd=dict(type='KDLoss', temperature=4), **teacher),
        fitnet=dict(type='TeacherDistiller',
                    loss_feat=dict(type='FeatureMSELoss'), **teacher),
        ksanc=dict(type='KSANC', **teacher),
        complementary=dict(
            type='ComplementaryDistiller', student=s, probe_size=32,
            teacher=dict(type='ReconstructionTeacher', model=t,
                         probe_size=32)),
        afd=dict(type='AFD', student=s, peers=[s], probe_size=32),
        dml=dict(type='AFD', student=s, peers=[s], probe_size=32,
                 discriminator=None, loss_gan=None),
        mbakt=dict(type='MBAKT', student=s, probe_size=32),
        byot=dict(type='MBAKT', student=s, probe_size=32,
                  discriminator=None, loss_gan=None),
    )


def run_cfg(name: str, model: dict, work_dir: str, data_root: str,
            epochs: int):
    """The tiny run of ``tests/runs.py`` for ``model``, with the
    optimizer entries its method needs."""
    from tests.runs import run_config
    cfg = run_config(work_dir, data_root, model, epochs=epochs)
    cfg.optim_wrapper.adv = dict(optimizer=dict(type='Adam', lr=1e-4))
    return cfg


def write(name: str, model: dict, data_root: str) -> None:
    from mmengine.runner import Runner

    from mmkd.models.distillers.utils import build_model
    from mmkd.models.teacher import teacher_model_cfg
    out = osp.join(HERE, name)
    os.makedirs(out, exist_ok=True)
    model = copy.deepcopy(model)
    if 'teacher' in model:
        torch.manual_seed(0)
        teacher = build_model(teacher_model_cfg(model['teacher']))
        torch.save(dict(state_dict=teacher.state_dict()),
                   osp.join(out, 'teacher.pth'))
        model['teacher_ckpt'] = 'teacher.pth'  # relative to the fixture
    with open(osp.join(out, 'model.json'), 'w') as f:
        json.dump(model, f, indent=1)
    with tempfile.TemporaryDirectory() as work:
        runner = Runner.from_cfg(run_cfg(
            name, with_teacher_path(model, out), work, data_root, 1))
        runner.train()
        shutil.copy(osp.join(work, 'epoch_1.pth'),
                    osp.join(out, 'epoch_1.pth'))


def with_teacher_path(model: dict, folder: str) -> dict:
    model = copy.deepcopy(model)
    if 'teacher_ckpt' in model:
        model['teacher_ckpt'] = osp.join(folder, model['teacher_ckpt'])
    return model


def main():
    from mmkd.utils.digits import make_digits_dataset
    from mmkd.utils.synthetic_data import make_shapes_dataset
    with tempfile.TemporaryDirectory() as data:
        digits = make_digits_dataset(osp.join(data, 'digits'), limit=5)
        for split in ('train', 'val'):  # classes 0-2, as tests/conftest.py
            for label in range(3, 10):
                shutil.rmtree(osp.join(digits, split, str(label)),
                              ignore_errors=True)
        shapes = make_shapes_dataset(osp.join(data, 'shapes'), num_train=8,
                                     num_val=4, size=64)
        for name, model in methods().items():
            root = shapes if name == 'detection_distiller' else digits
            write(name, model, root)
            print(name, os.path.getsize(osp.join(HERE, name, 'epoch_1.pth')))


if __name__ == '__main__':
    sys.path.insert(0, SOURCE)
    main()
