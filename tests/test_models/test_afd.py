"""AFD and DML (online distillation): build-time errors, and real runs
through the toolboxes' Runner that save, resume and export the student."""
import copy
import os.path as osp

import pytest
import torch
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmkd.models.terms import PeerAdversary
from mmkd.registry import MODELS

from ..conftest import CLASSIFIERS, DETECTORS, batch_for
from ..runs import run_config


def afd(kind='cifar_resnet', **kwargs):
    make = CLASSIFIERS.get(kind) or DETECTORS[kind]
    wide = make(16) if kind in CLASSIFIERS else make(width=16,
                                                     neck_channels=32)
    return dict(dict(type='AFD', student=make(), peers=[wide],
                     probe_size=32 if kind in CLASSIFIERS else 128),
                **kwargs)


def test_error_no_peer():
    with pytest.raises(ValueError, match='K >= 2 networks'):
        MODELS.build(afd(peers=[]))


def test_error_online_method_given_a_teacher():
    with pytest.raises(ValueError, match='takes no teacher'):
        MODELS.build(afd(teacher_ckpt='teacher.pth'))


@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_error_peers_of_other_classes(kind):
    cfg = afd(kind)
    head = cfg['peers'][0]['head' if kind in CLASSIFIERS else 'bbox_head']
    head['num_classes'] = 5
    with pytest.raises(ValueError, match='learns from network .*classes'):
        MODELS.build(cfg)


def test_error_two_stage_peer():
    cfg = afd('retinanet', peers=[DETECTORS['faster_rcnn']()])
    with pytest.raises(ValueError, match='one-stage'):
        MODELS.build(cfg)


def test_error_missing_optimizer_part():
    from mmkd.engine import DistillOptimWrapperConstructor
    model = MODELS.build(afd())
    with pytest.raises(ValueError, match="no 'adv' entry"):
        DistillOptimWrapperConstructor(dict(
            optimizer=dict(type='SGD', lr=0.1),
            disc=dict(optimizer=dict(type='Adam', lr=1e-4))))(model)


def test_three_networks_cyclic():
    """K = 3: D_k judges network k-1 (real) against network k (fake), the
    KL flows 0 <- 2 <- 1 <- 0, one transform where widths differ."""
    cfg = afd()
    cfg['peers'].append(CLASSIFIERS['cifar_resnet'](4))
    model = MODELS.build(cfg)
    assert len(model.discriminators) == 3
    assert sorted(model.transforms) == ['0', '1', '2']  # every width differs
    state = model.data_preprocessor(batch_for('cifar_resnet'), True)
    model.term(PeerAdversary).adversarial_losses(model, state)
    # D_k compares network k-1's map with network k's, transformed
    assert [r[0].shape[1] for r in state['reals']] == [16, 32, 64]
    assert all(r[0].shape == f[0].shape
               for r, f in zip(state['reals'], state['fakes']))


@pytest.mark.parametrize('dml', [False, True], ids=['afd', 'dml'])
def test_trains_resumes_and_exports(tmp_path, digits_root, dml):
    """Two epochs through MMPretrain's Runner; the student checkpoint holds
    only the student; resuming epoch 1 ends with the same weights."""
    model = afd(**(dict(discriminator=None, loss_gan=None) if dml else {}))
    cfg = run_config(tmp_path / 'a', digits_root, model)
    cfg.optim_wrapper['adv'] = dict(optimizer=dict(type='Adam', lr=2e-5))
    # the Runners' default scope must not outlive the test
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        train_and_resume(cfg, tmp_path)
    student = torch.load(tmp_path / 'a' / 'student_latest.pth',
                         weights_only=True)['state_dict']
    assert student and not any(k.startswith(('peers', 'disc', 'student.'))
                               for k in student)
    first, second = (torch.load(osp.join(tmp_path, d, 'epoch_2.pth'),
                                weights_only=True)['state_dict']
                     for d in ('a', 'b'))
    assert first.keys() == second.keys()
    assert all(torch.equal(first[k], second[k]) for k in first)


