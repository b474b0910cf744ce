"""Real Runner iterations on generated data, through the demo configs:
teacher checkpoint -> KTAN training -> checkpoint -> resume -> export ->
plain MMDetection reload (in a process that never imports mmkd) ->
tools/test.py on the distiller checkpoint."""
import copy
import json
import os.path as osp
import subprocess
import sys

import pytest
import torch
from mmengine.config import Config
from mmengine.runner import Runner

from mmkd.utils import export_student, extract_student_state, \
    load_checkpoint_file
from mmkd.utils.synthetic_data import make_shapes_dataset

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DEMO = osp.join(ROOT, 'configs', 'demo')
pytestmark = pytest.mark.e2e


def small(cfg_path, work_dir, data_root, iters):
    """A demo config on tiny data, iteration-based, 64-px images."""
    cfg = Config.fromfile(cfg_path)
    cfg.work_dir = str(work_dir)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.batch_size = 2
        loader.num_workers = 0
        loader.persistent_workers = False
        loader.dataset.data_root = data_root
        for step in loader.dataset.pipeline:
            if step.type == 'Resize':
                step.scale = (64, 64)
    cfg.train_dataloader.sampler = dict(type='InfiniteSampler', shuffle=True)
    cfg.test_dataloader = cfg.val_dataloader
    cfg.val_evaluator.ann_file = osp.join(data_root, 'annotations/val.json')
    cfg.test_evaluator = cfg.val_evaluator
    cfg.train_cfg = dict(type='IterBasedTrainLoop', max_iters=iters,
                         val_interval=1000)
    cfg.param_scheduler = [dict(type='ConstantLR', factor=1.0)]
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=2,
                                        by_epoch=False)
    cfg.default_hooks.logger = dict(type='LoggerHook', interval=1)
    cfg.randomness = dict(seed=0)
    cfg.log_level = 'WARNING'
    return cfg


@pytest.fixture(scope='module')
def run(tmp_path_factory):
    """Train a teacher for 2 iterations, then KTAN for 4 (checkpoints at 2
    and 4)."""
    tmp = tmp_path_factory.mktemp('e2e')
    data = make_shapes_dataset(str(tmp / 'shapes'), num_train=8, num_val=4,
                               size=64)
    teacher_cfg = small(osp.join(DEMO, 'retinanet_r18_fpn_12e_shapes.py'),
                        tmp / 'teacher', data, iters=2)
    Runner.from_cfg(teacher_cfg).train()
    ktan_cfg = small(
        osp.join(DEMO,
                 'ktan_retinanet-r18_retinanet-r18-w16_fpn-64_12e_shapes.py'),
        tmp / 'ktan', data, iters=4)
    ktan_cfg.model.teacher = teacher_cfg.model
    ktan_cfg.model.teacher_ckpt = str(tmp / 'teacher' / 'iter_2.pth')
    runner = Runner.from_cfg(copy.deepcopy(ktan_cfg))
    runner.train()
    return dict(tmp=tmp, data=data, cfg=ktan_cfg, runner=runner,
                student_cfg=teacher_cfg)


def test_checkpoint_holds_student_adapter_disc_not_teacher(run):
    ckpt = load_checkpoint_file(str(run['tmp'] / 'ktan' / 'iter_4.pth'))
    prefixes = {k.split('.')[0] for k in ckpt['state_dict']}
    assert prefixes == {'student', 'adapter', 'discriminator', 'num_iters'}
    assert set(ckpt['optimizer']) == {'student', 'disc'}
    assert int(ckpt['state_dict']['num_iters']) == 4


def test_resume_restores_everything(run):
    cfg = copy.deepcopy(run['cfg'])
    cfg.work_dir = str(run['tmp'] / 'ktan_resumed')
    cfg.resume = True
    cfg.load_from = str(run['tmp'] / 'ktan' / 'iter_2.pth')
    runner = Runner.from_cfg(cfg)
    runner.load_or_resume()
    assert runner.iter == 2
    saved = load_checkpoint_file(cfg.load_from)
    for k, v in runner.model.state_dict().items():
        assert torch.equal(v, saved['state_dict'][k]), k
    optim = runner.optim_wrapper.state_dict()
    for part in ('student', 'disc'):
        states = optim[part]['state']
        assert states and states.keys() == saved['optimizer'][part][
            'state'].keys()
    some = next(iter(optim['disc']['state']))
    assert torch.equal(optim['disc']['state'][some]['exp_avg'],
                       saved['optimizer']['disc']['state'][some]['exp_avg'])
    runner.train()
    assert runner.iter == 4 and int(runner.model.num_iters) == 4


PLAIN_MMDET = r'''
import json, sys
import torch
assert 'mmkd' not in sys.modules
from mmdet.apis import init_detector, inference_detector
model = init_detector(sys.argv[1], sys.argv[2], device='cpu')
assert 'mmkd' not in sys.modules
res = inference_detector(model, sys.argv[3]).pred_instances
print(json.dumps(dict(boxes=res.bboxes.tolist(), scores=res.scores.tolist(),
                      classes=list(model.dataset_meta['classes']))))
'''


