from .base import Recorder, TaskAdapter, task_of
from .classification import ClassificationTask
from .detection import DetectionTask

__all__ = ['Recorder', 'TaskAdapter', 'task_of', 'ClassificationTask',
           'DetectionTask']
