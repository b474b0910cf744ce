"""MB-AKT and BYOT (self-distillation): build-time errors, and real runs
through the toolboxes' Runner that save, resume and export the student."""
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope

from mmkd.registry import MODELS

from ..conftest import CLASSIFIERS, DETECTORS
from ..runs import run_config
from .test_afd import train_and_resume


def mbakt(kind='cifar_resnet', **kwargs):
    make = CLASSIFIERS.get(kind) or DETECTORS[kind]
    return dict(dict(type='MBAKT', student=make(),
                     probe_size=32 if kind in CLASSIFIERS else 128),
                **kwargs)


@pytest.mark.parametrize('stages', [[2], [5], [-1], []])
def test_error_branch_on_a_stage_that_does_not_exist(stages):
    """The CIFAR ResNet has 3 stages: a branch goes on stage 0 or 1 (the
    last is the main output)."""
    with pytest.raises(ValueError, match=r'has 3 stages \(0-2\)'):
        MODELS.build(mbakt(stages=stages))


def test_error_self_distillation_given_a_teacher():
    with pytest.raises(ValueError, match='takes no teacher'):
        MODELS.build(mbakt(teacher_ckpt='teacher.pth'))


def test_error_two_stage_detector():
    with pytest.raises(ValueError, match='two-stage'):
        MODELS.build(mbakt('retinanet', student=DETECTORS['faster_rcnn']()))


def test_error_discriminator_without_its_loss():
    with pytest.raises(ValueError, match='go together'):
        MODELS.build(mbakt(loss_gan=None))


def test_error_missing_optimizer_part():
    from mmkd.engine import DistillOptimWrapperConstructor
    with pytest.raises(ValueError, match="no 'disc' entry"):
        DistillOptimWrapperConstructor(dict(
            optimizer=dict(type='SGD', lr=0.1)))(MODELS.build(mbakt()))


@pytest.mark.parametrize('kind', ['retinanet', 'fcos'])
def test_detector_branches_predict_at_the_next_neck_level(kind):
    """A branch on backbone stage k (stride 4 * 2^k) is a one-conv copy of
    the student's dense head at the neck level of stride 8 * 2^k; its class
    scores have the shape of the student's at that level."""
    model = MODELS.build(mbakt(kind))
    assert model.stages == [0, 1, 2] and model.targets == [0, 1, 2]
    for k, branch in enumerate(model.branches):
        head = branch.head
        assert type(head) is type(model.student.bbox_head)
        assert len(head.cls_convs) == 1
        strides = getattr(head, 'strides', None) or \
            head.prior_generator.strides
        assert [s[0] if isinstance(s, tuple) else s
                for s in strides] == [8 * 2**k]
    x = torch.zeros(1, 3, 128, 128)
    with torch.no_grad():
        model.eval()
        stages = model.student.backbone(x)
        scores = model.student.bbox_head(model.student.neck(stages))[0]
        for k, branch in enumerate(model.branches):
            assert branch(stages[k])[1][0][0].shape == scores[k].shape


@pytest.mark.parametrize('byot', [False, True], ids=['mbakt', 'byot'])
def test_trains_resumes_and_exports(tmp_path, digits_root, byot):
    """Two epochs through MMPretrain's Runner; the student checkpoint holds
    exactly the plain model's keys; resuming epoch 1 ends with the same
    weights."""
    from mmkd.models.distillers.utils import build_model
    model = mbakt(**(dict(discriminator=None, loss_gan=None) if byot
                     else {}))
    cfg = run_config(tmp_path / 'a', digits_root, model)
    if byot:
        cfg.optim_wrapper.pop('disc', None)
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        train_and_resume(cfg, tmp_path)
    student = torch.load(tmp_path / 'a' / 'student_latest.pth',
                         weights_only=True)['state_dict']
    assert set(student) == set(build_model(model['student']).state_dict())
    first, second = (torch.load(osp.join(tmp_path, d, 'epoch_2.pth'),
                                weights_only=True)['state_dict']
                     for d in ('a', 'b'))
    assert any(k.startswith('branches.') for k in first)
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_build_leaves_batch_norm_statistics_alone(kind):
    model = MODELS.build(mbakt(kind))
    norms = [m for m in model.student.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(int(m.num_batches_tracked) == 0 for m in norms)


def test_every_branch_is_validated(tmp_path, digits_root):
    """EnsembleEvalHook logs each branch's accuracy; a branch's
    predictions are its classifier's argmax."""
    from mmengine.runner import Runner
    cfg = run_config(tmp_path, digits_root, mbakt(), epochs=1,
                     val_interval=1, hooks=[dict(type='EnsembleEvalHook')])
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        runner = Runner.from_cfg(cfg)
        runner.train()
    for k in range(2):
        top1 = runner.message_hub.get_info(f'branch{k}/accuracy/top1')
        assert top1 is not None and 0 <= top1 <= 100, k
    model = runner.model
    data = next(iter(runner.val_dataloader))
    samples = model.predictors()['branch1'](data)
    inputs = model.data_preprocessor(data, False)['inputs']
    from mmkd.models.tasks.base import stage_modules
    seen = []
    stage = stage_modules(model.student.backbone)[1]
    handle = stage.register_forward_hook(lambda m, i, o: seen.append(o))
    with torch.no_grad():
        model.student.backbone(inputs)
        handle.remove()
        logits = model.branches[1](seen[0])[1]
    assert [int(s.pred_label) for s in samples] == logits.argmax(1).tolist()
