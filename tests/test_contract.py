"""Registry-driven contract: every component mmkd registers is exercised
here. Registering a new one without adding its contract fails the first
test, so nothing ships untested."""
import copy
import os.path as osp

import pytest
import torch
import torch.distributed as dist
from mmengine.model import MMDistributedDataParallel
from mmengine.optim import OptimWrapperDict
from mmengine.registry import DefaultScope
from mmengine.runner import Runner

from mmkd.registry import (HOOKS, MODEL_WRAPPERS, MODELS,
                           OPTIM_WRAPPER_CONSTRUCTORS)

from .conftest import batch_for, packed_batch
from .runs import run_config


def registered(registry):
    return sorted(name for name, cls in registry.module_dict.items()
                  if cls.__module__.startswith('mmkd.'))


def same_outputs(ours, theirs) -> bool:
    """Whether two tensor-mode outputs (a tensor, or nested tuples of
    them) are equal."""
    def flat(out):
        out = out if isinstance(out, (list, tuple)) else [out]
        return [torch.as_tensor(x) for o in out for x in (
            o if isinstance(o, (list, tuple)) else [o])]

    return all(torch.equal(a, b) for a, b in zip(flat(ours), flat(theirs)))


def loss_pair(shape=(2, 6, 5)):
    torch.manual_seed(0)
    s = torch.randn(*shape, requires_grad=True)
    t = torch.randn(*shape, requires_grad=True)
    return s, t


def check_gan_loss(cfg, _):
    loss = MODELS.build(cfg)
    s, t = loss_pair()
    g = loss(s)
    d = loss.discriminator_loss(t, s)
    assert g.dim() == 0 and d.dim() == 0
    assert torch.isfinite(g) and torch.isfinite(d)
    g.backward()
    assert s.grad is not None and t.grad is None


def check_kd_loss(cfg, _):
    """A logit loss ``(student_logits, teacher_logits[, labels])``: a
    positive finite scalar, gradients to the student only, zero when the
    student equals the teacher; both score kinds where it takes
    ``use_sigmoid``."""
    import inspect
    takes = inspect.signature(MODELS.get(cfg['type'])).parameters
    for kind in ([dict(use_sigmoid=False), dict(use_sigmoid=True)]
                 if 'use_sigmoid' in takes else [{}]):
        loss = MODELS.build(dict(cfg, **kind))
        shape = (2, 6, 5) if 'use_sigmoid' in takes else (12, 5)
        s, t = loss_pair(shape)
        labels = (torch.arange(len(s)) % s.shape[-1], ) if getattr(
            loss, 'needs_labels', False) else ()
        value = loss(s, t, *labels)
        assert value.dim() == 0 and torch.isfinite(value) and value > 0
        value.backward()
        assert s.grad is not None and t.grad is None  # never the teacher
        same = loss(t.detach().clone(), t.detach(), *labels)
        assert same.abs().item() < 1e-6  # zero when student equals teacher


def check_adapter(cfg, _):
    adapter = MODELS.build(dict(cfg, in_channels=[8, 4], out_channels=[16,
                                                                       12]))
    feats = [torch.randn(2, 8, 10, 10, requires_grad=True),
             torch.randn(2, 4, 5, 5, requires_grad=True)]
    out = adapter(feats, [(10, 10), (7, 7)])
    assert [o.shape[1:] for o in out] == [(16, 10, 10), (12, 7, 7)]
    sum(o.sum() for o in out).backward()
    assert all(f.grad is not None for f in feats)


def check_discriminator(cfg, _):
    disc = MODELS.build(dict(cfg, in_channels=16))
    feats = [torch.randn(2, 16, 12, 12, requires_grad=True),
             torch.randn(2, 16, 3, 3, requires_grad=True)]
    out = disc(feats)
    assert len(out) == 2 and all(o.shape[:2] == (2, 1) for o in out)
    assert all(torch.isfinite(o).all() for o in out)
    sum(o.sum() for o in out).backward()
    assert all(f.grad is not None for f in feats)