def train_and_resume(cfg, tmp_path):
    """Train ``cfg`` in ``a``; resume its epoch 1 in ``b``."""
    Runner.from_cfg(copy.deepcopy(cfg)).train()
    again = copy.deepcopy(cfg)
    again.work_dir = str(tmp_path / 'b')
    again.resume, again.load_from = True, str(tmp_path / 'a' / 'epoch_1.pth')
    Runner.from_cfg(again).train()


@pytest.mark.parametrize('kind', ['cifar_resnet', 'retinanet'])
def test_build_leaves_batch_norm_statistics_alone(kind):
    """The probe forward that infers channels and levels runs every
    network in eval mode: BN statistics stay as initialised."""
    model = MODELS.build(afd(kind))
    norms = [m for net in model.nets() for m in net.modules()
             if isinstance(m, torch.nn.BatchNorm2d)]
    assert norms and all(int(m.num_batches_tracked) == 0 for m in norms)
    assert all(torch.equal(m.running_mean, torch.zeros_like(m.running_mean))
               for m in norms)


def test_every_peer_is_validated_and_exported(tmp_path, digits_root):
    """EnsembleEvalHook logs peer 1's accuracy after the student's; peer 1
    exports (``export_student.py --peer 1``) as a plain MMPretrain
    checkpoint that its own ``peer1_config.py`` loads and that predicts
    what the peer predicted in the run; a peer that does not exist is a
    clear error."""
    import subprocess
    import sys
    from mmengine.config import Config
    from mmkd.models.distillers.utils import build_model
    from mmkd.utils import export_student
    from ..conftest import cls_batch
    cfg = run_config(tmp_path, digits_root, afd(), epochs=1, val_interval=1,
                     hooks=[dict(type='EnsembleEvalHook')])
    cfg.optim_wrapper['adv'] = dict(optimizer=dict(type='Adam', lr=2e-5))
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        runner = Runner.from_cfg(cfg)
        runner.train()
    top1 = runner.message_hub.get_info('peer1/accuracy/top1')
    assert top1 is not None and 0 <= top1 <= 100
    out = tmp_path / 'peer1.pth'
    proc = subprocess.run(
        [sys.executable, 'tools/model_converters/export_student.py',
         str(tmp_path / 'epoch_1.pth'), str(out), '--peer', '1'],
        capture_output=True, text=True,
        cwd=osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__)))))
    assert proc.returncode == 0, proc.stderr
    plain = build_model(Config.fromfile(tmp_path / 'peer1_config.py').model)
    plain.load_state_dict(torch.load(out, weights_only=True)['state_dict'])
    peer = runner.model.peers[0]
    batch = cls_batch()
    plain.eval(), peer.eval()
    with torch.no_grad():
        ours = peer(**peer.data_preprocessor(copy.deepcopy(batch), False),
                    mode='tensor')
        theirs = plain(**plain.data_preprocessor(batch, False),
                       mode='tensor')
    assert torch.equal(ours, theirs)
    with pytest.raises(ValueError, match=r'has peers \[1\]; --peer 2'):
        export_student(str(tmp_path / 'epoch_1.pth'),
                       str(tmp_path / 'x.pth'), peer=2)


@pytest.mark.parametrize('config', [
    'afd/afd_resnet8-w16_resnet8_digits.py', 'mbakt/mbakt_resnet8_digits.py'])
def test_one_field_overrides(config):
    """``--cfg-options model.loss_kd.temperature=4`` changes that field
    only; a field the component does not take is named."""
    from mmengine.config import Config
    from mmkd.models.distillers.utils import build_model
    root = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
    cfg = Config.fromfile(osp.join(root, 'configs', config))
    cfg.merge_from_dict({'model.loss_kd.temperature': 4,
                         'model.discriminator.feat_channels': 32})
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        model = build_model(cfg.model)
        kd, weight = model.loss_kd, 0.3 if 'mbakt' in config else 1.0
        assert kd.temperature == 4 and kd.loss_weight == weight
        disc = model.discriminator if 'mbakt' in config else \
            model.discriminators[0]
        assert disc.layers[-1].in_channels == 32
        cfg.merge_from_dict({'model.loss_gan.gan_typ': 'hinge'})
        with pytest.raises(ValueError, match="'gan_typ' is not a field"):
            build_model(cfg.model)
