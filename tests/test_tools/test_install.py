"""tools/install.sh's build logic, without the 15-minute mmcv compile: the
build runs in the caller's Python (a venv's torch is seen), and a wheel
without compiled ops is never cached or installed."""
import os
import os.path as osp
import subprocess
import sys
import zipfile

ROOT = osp.dirname(osp.dirname(osp.dirname(osp.abspath(__file__))))
INSTALL = osp.join(ROOT, 'tools', 'install.sh')


def sourced(script: str, python: str = sys.executable):
    """``script`` run with install.sh's functions, for ``python``."""
    return subprocess.run(
        ['bash', '-c', f'source {INSTALL}; {script}'], capture_output=True,
        text=True, env=dict(os.environ, PYTHON=python))


def wheel(path, *names) -> str:
    with zipfile.ZipFile(path, 'w') as z:
        for name in ('mmcv/__init__.py', *names):
            z.writestr(name, '')
    return str(path)


def test_a_wheel_without_ops_is_told_apart(tmp_path):
    ops = wheel(tmp_path / 'ops.whl',
                'mmcv/_ext.cpython-311-x86_64-linux-gnu.so')
    bare = wheel(tmp_path / 'bare.whl', 'mmcv/ops/__init__.py')
    assert sourced(f'wheel_has_ops {ops}').returncode == 0
    assert sourced(f'wheel_has_ops {bare}').returncode == 1
    assert sourced(f'wheel_has_ops {tmp_path}/missing.whl').returncode == 1


def test_a_cached_wheel_without_ops_is_discarded(tmp_path):
    cache = tmp_path / 'cache'
    cache.mkdir()
    bare = wheel(cache / 'mmcv-2.1.0-py2.py3-none-any.whl')
    proc = sourced(f'cached_wheel {cache}')
    assert proc.returncode == 1 and proc.stdout == ''
    assert 'discarding the cached mmcv-2.1.0-py2.py3-none-any.whl: it has ' \
        'no compiled ops' in proc.stderr
    assert not osp.exists(bare)
    good = wheel(cache / 'mmcv-2.1.0-cp311-cp311-linux_x86_64.whl',
                 'mmcv/_ext.cpython-311-x86_64-linux-gnu.so')
    proc = sourced(f'cached_wheel {cache}')
    assert proc.returncode == 0 and proc.stdout.strip() == good


def test_the_build_sees_the_torch_of_the_callers_venv(tmp_path):
    """A venv's torch (here a stand-in) is what the mmcv build imports,
    with the old setuptools ahead of the venv's own."""
    venv = tmp_path / 'venv'
    subprocess.run([sys.executable, '-m', 'venv', str(venv)], check=True)
    python = str(venv / 'bin' / 'python')
    site = subprocess.run(
        [python, '-c', 'import sysconfig; print(sysconfig.get_paths()'
         '["purelib"])'], capture_output=True, text=True,
        check=True).stdout.strip()
    torch = osp.join(site, 'torch')
    os.makedirs(osp.join(torch, 'utils'))
    open(osp.join(torch, '__init__.py'), 'w').write(
        "__version__ = '0.0+standin'\n")
    open(osp.join(torch, 'utils', '__init__.py'), 'w').close()
    open(osp.join(torch, 'utils', 'cpp_extension.py'), 'w').close()
    tools = tmp_path / 'tools'
    proc = sourced(f'make_build_env {tools} && check_build_env {tools}',
                   python)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert f'the build sees torch 0.0+standin ({torch}' in proc.stdout
    assert 'and setuptools 69.' in proc.stdout
    # a Python without torch is refused before any compile, naming it
    os.rename(torch, torch + '.away')
    proc = sourced(f'check_build_env {tools}', python)
    assert proc.returncode != 0
    assert 'the mmcv build cannot import torch in' in proc.stderr
    assert 'install torch into it first' in proc.stderr


def test_ci_runs_the_readmes_test_command_in_a_new_venv():
    """.ci/run is the README's test command, step by step, in a fresh
    venv, so that a new CI machine installs the way users do."""
    with open(osp.join(ROOT, 'README.md')) as f:
        block = f.read().split('## Two commands')[1].split('```shell')[1]
    command, = [line for line in block.split('```')[0].splitlines()
                if 'pytest' in line and not line.startswith('#')]
    steps = [s.strip() for s in command.split('&&')]
    assert steps[:2] == ['python3 -m venv .venv', '. .venv/bin/activate']
    with open(osp.join(ROOT, '.ci', 'run')) as f:
        ci = [line.strip() for line in f
              if line.strip() and not line.startswith('#')]
    at = [next(i for i, line in enumerate(ci) if line.startswith(step))
          for step in steps]
    assert at == sorted(at), (steps, ci)
    assert ci.index('rm -rf .venv') < at[0]  # a new venv every run
