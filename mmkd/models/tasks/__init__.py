from .base import Recorder, TaskAdapter, evaluating, task_of
from .classification import ClassificationTask
from .detection import DetectionTask

__all__ = ['Recorder', 'TaskAdapter', 'evaluating', 'task_of',
           'ClassificationTask', 'DetectionTask']
