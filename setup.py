from setuptools import find_packages, setup


def get_version():
    scope = {}
    with open('mmkd/version.py') as f:
        exec(f.read(), scope)
    return scope['__version__']


def parse_requirements(path):
    with open(path) as f:
        return [
            line.strip() for line in f
            if line.strip() and not line.startswith('#')
        ]


setup(
    name='mmkd',
    version=get_version(),
    description='Adversarial knowledge distillation for MMDetection 3.x '
    'and MMPretrain 1.x',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    license='Apache License 2.0',
    packages=find_packages(exclude=('configs', 'tools', 'tests')),
    include_package_data=True,
    # mmkd::<folder>/<config>.py resolves to mmkd/.mim/configs, and the
    # tools are mmkd/.mim/tools, as in OpenMMLab packages (links to
    # configs/, tools/ and model-index.yml in a checkout, copies in a wheel)
    package_data={
        'mmkd': [
            '.mim/model-index.yml', '.mim/configs/**/*.py',
            '.mim/configs/**/*.yml', '.mim/configs/**/*.md',
            '.mim/tools/**/*.py', '.mim/tools/*.sh'
        ]
    },
    python_requires='>=3.8',
    install_requires=parse_requirements('requirements/runtime.txt'),
    extras_require={
        extra: parse_requirements(f'requirements/{extra}.txt')
        for extra in ('det', 'cls', 'tests')
    },
    zip_safe=False)