def check_logit_discriminator(cfg, _):
    disc = MODELS.build(dict(cfg, in_channels=5))
    rows = [torch.randn(7, 5, requires_grad=True),
            torch.randn(3, 5, requires_grad=True)]
    out = disc(rows)
    assert [tuple(o.shape) for o in out] == [(7, 6), (3, 6)]
    sum(o.sum() for o in out).backward()
    assert all(r.grad is not None for r in rows)
    assert len(disc.weights()) == 3


def check_attention(cfg, _):
    """Descriptors of the maps' widths, masks that sum to 1 over each map,
    an auxiliary classifier, and gradients into the module from the
    teacher side only (the student's side reaches the student's maps)."""
    att = MODELS.build(dict(cfg, in_channels=[4, 8], num_classes=3))
    t_maps = [torch.randn(2, 4, 8, 8), torch.randn(2, 8, 4, 4)]
    s_maps = [torch.randn(2, 4, 8, 8, requires_grad=True),
              torch.randn(2, 8, 4, 4, requires_grad=True)]
    out = att(t_maps, s_maps)
    assert [tuple(g.shape) for g in out['s_desc']] == [(2, 4), (2, 8)]
    assert tuple(out['aux_logits'].shape) == (2, 3)
    for m in out['t_masks'] + out['s_masks']:
        assert torch.allclose(m.sum((1, 2, 3)), torch.ones(2))
    # the paper's form: 1x1 conv of (map + projected global descriptor)
    glob = t_maps[-1].mean((2, 3))
    for proj, score, x, m, g in zip(att.project, att.score, t_maps,
                                    out['t_masks'], out['t_desc']):
        direct = score(x + proj(glob)[:, :, None, None]).flatten(1)
        direct = direct.softmax(1)
        assert torch.allclose(direct, m.flatten(1), atol=1e-6)
        assert torch.allclose((direct[:, None] * x.flatten(2)).sum(-1), g,
                              atol=1e-5)
    sum(g.sum() for g in out['s_desc']).backward()
    assert all(m.grad is not None for m in s_maps)
    assert all(p.grad is None for p in att.parameters())
    out['aux_logits'].sum().backward()
    assert all(p.grad is not None for p in att.parameters())


def check_decoder(cfg, _):
    dec = MODELS.build(dict(cfg, in_channels=8, stride=4))
    x = torch.randn(2, 8, 5, 5, requires_grad=True)
    out = dec(x, (20, 22))  # padded sizes need not be multiples of 4
    assert tuple(out.shape) == (2, 3, 20, 22)
    out.sum().backward()
    assert x.grad is not None


def check_reconstruction_teacher(_, distiller_cfg):
    """On a detector and a classifier: the task losses plus ``loss_rec``,
    gradients into model and decoder, prediction of the plain model, and
    checkpoint keys that are the plain model's plus ``decoder.*``."""
    from mmkd.models.distillers.utils import build_model
    for kind in ('retinanet', 'cifar_resnet'):
        cfg = distiller_cfg(kind, reconstruction=True)['teacher']
        model = MODELS.build(cfg)
        data = model.data_preprocessor(batch_for(kind), True)
        losses = model(data['inputs'], data['data_samples'], mode='loss')
        assert 'loss_rec' in losses and len(losses) > 1
        model.parse_losses(losses)[0].backward()
        assert all(p.grad is not None for p in model.decoder.parameters())
        assert any(p.grad is not None for p in model.model.parameters())
        plain = build_model(cfg['model'])
        state = model.state_dict()
        assert set(state) == set(plain.state_dict()) | {
            k for k in state if k.startswith('decoder.')}
        plain.load_state_dict(state, strict=False)
        model.eval(), plain.eval()
        with torch.no_grad():
            data = model.data_preprocessor(batch_for(kind), False)
            a = model(data['inputs'], data['data_samples'], mode='tensor')
            b = plain(data['inputs'], data['data_samples'], mode='tensor')
        assert same_outputs(a, b)


