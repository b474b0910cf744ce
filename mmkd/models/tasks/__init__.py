from .base import Features, Recorder, TaskAdapter, evaluating, task_of
from .classification import ClassificationTask
from .detection import DetectionTask

__all__ = ['Features', 'Recorder', 'TaskAdapter', 'evaluating', 'task_of',
           'ClassificationTask', 'DetectionTask']