def test_export_loads_in_plain_mmdetection(run, tmp_path):
    out = tmp_path / 'student.pth'
    export_student(str(run['tmp'] / 'ktan' / 'iter_4.pth'), str(out))
    # weights only: no teacher/adapter/discriminator, plain torch.load works
    plain = torch.load(out, weights_only=True)
    assert not any(k.startswith(('teacher', 'adapter', 'discriminator'))
                   for k in plain['state_dict'])
    distilled = load_checkpoint_file(str(run['tmp'] / 'ktan' / 'iter_4.pth'))
    assert plain['state_dict'].keys() == extract_student_state(
        distilled['state_dict']).keys()

    cfg = copy.deepcopy(run['cfg'])
    student_cfg = copy.deepcopy(run['student_cfg'])
    student_cfg.model = cfg.model.student
    student_cfg.model.test_cfg.score_thr = 0.0  # 4 iterations score low
    student_cfg.pop('custom_imports', None)
    cfg_path = tmp_path / 'student_config.py'
    student_cfg.dump(str(cfg_path))
    image = osp.join(run['data'], 'images', 'val', 'val_00000.png')
    proc = subprocess.run(
        [sys.executable, '-c', PLAIN_MMDET, str(cfg_path), str(out), image],
        capture_output=True, text=True, cwd=str(tmp_path))
    assert proc.returncode == 0, proc.stderr[-3000:]
    plain_res = json.loads(proc.stdout.strip().splitlines()[-1])
    assert plain_res['classes'] == ['square', 'circle', 'triangle']

    # the same predictions from the distiller's student in this process
    from mmdet.apis import inference_detector
    student = run['runner'].model.student
    student.eval()
    student.cfg = student_cfg
    student.bbox_head.test_cfg = student_cfg.model.test_cfg
    res = inference_detector(student, image).pred_instances
    assert len(res.bboxes) > 0 and len(plain_res['boxes']) == len(res.bboxes)
    assert torch.allclose(torch.tensor(plain_res['boxes']), res.bboxes,
                          atol=1e-4)
    assert torch.allclose(torch.tensor(plain_res['scores']), res.scores,
                          atol=1e-5)


def test_mmdet_test_script_evaluates_the_student(run):
    cfg_path = run['tmp'] / 'ktan_config.py'
    cfg = copy.deepcopy(run['cfg'])
    cfg.model.student.test_cfg.score_thr = 0.0  # 4 iterations score low
    cfg.log_level = 'INFO'  # the metric summary line
    cfg.dump(str(cfg_path))
    out = run['tmp'] / 'preds.pkl'
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), str(cfg_path),
         str(run['tmp'] / 'ktan' / 'iter_4.pth'), '--out', str(out),
         '--work-dir', str(run['tmp'] / 'test')],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coco/bbox_mAP' in proc.stdout + proc.stderr
    import pickle
    with open(out, 'rb') as f:
        preds = pickle.load(f)
    assert len(preds) == 4 and all(len(p['pred_instances']['bboxes'])
                                   for p in preds)


def test_testing_needs_no_teacher_checkpoint(run):
    """tools/test.py of a distiller on a machine without the teacher's
    checkpoint evaluates the student."""
    cfg_path = run['tmp'] / 'ktan_no_teacher.py'
    cfg = copy.deepcopy(run['cfg'])
    cfg.model.teacher_ckpt = str(run['tmp'] / 'not_here' / 'teacher.pth')
    cfg.model.student.test_cfg.score_thr = 0.0
    cfg.log_level = 'INFO'
    cfg.dump(str(cfg_path))
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'test.py'), str(cfg_path),
         str(run['tmp'] / 'ktan' / 'iter_4.pth'),
         '--work-dir', str(run['tmp'] / 'test_no_teacher')],
        capture_output=True, text=True, cwd=ROOT)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert 'coco/bbox_mAP' in proc.stdout + proc.stderr


def test_inference_apis(run, tmp_path):
    """DetInferencer takes the distillation config and checkpoint; the
    student files every run writes work with init_detector."""
    from mmdet.apis import DetInferencer, inference_detector, init_detector
    cfg = copy.deepcopy(run['cfg'])
    cfg.model.student.test_cfg.score_thr = 0.0
    cfg.model.teacher_ckpt = str(tmp_path / 'elsewhere.pth')
    cfg_path = tmp_path / 'ktan.py'
    cfg.dump(str(cfg_path))
    image = osp.join(run['data'], 'images', 'val', 'val_00000.png')
    ckpt = str(run['tmp'] / 'ktan' / 'iter_4.pth')
    out = DetInferencer(model=str(cfg_path), weights=ckpt, device='cpu',
                        show_progress=False)(image, return_vis=False)
    boxes = torch.tensor(out['predictions'][0]['bboxes'])

    work = run['tmp'] / 'ktan'
    student_cfg = Config.fromfile(str(work / 'student_config.py'))
    student_cfg.model.test_cfg.score_thr = 0.0
    model = init_detector(student_cfg, str(work / 'student_latest.pth'),
                          device='cpu')
    res = inference_detector(model, image).pred_instances
    assert len(boxes) == len(res.bboxes) > 0
    assert torch.allclose(boxes, res.bboxes, atol=1e-3)