def check_feature_loss(cfg, _):
    loss = MODELS.build(cfg)
    s, t = loss_pair((2, 6, 5, 5))
    value = loss(s, t)
    assert value.dim() == 0 and torch.isfinite(value) and value > 0
    value.backward()
    assert s.grad is not None and t.grad is None  # never the teacher
    assert loss(t.detach(), t.detach()).abs().item() < 1e-6
    # a student map of another size is brought to the teacher's
    small = torch.randn(2, 6, 3, 3, requires_grad=True)
    assert torch.isfinite(loss(small, t))


def check_level_loss(cfg, _):
    """A loss with modules of its own per level pair (MGD, FGD), widths
    filled in by the distiller: a positive finite scalar for maps of other
    widths and sizes, gradients to the student's map and every module of
    its own, never to the teacher's map."""
    import inspect
    loss = MODELS.build(dict(cfg, student_channels=4, teacher_channels=8))
    s = torch.randn(2, 4, 6, 6, requires_grad=True)
    t = torch.randn(2, 8, 8, 8, requires_grad=True)
    extra = ()
    if 'gt_bboxes' in inspect.signature(loss.forward).parameters:
        extra = ([torch.tensor([[2.0, 4.0, 30.0, 40.0]]),
                  torch.tensor([[0.0, 0.0, 20.0, 10.0]])], [(64, 64)] * 2)
    for p in loss.parameters():  # zero-initialised layers would hide one
        torch.nn.init.normal_(p, std=0.1)
    value = loss(s, t, *extra)
    assert value.dim() == 0 and torch.isfinite(value) and value > 0
    value.backward()
    assert s.grad is not None and t.grad is None
    assert all(p.grad is not None for p in loss.parameters())


def check_backbone(cfg, _):
    backbone = MODELS.build(dict(cfg, out_indices=(0, 1, 2)))
    x = torch.randn(2, 3, 32, 32, requires_grad=True)
    outs = backbone(x)
    assert len(outs) == 3 and all(o.dim() == 4 for o in outs)
    sides = [o.shape[-1] for o in outs]
    assert sides == sorted(sides, reverse=True) and sides[0] > sides[-1]
    outs[-1].sum().backward()
    assert x.grad is not None
    assert len(backbone.res_layers) >= 3  # the stages mmkd distils


