"""mmkd as an OpenMMLab package: the model index, ``mmkd::`` config
names from outside the checkout, and the wheel in an environment that has
the stack but not the checkout."""
import glob
import os
import os.path as osp
import subprocess
import sys

import pytest
import yaml

ROOT = osp.dirname(osp.dirname(osp.abspath(__file__)))
DML = 'afd/dml_resnet8-w16_resnet8_digits.py'


def python(code, cwd, exe=sys.executable):
    proc = subprocess.run([exe, '-c', code], cwd=str(cwd),
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def venv_with_the_stack(venv) -> str:
    """A new venv that sees this Python's packages but not the checkout;
    its python. (``--system-site-packages`` would see the *base*
    interpreter's packages when this Python is itself a venv's, as in
    CI.) The paths go in a ``.pth`` file: the ``.pth`` files in them, such
    as the editable install of the checkout, are not run."""
    import site
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    exe = str(venv / 'bin' / 'python')
    purelib = python('import sysconfig; print(sysconfig.get_paths()'
                     '["purelib"])', venv, exe).strip()
    with open(osp.join(purelib, '_the_stack.pth'), 'w') as f:
        f.write('\n'.join(site.getsitepackages()) + '\n')
    return exe


def test_model_index_imports_every_metafile_and_lists_every_config():
    with open(osp.join(ROOT, 'model-index.yml')) as f:
        imported = yaml.safe_load(f)['Import']
    metafiles = sorted(osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'configs', '*', 'metafile.yml')))
    assert sorted(imported) == metafiles
    listed = set()
    for path in imported:
        with open(osp.join(ROOT, path)) as f:
            listed |= {m['Config'] for m in yaml.safe_load(f)['Models']}
    assert all(osp.isfile(osp.join(ROOT, c)) for c in listed)
    configs = {osp.relpath(p, ROOT) for p in glob.glob(
        osp.join(ROOT, 'configs', '*', '*.py'))
        if not osp.basename(p).startswith('recon-teacher_')
        and '_base_' not in p}
    assert configs - listed == set()


def test_mmkd_config_names_resolve_outside_the_checkout(tmp_path):
    """``_base_ = 'mmkd::...'``, ``mmengine.hub.get_config`` and a model
    given as an ``mmkd::`` name, from a project that is not the checkout."""
    (tmp_path / 'mine.py').write_text(
        f"_base_ = 'mmkd::{DML}'\n"
        "train_cfg = dict(max_epochs=1)\n")
    out = python(
        'import mmkd\n'
        'from mmengine.config import Config\n'
        'from mmengine.hub import get_config\n'
        'from mmkd.models.distillers.utils import model_cfg\n'
        "cfg = Config.fromfile('mine.py')\n"
        'print(cfg.model.type, cfg.train_cfg.max_epochs)\n'
        f"print(get_config('mmkd::{DML}').model.type)\n"
        "print(model_cfg('mmkd::demo/resnet8_digits.py', 'student').type)\n",
        tmp_path)
    assert out.split() == ['AFD', '1', 'AFD', 'ImageClassifier']


def test_tools_take_an_mmkd_config_name(tmp_path):
    """mmkd's tools resolve a CONFIG given as ``mmkd::...`` and say when
    it does not exist."""
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'),
         'mmkd::afd/no_such_config.py'], cwd=str(tmp_path),
        capture_output=True, text=True)
    assert proc.returncode != 0
    assert 'mmkd::afd/no_such_config.py: no such mmkd config' in proc.stderr


@pytest.mark.e2e
def test_wheel_installs_and_trains_an_mmkd_config(tmp_path):
    """``python -m build`` makes a wheel; installed into a venv that has the
    stack but not the checkout, it trains a config
    named ``mmkd::...`` through its packaged tools/train.py."""
    pytest.importorskip('build')
    subprocess.run([sys.executable, '-m', 'build', '--outdir',
                    str(tmp_path / 'dist'), ROOT], check=True,
                   capture_output=True)
    wheel, = glob.glob(str(tmp_path / 'dist' / 'mmkd-*.whl'))
    venv = tmp_path / 'venv'
    exe = venv_with_the_stack(venv)
    subprocess.run([exe, '-m', 'pip', 'install', '-q', '--no-deps',
                    '--ignore-installed', wheel], check=True,
                   capture_output=True)
    from mmkd.utils.digits import make_digits_dataset
    data = make_digits_dataset(str(tmp_path / 'digits'), limit=3)
    work = tmp_path / 'work'
    work.mkdir()
    tools = python('import mmkd, os; print(os.path.join(os.path.dirname('
                   'mmkd.__file__), ".mim", "tools"))', work, exe).strip()
    assert tools.startswith(str(venv)), tools
    proc = subprocess.run(
        [exe, osp.join(tools, 'train.py'), f'mmkd::{DML}', '--work-dir',
         str(work / 'run'), '--cfg-options', f'data_root={data}',
         'train_cfg.max_epochs=1', 'train_dataloader.batch_size=4',
         f'train_dataloader.dataset.data_root={data}',
         f'val_dataloader.dataset.data_root={data}',
         f'test_dataloader.dataset.data_root={data}'],
        cwd=str(work), capture_output=True, text=True,
        env=dict(os.environ, PYTHONPATH=''))
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert osp.isfile(work / 'run' / 'epoch_1.pth')
    assert osp.isfile(work / 'run' / 'student_latest.pth')


def test_a_config_run_without_its_data_says_how_to_write_it(tmp_path):
    """A digits config run from a folder that has no data/digits (e.g.
    from the wheel) points to the command that writes it."""
    proc = subprocess.run(
        [sys.executable, osp.join(ROOT, 'tools', 'train.py'), f'mmkd::{DML}',
         '--work-dir', str(tmp_path / 'run')], cwd=str(tmp_path),
        capture_output=True, text=True)
    assert proc.returncode != 0
    assert "data_root 'data/digits'" in proc.stderr
    assert "make_digits_dataset('data/digits')" in proc.stderr
