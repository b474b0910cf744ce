"""``mmkd::`` config paths, as ``mmdet::`` ones.

mmengine 0.10.7 resolves ``pkg::dir/name.py`` (in ``_base_``, in
``mmengine.hub.get_config`` and in mmkd's ``teacher=``/``student=``) only
for the packages of its ``MODULE2PACKAGE`` table, to
``<installed path of pkg>/.mim/configs/dir/name.py``. mmkd's configs lie
there: ``mmkd/.mim/configs`` and ``mmkd/.mim/model-index.yml`` are links to
the checkout's ``configs/`` and ``model-index.yml``, and a built wheel holds
copies.

mmengine finds the installed path from the distribution's location, which
for an editable install (``pip install -e .``, what ``tools/install.sh``
does) is site-packages, not the checkout. So the table names a module of
this package, ``mmkd.version``: it has no distribution, and mmengine falls
back to the directory of the module's file, which is this package's
directory whether mmkd is a wheel or a checkout.
"""
import os.path as osp

CONFIG_ROOT = osp.join(osp.dirname(osp.dirname(__file__)), '.mim', 'configs')


def register_config_package() -> None:
    """Let mmengine resolve ``mmkd::`` (done when mmkd is imported)."""
    from mmengine.config.utils import MODULE2PACKAGE
    MODULE2PACKAGE['mmkd'] = 'mmkd.version'


def config_path(name: str) -> str:
    """The file of an mmkd config, e.g. ``config_path('ktan/ktan_....py')``
    (for scripts that parse a config before mmkd is imported: give them
    this path as ``_base_``)."""
    return osp.join(CONFIG_ROOT, name)
