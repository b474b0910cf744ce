"""Classification end to end, as an MMPretrain user runs it: a teacher
trained by MMPretrain's own packaged tools/train.py, KTAN through the same
script, mmkd's tools/test.py (which picks MMPretrain's), the student files,
and the exported student loaded by a process that never imports mmkd, with
the same predictions."""
import json
import os.path as osp
import subprocess
import sys

import mmpretrain
import pytest
import torch
from mmengine.config import Config

from mmkd.utils.digits import make_digits_dataset

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
MMPRETRAIN_TRAIN = osp.join(osp.dirname(mmpretrain.__file__), '.mim',
                            'tools', 'train.py')
pytestmark = pytest.mark.e2e


def resnet(width):
    """MMPretrain's own ResNet_CIFAR-18, narrowed: a student plain
    MMPretrain builds without mmkd."""
    return dict(
        type='ImageClassifier',
        backbone=dict(type='ResNet_CIFAR', depth=18, base_channels=width,
                      out_indices=(3, ), style='pytorch'),
        neck=dict(type='GlobalAveragePooling'),
        head=dict(type='LinearClsHead', num_classes=10,
                  in_channels=8 * width,
                  loss=dict(type='CrossEntropyLoss', loss_weight=1.0)))


def plain_config(data_root, width) -> Config:
    cfg = Config.fromfile(osp.join(ROOT, 'configs/demo/resnet8_digits.py'))
    cfg.pop('custom_imports')
    cfg.model = resnet(width)
    for loader in (cfg.train_dataloader, cfg.val_dataloader):
        loader.update(batch_size=8, num_workers=0, persistent_workers=False)
        loader.dataset.data_root = data_root
    cfg.test_dataloader = cfg.val_dataloader
    cfg.train_cfg = dict(by_epoch=True, max_epochs=1, val_interval=1)
    cfg.param_scheduler = []
    cfg.default_hooks.checkpoint = dict(type='CheckpointHook', interval=1)
    cfg.randomness = dict(seed=0)
    return cfg


