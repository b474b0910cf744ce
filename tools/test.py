"""``python tools/test.py CONFIG CHECKPOINT [args]``: MMDetection's
tools/test.py; for a distillation config it evaluates the student."""
from _mmdet_tool import run

if __name__ == '__main__':
    run('test.py')
