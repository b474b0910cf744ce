"""Sphinx configuration of mmkd's documentation (Markdown through myst).

Build: ``sphinx-build -W -b html docs/en docs/en/_build/html``
(``tests/test_docs.py`` runs it with ``-W``: a warning fails the build).
"""
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, ROOT)

from mmkd.version import __version__  # noqa: E402

project = 'mmkd'
copyright = '2026, mmkd contributors'
author = 'mmkd contributors'
version = release = __version__

extensions = [
    'myst_parser',
    'sphinx.ext.autodoc',
    'sphinx.ext.napoleon',
    'sphinx.ext.viewcode',
]
source_suffix = {'.rst': 'restructuredtext', '.md': 'markdown'}
master_doc = 'index'
exclude_patterns = ['_build']

myst_enable_extensions = ['colon_fence']
myst_heading_anchors = 3

autodoc_member_order = 'bysource'
autodoc_default_options = {'members': False, 'show-inheritance': False}
autodoc_typehints = 'none'
napoleon_google_docstring = True

html_theme = 'alabaster'
html_static_path = []
html_title = f'mmkd {version}'

# The method pages are the config folders' READMEs (the OpenMMLab layout:
# each configs/<method>/README.md is the method's page), copied at build
# time with their links between folders turned into links between pages.
METHODS = ['ktan', 'ksanc', 'complementary', 'afd', 'mbakt',
           'kd', 'fitnet', 'at', 'cwd', 'pkd',
           'dkd', 'dist', 'ls', 'crosskd', 'fgd', 'mgd']


def copy_method_readmes(root=ROOT, out=os.path.join(HERE, 'methods')):
    import re
    os.makedirs(out, exist_ok=True)
    for name in METHODS:
        with open(os.path.join(root, 'configs', name, 'README.md')) as f:
            text = f.read()
        text = re.sub(r'\]\(\.\./([\w-]+)/README\.md', r'](\1.md', text)
        text = text.replace('](../../docs/en/', '](../')
        with open(os.path.join(out, name + '.md'), 'w') as f:
            f.write(text)


copy_method_readmes()


def init_signature(app, what, name, obj, options, signature, annotation):
    """Show a distiller's arguments and defaults (the fields a config
    sets): its ``__init__``'s, and a preset's ``defaults``, not the
    ``*args, **kwargs`` of the ``__new__`` that checks them."""
    import inspect
    if what != 'class' or signature != '(*args, **kwargs)':
        return None
    sig = inspect.signature(obj.__init__)
    params = [p.replace(annotation=inspect.Parameter.empty)
              for p in list(sig.parameters.values())[1:]
              if p.kind != p.VAR_KEYWORD or not hasattr(obj, 'defaults')]
    names = {p.name for p in params}
    params += [inspect.Parameter(k, inspect.Parameter.KEYWORD_ONLY,
                                 default=v)
               for k, v in getattr(obj, 'defaults', {}).items()
               if k not in names]
    return str(sig.replace(parameters=params,
                           return_annotation=inspect.Signature.empty)), None


def setup(app):
    app.connect('autodoc-process-signature', init_signature)
