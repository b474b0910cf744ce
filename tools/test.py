"""``python tools/test.py CONFIG CHECKPOINT [args]``: MMDetection's or
MMPretrain's tools/test.py, whichever toolbox the config belongs to; for a
distillation config it evaluates the student."""
from _toolbox_tool import run

if __name__ == '__main__':
    run('test.py')
