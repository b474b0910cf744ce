"""Every config in configs/ loads and builds, with its optimizers."""
import glob
import os.path as osp

import pytest
from mmengine.config import Config
from mmengine.optim import build_optim_wrapper

from mmkd.models.distillers.utils import build_model
from mmkd.models.teacher import teacher_model_cfg

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
CONFIGS = sorted(
    p for p in glob.glob(osp.join(ROOT, 'configs', '**', '*.py'),
                         recursive=True) if '_base_' not in p)


def test_configs_found():
    assert len(CONFIGS) >= 8


@pytest.mark.parametrize('path', CONFIGS,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_config_builds(path, make_teacher_ckpt):
    cfg = Config.fromfile(path)
    for key in ('train_dataloader', 'val_dataloader', 'test_dataloader',
                'optim_wrapper', 'param_scheduler', 'val_evaluator'):
        assert key in cfg, key
    model_cfg = cfg.model
    if 'teacher' in model_cfg:
        model_cfg.teacher_ckpt = make_teacher_ckpt(
            teacher_model_cfg(model_cfg.teacher).to_dict())
        assert cfg.optim_wrapper.constructor == \
            'DistillOptimWrapperConstructor'
        assert cfg.model_wrapper_cfg.find_unused_parameters is False
        assert cfg.model_wrapper_cfg.type == 'DistillDataParallel'
        assert cfg.default_hooks.checkpoint.backend_args == dict(
            backend='mmkd_atomic_local')
        # issue 7 (3, 7): base hooks live in default_hooks, so configs with
        # their own custom_hooks neither clash nor drop them
        hooks = [h['type'] for h in cfg.default_hooks.values()
                 if 'type' in h]
        assert {'RandomStateHook', 'StudentCheckpointHook',
                'RunGuardHook'} <= set(hooks)
    model = build_model(model_cfg)
    # every optimizer part the model trains has its optim wrapper
    wrapper = build_optim_wrapper(model, cfg.optim_wrapper)
    if hasattr(model, 'active_parts'):
        assert set(wrapper.keys()) == set(model.active_parts())


METAFILES = sorted(glob.glob(osp.join(ROOT, 'configs', '*', 'metafile.yml')))


@pytest.mark.parametrize('path', METAFILES,
                         ids=lambda p: osp.relpath(p, ROOT))
def test_metafile_lists_every_config_of_its_folder(path):
    """Model-index entries: every listed config exists, and every config of
    the method's folder is listed (stage-1 teachers are named in their
    student's metadata)."""
    import yaml
    with open(path) as f:
        meta = yaml.safe_load(f)
    listed = [m['Config'] for m in meta['Models']]
    assert all(osp.isfile(osp.join(ROOT, c)) for c in listed), listed
    folder = osp.relpath(osp.dirname(path), ROOT)
    own = {osp.relpath(p, ROOT) for p in CONFIGS
           if osp.dirname(osp.relpath(p, ROOT)) == folder}
    teachers = {osp.join(folder, osp.basename(p)) for p in own
                if osp.basename(p).startswith('recon-teacher_')}
    assert own - teachers == set(listed) & own
    names = [m['Name'] for m in meta['Models']]
    assert len(set(names)) == len(names)
    for m in meta['Models']:
        assert m['In Collection'] in [c['Name'] for c in meta['Collections']]
        for result in m.get('Results', []):
            assert all(isinstance(v, (int, float))
                       for v in result['Metrics'].values())


@pytest.mark.parametrize('student,visualizer', [
    ('mmdet::retinanet/retinanet_r18_fpn_1x_coco.py', 'DetLocalVisualizer'),
    ('mmpretrain::resnet/resnet18_8xb32_in1k.py', 'UniversalVisualizer')])
def test_tensorboard_base_as_the_readme_uses_it(student, visualizer,
                                                tmp_path):
    """The README's recipe over a toolbox's own config: the student's
    visualizer keeps its type and gets the TensorBoard backend, and the
    picture hook is on."""
    base = osp.join(ROOT, 'configs', '_base_')
    (tmp_path / 'mine.py').write_text(
        f"_base_ = ['{student}', '{base}/distill_runtime.py',\n"
        f"          '{base}/tensorboard.py']\n"
        'visualizer = dict(vis_backends=_base_.tensorboard_vis_backends)\n'
        'custom_hooks = [_base_.distill_visualization_hook]\n')
    cfg = Config.fromfile(str(tmp_path / 'mine.py'))
    assert cfg.visualizer.type == visualizer
    assert [b['type'] for b in cfg.visualizer.vis_backends] == [
        'LocalVisBackend', 'TensorboardVisBackend']
    assert [h['type'] for h in cfg.custom_hooks] == [
        'DistillVisualizationHook']