def check_distiller(cfg, distiller_cfg):
    """Every distiller on a detector and a classifier: finite losses,
    the declared terms are those computed and the weight schedules scale
    each of them, gradients reach the student and its helpers and never
    the teacher, each optimizer part updates only its own modules,
    checkpoint keys are the declared children's, predict goes to the
    student, and the exported student predicts the same as a plain
    model."""
    import inspect
    from mmkd.engine import DistillOptimWrapperConstructor
    cls = MODELS.get(cfg['type'])
    for kind in ('retinanet', 'cifar_resnet'):
        args = distiller_cfg(kind, **cfg)
        if 'adv_warmup_iters' not in inspect.signature(cls).parameters:
            args.pop('adv_warmup_iters')
        task = 'detection' if kind == 'retinanet' else 'classification'
        if task not in cls.tasks:  # a method of the other task: refused
            with pytest.raises(ValueError, match=f'{cls.__name__} distils'):
                MODELS.build(copy.deepcopy(args))
            continue
        model = MODELS.build(copy.deepcopy(args))
        batch = batch_for(kind)
        data = model.data_preprocessor(copy.deepcopy(batch), True)
        twin = copy.deepcopy(model)  # forwards change state (spectral norm)
        torch.manual_seed(0)  # a term may draw (MGD's mask): the same twice
        losses = model(data['inputs'], data['data_samples'], mode='loss')
        terms = {k[len('distill.'):] for k in losses
                 if k.startswith('distill.loss')}
        assert terms and terms == set(model.distill_loss_names()), kind
        # loss-weight schedules reach every term without the method's help
        for name in terms:
            twin.schedule.set_scale(name, 0.5)
        torch.manual_seed(0)
        halved = twin(data['inputs'], data['data_samples'], mode='loss')
        for name in terms:
            full, half = (torch.as_tensor(sum(x[f'distill.{name}'])) if
                          isinstance(x[f'distill.{name}'], list) else
                          x[f'distill.{name}'] for x in (losses, halved))
            assert full.item() != 0 and torch.allclose(half, full / 2), name
        total, _ = model.parse_losses(losses)
        assert torch.isfinite(total)
        total.backward()
        assert all(p.grad is None for p in model.teacher.parameters())
        assert any(p.grad is not None for p in model.student.parameters())
        helpers = model.active_parts()['student'][1:]
        for name in helpers:
            assert all(p.grad is not None
                       for p in getattr(model, name).parameters()), name
        model.zero_grad(set_to_none=True)
        optim = DistillOptimWrapperConstructor(dict(
            optimizer=dict(type='SGD', lr=0.1),
            disc=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
        before = {k: v.clone() for k, v in model.state_dict().items()}
        teacher = [p.clone() for p in model.teacher.parameters()]
        model.train_step(copy.deepcopy(batch), optim)
        changed = {k.split('.')[0] for k, v in model.state_dict().items()
                   if v.is_floating_point() and not torch.equal(v, before[k])}
        declared = {c for cs in model.active_parts().values() for c in cs}
        assert changed <= declared and 'student' in changed, (kind, changed)
        assert all(torch.equal(a, b)
                   for a, b in zip(teacher, model.teacher.parameters()))
        assert {k.split('.')[0] for k in before} <= declared | {'num_iters'}
        check_export(model, args['student'], batch)


def check_export(model, student_cfg, batch):
    """predict goes to the student, and the exported student predicts the
    same as a plain model."""
    from mmkd.models.distillers.utils import build_model
    from mmkd.utils.checkpoint import extract_student_state
    model.eval()
    data = model.data_preprocessor(copy.deepcopy(batch), False)
    plain = build_model(student_cfg)
    plain.load_state_dict(extract_student_state(model.state_dict()))
    plain.eval()
    with torch.no_grad():
        ours = model(data['inputs'], data['data_samples'], mode='tensor')
        theirs = plain(data['inputs'], data['data_samples'], mode='tensor')

    assert same_outputs(ours, theirs)


def check_online_distiller(cfg, _):
    """An online method (K networks, no teacher) on a detector and a
    classifier, with and without discriminators (see check_no_teacher)."""
    from .conftest import CLASSIFIERS, DETECTORS
    for kind, disc in [(k, d) for k in ('retinanet', 'cifar_resnet')
                       for d in (True, False)]:
        small, wide = (CLASSIFIERS[kind](), CLASSIFIERS[kind](16)) if (
            kind in CLASSIFIERS) else (DETECTORS[kind](), DETECTORS[kind](
                width=16, neck_channels=32))
        check_no_teacher(dict(cfg, student=small, peers=[wide]), kind, disc,
                         ('student', 'peers'))


def check_self_distiller(cfg, _):
    """A self-distillation method (branches on the student) on a detector
    and a classifier, with and without a discriminator."""
    from .conftest import CLASSIFIERS, DETECTORS
    for kind, disc in [(k, d) for k in ('retinanet', 'cifar_resnet')
                       for d in (True, False)]:
        small = (CLASSIFIERS.get(kind) or DETECTORS[kind])()
        check_no_teacher(dict(cfg, student=small), kind, disc,
                         ('student', 'branches'))


def check_no_teacher(args, kind, disc, trained):
    """Finite losses, the declared terms are those its updates compute and
    a weight schedule halves each, gradients reach every ``trained``
    child, each optimizer part updates only its own modules, checkpoint
    keys are the declared children's, and the student exports as a plain
    model."""
    from mmkd.engine import DistillOptimWrapperConstructor
    from .conftest import DETECTORS
    args = dict(args, probe_size=128 if kind in DETECTORS else 32)
    if not disc:
        args.update(discriminator=None, loss_gan=None)
    torch.manual_seed(0)
    model = MODELS.build(copy.deepcopy(args))
    batch = batch_for(kind)
    state = model.data_preprocessor(copy.deepcopy(batch), True)
    twin = copy.deepcopy(model)
    for n in model.distill_loss_names():
        twin.schedule.set_scale(n, 0.5)
    computed = {}
    for update, same in zip(model.updates(), twin.updates()):
        if update.active():
            torch.manual_seed(0)
            full = model.with_scales(update.losses(state))
            torch.manual_seed(0)
            half = twin.with_scales(same.losses(dict(state)))
            for k, v in full.items():
                if k.startswith('distill.loss'):
                    assert torch.allclose(half[k], v / 2), k
                    computed[k] = v
            total, _ = model.parse_losses(full)
            assert torch.isfinite(total)
            total.backward()
    assert {k[len('distill.'):] for k in computed} == set(
        model.distill_loss_names()), kind
    for name in trained:
        assert any(p.grad is not None
                   for p in getattr(model, name).parameters()), (kind, name)
    model.zero_grad(set_to_none=True)
    optim = DistillOptimWrapperConstructor(dict(
        optimizer=dict(type='SGD', lr=0.1),
        adv=dict(optimizer=dict(type='SGD', lr=0.1)),
        disc=dict(optimizer=dict(type='SGD', lr=0.1))))(model)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    log = model.train_step(copy.deepcopy(batch), optim)
    assert all(torch.isfinite(v) for v in log.values())
    changed = {k.split('.')[0] for k, v in model.state_dict().items()
               if v.is_floating_point() and not torch.equal(v, before[k])}
    declared = {c for cs in model.active_parts().values() for c in cs}
    assert set(trained) <= changed <= declared, (kind, changed)
    assert {k.split('.')[0] for k in before} <= declared | {'num_iters'}
    check_export(model, args['student'], batch)


def check_branch(cfg, _):
    """A branch brings a stage map to the target's stride and width and
    classifies it; gradients reach the stage."""
    branch = MODELS.build(dict(cfg, in_channels=8, out_channels=16, stride=4,
                               num_classes=5))
    x = torch.randn(2, 8, 16, 16, requires_grad=True)
    feat, logits = branch(x)
    assert feat.shape == (2, 16, 4, 4) and logits.shape == (2, 5)
    assert branch(x, (3, 3))[0].shape == (2, 16, 3, 3)
    (feat.sum() + logits.sum()).backward()
    assert x.grad is not None


def check_hook(cfg, distiller_cfg, tmp_path, shapes_root):
    """A hook trains a real one-epoch run, and whatever it keeps in the
    checkpoint is plain data: it loads with weights_only=True and no
    allow-list at all."""
    run = run_config(tmp_path, shapes_root, distiller_cfg(), epochs=2)
    run.custom_hooks = [h for h in run.custom_hooks
                        if h['type'] != cfg['type']] + [cfg]
    Runner.from_cfg(run).train()
    ckpt = torch.load(osp.join(tmp_path, 'epoch_2.pth'), weights_only=True)
    torch.save(ckpt.get('mmkd_hooks', {}), tmp_path / 'state.pth')
    allowed = torch.serialization.get_safe_globals()
    torch.serialization.clear_safe_globals()
    try:
        torch.load(tmp_path / 'state.pth', weights_only=True)
    finally:
        torch.serialization.add_safe_globals(allowed)


def check_ensemble_hook(cfg, distiller_cfg, tmp_path, shapes_root):
    """After the student's validation, each branch of MB-AKT on a detector
    is evaluated and logged with its prefix; a method without other
    networks is refused before training."""
    from .conftest import DETECTORS
    student = DETECTORS['retinanet']()
    # branches start from the focal prior (issue 24): after one epoch on 8
    # images their scores are below the default threshold
    student['test_cfg'] = dict(student['test_cfg'], score_thr=0.0)
    run = run_config(tmp_path / 'a', shapes_root, dict(
        type='MBAKT', student=student, probe_size=128),
        epochs=1, val_interval=1, hooks=[cfg])
    runner = Runner.from_cfg(run)
    runner.train()
    for k in range(3):
        mAP = runner.message_hub.get_info(f'branch{k}/coco/bbox_mAP')
        assert mAP is not None and 0 <= mAP <= 1, k
    run = run_config(tmp_path / 'b', shapes_root, distiller_cfg(), epochs=1,
                     hooks=[cfg])
    with pytest.raises(ValueError, match='has none'):
        Runner.from_cfg(run).train()


def check_visualization_hook(cfg, distiller_cfg, tmp_path, shapes_root):
    """After each validation, one picture per (image, distilled level)
    goes through the visualizer: to vis_image with the local backend, and
    to TensorBoard's event file when tensorboard is installed. Each
    picture is the image plus teacher, student, adapted, difference and the
    discriminator's two score maps (7 panels), and teacher and student
    columns differ."""
    import glob
    import importlib.util
    backends = [dict(type='LocalVisBackend')]
    if importlib.util.find_spec('tensorboard') is not None:
        backends.append(dict(type='TensorboardVisBackend'))
    model = distiller_cfg()
    run = run_config(tmp_path, shapes_root, model, epochs=1, val_interval=1,
                     hooks=[dict(cfg, num_images=2)])
    run.visualizer = dict(type='DetLocalVisualizer', vis_backends=backends)
    runner = Runner.from_cfg(run)
    runner.train()
    levels = len(runner.model.level_pairs)
    images = sorted(glob.glob(str(tmp_path / '*' / 'vis_data' / 'vis_image'
                                  / 'distill_img*.png')))
    assert len(images) == 2 * levels, images
    import mmcv
    png = mmcv.imread(images[0])
    assert png.shape[1] == 7 * png.shape[0]  # 7 square panels of 260 px
    if len(backends) == 2:
        assert glob.glob(str(tmp_path / '*' / 'vis_data' / 'events.*'))
    from mmkd.visualization import distill_maps
    inputs = runner.model.data_preprocessor(dict(inputs=[
        runner.val_loop.dataloader.dataset[0]['inputs']]), False)['inputs']
    row = distill_maps(runner.model, inputs)[''][0]
    assert not torch.allclose(row['teacher'], row['student adapted'])
    with pytest.raises(ValueError, match='num_images'):
        HOOKS.build(dict(cfg, num_images=0))


def check_model_wrapper(cfg, distiller_cfg, tmp_path, shapes_root):
    """The wrapper wraps student, adapter and discriminator separately
    (never the teacher) in a CPU process group, even when given the
    device_ids mmengine's Runner passes, and trains."""
    dist.init_process_group('gloo', init_method=f'file://{tmp_path}/store',
                            rank=0, world_size=1)
    try:
        model = MODELS.build(distiller_cfg())
        wrapped = MODEL_WRAPPERS.build(
            cfg, default_args=dict(module=model, device_ids=[0]))
        for name in ('student', 'adapter', 'discriminator'):
            assert isinstance(getattr(model, name), MMDistributedDataParallel)
        assert not isinstance(model.teacher, MMDistributedDataParallel)
        optim = OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(type='DistillOptimWrapperConstructor',
                 optim_wrapper_cfg=dict(
                     optimizer=dict(type='SGD', lr=0.01),
                     disc=dict(optimizer=dict(type='Adam', lr=1e-3)))))(
                         wrapped.module)
        log = wrapped.train_step(packed_batch(), optim)
        assert torch.isfinite(log['loss'])
    finally:
        dist.destroy_process_group()


CONTRACTS = {
    MODELS: {
        'GANLoss': (dict(type='GANLoss'), check_gan_loss),
        'KDLoss': (dict(type='KDLoss', temperature=2.0), check_kd_loss),
        'T2SAdapter': (dict(type='T2SAdapter'), check_adapter),
        'PatchDiscriminator': (dict(type='PatchDiscriminator'),
                               check_discriminator),
        'DetectionDistiller': (dict(type='DetectionDistiller'),
                               check_distiller),
        'KTAN': (dict(type='KTAN'), check_distiller),
        'KSANC': (dict(type='KSANC'), check_distiller),
        'ComplementaryDistiller': (dict(type='ComplementaryDistiller',
                                        reconstruction=True),
                                   check_distiller),
        'ReconstructionTeacher': (None, check_reconstruction_teacher),
        'ReconstructionDecoder': (dict(type='ReconstructionDecoder'),
                                  check_decoder),
        'TaskAttention': (dict(type='TaskAttention'), check_attention),
        'LogitDiscriminator': (dict(type='LogitDiscriminator'),
                               check_logit_discriminator),
        'LogitMSELoss': (dict(type='LogitMSELoss'), check_kd_loss),
        'AFD': (dict(type='AFD'), check_online_distiller),
        'MBAKT': (dict(type='MBAKT'), check_self_distiller),
        'BottleneckBranch': (dict(type='BottleneckBranch'), check_branch),
        'TeacherDistiller': (dict(
            type='TeacherDistiller', loss_feat=dict(type='FeatureMSELoss'),
            loss_kd=dict(type='KDLoss', temperature=4)), check_distiller),
        'FeatureMSELoss': (dict(type='FeatureMSELoss'), check_feature_loss),
        'ATLoss': (dict(type='ATLoss'), check_feature_loss),
        'CWDLoss': (dict(type='CWDLoss', tau=2.0), check_feature_loss),
        'PKDLoss': (dict(type='PKDLoss'), check_feature_loss),
        'CIFARResNet': (dict(type='CIFARResNet', depth=8), check_backbone),
        'CIFARWideResNet': (dict(type='CIFARWideResNet', depth=10,
                                 widen_factor=1), check_backbone),
        'CIFARVGG': (dict(type='CIFARVGG', depth=8), check_backbone),
    },
    OPTIM_WRAPPER_CONSTRUCTORS: {
        'DistillOptimWrapperConstructor': (None, None),  # below
    },
    HOOKS: {
        'DistillLossWeightHook': (dict(
            type='DistillLossWeightHook',
            schedules=dict(loss_feat=dict(warmup=2))), check_hook),
        'StopDistillHook': (dict(type='StopDistillHook', stop_iter=2),
                            check_hook),
        'EnsembleEvalHook': (dict(type='EnsembleEvalHook'),
                             check_ensemble_hook),
        'DiscriminatorScheduleHook': (dict(
            type='DiscriminatorScheduleHook', warmup=1, freeze=3),
                                      check_hook),
        'RandomStateHook': (dict(type='RandomStateHook'), check_hook),
        'RunGuardHook': (dict(type='RunGuardHook'), check_hook),
        'StudentCheckpointHook': (dict(type='StudentCheckpointHook'),
                                  check_hook),
        'TeacherEvalHook': (dict(type='TeacherEvalHook'), check_hook),
        'DistillVisualizationHook': (dict(type='DistillVisualizationHook'),
                                     check_visualization_hook),
    },
    MODEL_WRAPPERS: {
        'DistillDataParallel': (dict(type='DistillDataParallel'),
                                check_model_wrapper),
    },
}


def default_contract(name):
    """The contract of a component without an entry above, by its kind: a
    preset of the teacher core is checked as every distiller is, a logit
    loss ``(student_logits, teacher_logits, ...)`` as KDLoss is, a
    feature loss as FeatureMSELoss is, a loss with modules per level pair
    (widths inferred) by ``check_level_loss``; None for any other."""
    import inspect
    from mmkd.models.distillers import TeacherDistiller
    from mmkd.models.losses.feature_losses import _FeatureLoss
    cls = MODELS.get(name)
    if not isinstance(cls, type):
        return None
    if issubclass(cls, TeacherDistiller):
        return dict(type=name), check_distiller
    if issubclass(cls, _FeatureLoss):
        return dict(type=name), check_feature_loss
    if getattr(cls, 'inferred', ()) == ('student_channels',
                                        'teacher_channels'):
        return dict(type=name), check_level_loss
    args = list(inspect.signature(cls.forward).parameters)[1:3]
    if args == ['student_logits', 'teacher_logits']:
        return dict(type=name), check_kd_loss
    return None


# a method added as a preset or a loss needs no entry of its own
CONTRACTS[MODELS] = dict(
    {name: default_contract(name) for name in registered(MODELS)
     if name not in CONTRACTS[MODELS] and default_contract(name)},
    **CONTRACTS[MODELS])


@pytest.mark.parametrize('registry', list(CONTRACTS), ids=lambda r: r.name)
def test_every_registered_component_has_a_contract(registry):
    assert registered(registry) == sorted(CONTRACTS[registry])


@pytest.mark.parametrize('scope', ['mmdet', 'mmpretrain'])
def test_every_mmkd_name_resolves_from_both_toolboxes(scope):
    """A config of either toolbox finds every mmkd component by its name,
    with no _scope_ and no prefix."""
    import importlib
    from mmpretrain.utils import register_all_modules
    register_all_modules(init_default_scope=False)
    toolbox = importlib.import_module(f'{scope}.registry')
    names = {HOOKS: 'HOOKS', MODEL_WRAPPERS: 'MODEL_WRAPPERS',
             MODELS: 'MODELS',
             OPTIM_WRAPPER_CONSTRUCTORS: 'OPTIM_WRAPPER_CONSTRUCTORS'}
    with DefaultScope.overwrite_default_scope(scope):
        for registry in CONTRACTS:
            theirs = getattr(toolbox, names[registry])
            assert theirs.scope == scope
            for name in registered(registry):
                assert theirs.get(name) is registry.get(name), (scope, name)


@pytest.mark.parametrize('name', sorted(CONTRACTS[MODELS]))
def test_model_component_contract(name, distiller_cfg):
    cfg, check = CONTRACTS[MODELS][name]
    check(cfg, distiller_cfg)


@pytest.mark.parametrize('name', sorted(CONTRACTS[HOOKS]))
def test_hook_contract(name, distiller_cfg, tmp_path, shapes_root):
    cfg, check = CONTRACTS[HOOKS][name]
    check(copy.deepcopy(cfg), distiller_cfg, tmp_path, shapes_root)


@pytest.mark.parametrize('name', sorted(CONTRACTS[MODEL_WRAPPERS]))
def test_model_wrapper_contract(name, distiller_cfg, tmp_path, shapes_root):
    cfg, check = CONTRACTS[MODEL_WRAPPERS][name]
    check(copy.deepcopy(cfg), distiller_cfg, tmp_path, shapes_root)


def test_optim_wrapper_constructor_contract(distiller_cfg):
    model = MODELS.build(distiller_cfg())
    wrappers = OPTIM_WRAPPER_CONSTRUCTORS.build(
        dict(type='DistillOptimWrapperConstructor',
             optim_wrapper_cfg=dict(
                 type='OptimWrapper', optimizer=dict(type='SGD', lr=0.02),
                 disc=dict(optimizer=dict(type='Adam', lr=1e-4)))))(model)
    assert isinstance(wrappers, OptimWrapperDict)
    assert set(wrappers.keys()) == {'student', 'disc'}

    def param_ids(wrapper):
        return {id(p) for g in wrapper.optimizer.param_groups
                for p in g['params']}

    student, disc = param_ids(wrappers['student']), param_ids(wrappers['disc'])
    assert disc == {id(p) for p in model.discriminator.parameters()}
    assert student == {id(p) for m in (model.student, model.adapter)
                       for p in m.parameters()}
    assert wrappers['disc'].optimizer.defaults['lr'] == 1e-4
    # the teacher is in neither
    assert not {id(p) for p in model.teacher.parameters()} & (student | disc)


def test_optim_wrapper_constructor_needs_disc_entry(distiller_cfg):
    model = MODELS.build(distiller_cfg())
    with pytest.raises(ValueError, match="no 'disc' entry"):
        OPTIM_WRAPPER_CONSTRUCTORS.build(
            dict(type='DistillOptimWrapperConstructor',
                 optim_wrapper_cfg=dict(optimizer=dict(type='SGD', lr=0.02)))
        )(model)