def run(args, tmp):
    proc = subprocess.run([sys.executable, *map(str, args)], cwd=str(tmp),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout + proc.stderr


@pytest.fixture(scope='module')
def trained(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('cls')
    data = make_digits_dataset(str(tmp / 'digits'), limit=5)
    teacher = plain_config(data, 16)
    teacher.dump(str(tmp / 'teacher.py'))
    run([MMPRETRAIN_TRAIN, tmp / 'teacher.py', '--work-dir',
         tmp / 'teacher'], tmp)
    cfg = plain_config(data, 8)
    student = cfg.model
    cfg.merge_from_dict(Config.fromfile(osp.join(
        ROOT, 'configs/_base_/distill_runtime.py')).to_dict())
    cfg.default_hooks.update(cfg.pop('distill_default_hooks'))
    cfg.model = dict(type='KTAN', student=student,
                     teacher=str(tmp / 'teacher.py'),
                     teacher_ckpt=str(tmp / 'teacher' / 'epoch_1.pth'),
                     loss_kd=dict(temperature=4), adv_warmup_iters=0)
    cfg.optim_wrapper.update(
        constructor='DistillOptimWrapperConstructor',
        disc=dict(optimizer=dict(type='Adam', lr=1e-4)))
    cfg.dump(str(tmp / 'ktan.py'))
    log = run([MMPRETRAIN_TRAIN, tmp / 'ktan.py', '--work-dir',
               tmp / 'ktan'], tmp)
    return dict(tmp=tmp, data=data, log=log)


def test_mmpretrain_train_script_distils(trained):
    log, work = trained['log'], trained['tmp'] / 'ktan'
    assert 'distill.loss_adv' in log and 'disc.loss_d' in log
    assert 'accuracy/top1' in log  # validation reports the student
    assert osp.exists(work / 'student_latest.pth')
    assert osp.exists(work / 'student_config.py')


def test_mmkd_test_script_picks_mmpretrain(trained):
    tmp = trained['tmp']
    out = run([osp.join(ROOT, 'tools', 'test.py'), tmp / 'ktan.py',
               tmp / 'ktan' / 'epoch_1.pth', '--work-dir', tmp / 'test'], tmp)
    assert 'accuracy/top1' in out


def test_student_loads_in_plain_mmpretrain(trained):
    """init_model in a process that never imports mmkd predicts what the
    distiller's student predicts."""
    tmp = trained['tmp']
    work = tmp / 'ktan'
    image = osp.join(trained['data'], 'val', '3',
                     sorted(__import__('os').listdir(osp.join(
                         trained['data'], 'val', '3')))[0])
    script = f'''
import json, sys
from mmpretrain.apis import ImageClassificationInferencer
infer = ImageClassificationInferencer({str(work / 'student_config.py')!r},
    pretrained={str(work / 'student_latest.pth')!r}, device='cpu')
scores = infer({image!r})[0]['pred_scores']
assert not any(m.startswith('mmkd') for m in sys.modules), 'mmkd imported'
print('SCORES', json.dumps(scores.tolist()))
'''
    out = run(['-c', script], tmp)
    plain = json.loads(out.split('SCORES ')[1].splitlines()[0])
    from mmpretrain.apis import ImageClassificationInferencer
    from mmkd.models.distillers.utils import build_model
    from mmkd.utils import extract_student_state, load_checkpoint_file
    cfg = Config.fromfile(str(work / 'student_config.py'))
    # as mmengine's Runner does: the top-level preprocessor is the model's
    model = build_model(dict(cfg.model,
                             data_preprocessor=cfg.data_preprocessor))
    state = load_checkpoint_file(str(work / 'epoch_1.pth'), 'checkpoint')
    model.load_state_dict(extract_student_state(state['state_dict']))
    model._config = cfg
    from mmengine.registry import DefaultScope
    with DefaultScope.overwrite_default_scope('mmpretrain'):
        ours = ImageClassificationInferencer(model.eval(), device='cpu')(
            image)[0]['pred_scores']
    assert torch.allclose(torch.tensor(plain), torch.as_tensor(ours),
                          atol=1e-5)


# a comparison's runs in this process's threads (no loader workers)
WORKERS = [f'{split}_dataloader.{k}={v}' for split in ('train', 'val', 'test')
           for k, v in (('num_workers', 0), ('persistent_workers', False))]


def test_compare_methods_tables_and_resumes(tmp_path):
    """The comparison tool trains teacher, student alone and a method,
    writes the table with the gain, and a second call redoes nothing."""
    data = make_digits_dataset(str(tmp_path / 'digits'), limit=4)
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'compare_methods.py')
    demo = osp.join(ROOT, 'configs', 'demo')
    args = [tool, '--teacher', osp.join(demo, 'resnet8-w16_digits.py'),
            '--student', osp.join(demo, 'resnet8_digits.py'),
            osp.join(demo, 'kd_resnet8-w16_resnet8_digits.py'),
            '--seeds', '0', '--epochs', '1', '--data-root', data,
            '--work-dir', str(tmp_path / 'cmp'), '--cfg-options',
            'train_dataloader.num_workers=0', 'val_dataloader.num_workers=0',
            'test_dataloader.num_workers=0',
            'train_dataloader.persistent_workers=False',
            'val_dataloader.persistent_workers=False',
            'test_dataloader.persistent_workers=False']
    first = run(args, tmp_path)
    table = (tmp_path / 'cmp' / 'results.md').read_text()
    assert 'accuracy/top1 mean' in table
    rows = [r for r in table.splitlines() if r.startswith('| kd_')]
    assert len(rows) == 1 and rows[0].split('|')[-2].strip()[0] in '+-'
    assert first.count('training in') == 3
    again = run(args, tmp_path)
    assert again.count('done before') == 3 and 'training in' not in again


BLOCK_MMDET = '''
import runpy, sys
# as on an MMPretrain install with mmcv-lite: no MMDetection, no compiled
# mmcv ops (a None entry makes Python treat a module as absent)
sys.modules.update({'mmdet': None, 'mmcv._ext': None})
sys.argv = sys.argv[1:]
runpy.run_path(sys.argv[0], run_name='__main__')
print('IMPORTED', sorted({k.split('.')[0] for k, m in sys.modules.items()
                          if m is not None} & {'mmdet', 'mmkd'}))
'''


def test_distils_without_mmdetection(trained):
    """Classification users need neither MMDetection nor mmcv's compiled
    ops (MMPretrain runs on mmcv-lite): KTAN trains through MMPretrain's
    train.py in a process that cannot import them."""
    tmp = trained['tmp']
    out = run(['-c', BLOCK_MMDET, MMPRETRAIN_TRAIN, tmp / 'ktan.py',
               '--work-dir', tmp / 'no_mmdet'], tmp)
    assert "IMPORTED ['mmkd']" in out
    assert osp.exists(tmp / 'no_mmdet' / 'student_latest.pth')


def test_compare_methods_runs_an_online_config(tmp_path):
    """An online method (DML) in a comparison gets no teacher_ckpt (it
    takes none) and has its row in the table."""
    data = make_digits_dataset(str(tmp_path / 'digits'), limit=4)
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'compare_methods.py')
    demo = osp.join(ROOT, 'configs', 'demo')
    run([tool, '--teacher', osp.join(demo, 'resnet8-w16_digits.py'),
         '--student', osp.join(demo, 'resnet8_digits.py'),
         osp.join(ROOT, 'configs', 'afd', 'dml_resnet8-w16_resnet8_digits.py'),
         '--seeds', '0', '--epochs', '1', '--data-root', data,
         '--work-dir', str(tmp_path / 'cmp'), '--cfg-options', *WORKERS],
        tmp_path)
    table = (tmp_path / 'cmp' / 'results.md').read_text()
    assert any(r.startswith('| dml_') for r in table.splitlines())


def test_compare_methods_trains_a_complementary_teacher(tmp_path):
    """A complementary student's teacher is its own config (a
    ReconstructionTeacher): the comparison trains it once, uses its
    checkpoint for that student only, and gives it a row."""
    data = make_digits_dataset(str(tmp_path / 'digits'), limit=4)
    tool = osp.join(ROOT, 'tools', 'analysis_tools', 'compare_methods.py')
    demo = osp.join(ROOT, 'configs', 'demo')
    out = run([tool, '--teacher', osp.join(demo, 'resnet8-w16_digits.py'),
               '--student', osp.join(demo, 'resnet8_digits.py'),
               osp.join(demo, 'complementary_resnet8-w16_resnet8_digits.py'),
               '--seeds', '0', '--epochs', '1', '--data-root', data,
               '--work-dir', str(tmp_path / 'cmp'), '--cfg-options',
               *WORKERS], tmp_path)
    assert out.count('training in') == 4
    assert osp.isfile(tmp_path / 'cmp' / 'teacher-recon-teacher_resnet8-w16'
                      '_digits' / 'epoch_1.pth')
    names = [r.split('|')[1].strip() for r in (
        tmp_path / 'cmp' / 'results.md').read_text().splitlines()[2:]]
    assert names == ['resnet8-w16_digits', 'recon-teacher_resnet8-w16_digits',
                     'resnet8_digits',
                     'complementary_resnet8-w16_resnet8_digits']
