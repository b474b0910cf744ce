"""What the distillation core needs from a model, per task."""
import contextlib
import functools
import sys
from dataclasses import dataclass, field
from typing import Any, Dict, List, Optional, Sequence, Tuple

import torch
import torch.nn as nn


class Recorder:
    """Keeps what chosen modules of a model compute during one of the
    model's own forwards (forward hooks), so a method reads features and
    logits without running the model twice or naming module paths."""

    def __init__(self):
        self.records: Dict[str, object] = {}
        self._on = False

    def watch(self, module: nn.Module, name: str,
              take_input: Optional[int] = None, every_call=False) -> None:
        """Keep ``module``'s output (or its positional input number
        ``take_input``) as ``records[name]``: the last call's, or a list of
        every call's (a head run once per level)."""
        module.register_forward_hook(
            functools.partial(self._keep, name, take_input, every_call))

    def _keep(self, name, take_input, every_call, module, args,
              output) -> None:
        if self._on:
            value = output if take_input is None else args[take_input]
            if every_call:
                self.records.setdefault(name, []).append(value)
            else:
                self.records[name] = value

    @contextlib.contextmanager
    def __call__(self):
        self.records.clear()
        self._on = True
        try:
            yield self.records
        finally:
            self._on = False
            self.records.clear()  # nothing of an iteration outlives it


@dataclass
class Features:
    """What one forward of a network gives the terms, read by its task
    adapter from what the forward recorded.

    Attributes:
        maps: Every distillable map, by index (a detector's neck levels, a
            classifier's backbone stage outputs), ``(N, C, H, W)``.
        logits: Its class scores as its head gives them, where recorded
            (the method compares logits): ``(N, C)`` of a classifier; per
            level ``(N, A*C, H, W)`` of a dense head; ``(R, C + 1)`` of a
            RoI head for the student's sampled proposals.
        labels: The images' class labels ``(N, )`` where the task has one
            per image (classifiers), else None.
        strides: The strides of ``maps`` (the core fills them in from its
            probe).
        extras: What else its head recorded (a RoI head's ``rois``).
    """
    maps: List[torch.Tensor]
    logits: Any = None
    labels: Optional[torch.Tensor] = None
    strides: Optional[List[int]] = None
    extras: Dict[str, Any] = field(default_factory=dict)

    def detached(self) -> 'Features':
        """The same record cut from the graph (a source to learn from)."""
        cut = lambda x: x.detach() if torch.is_tensor(x) else (  # noqa: E731
            None if x is None else [t.detach() for t in x])
        return Features([m.detach() for m in self.maps], cut(self.logits),
                        self.labels, self.strides, dict(self.extras))


class TaskAdapter:
    """One task's view of a student and a teacher.

    It gives the core the maps a method can distil (``maps``: their
    channels and strides come from a probe forward), the student's
    :class:`Features` from the student's own ``loss`` forward
    (``recording``, ``features``), the teacher's under ``no_grad``
    (``teacher_forward``), and logits of both in comparable rows
    (``logit_pairs``), with the pair checks whose errors name the fix. Subclasses say what the maps are called (``part``,
    ``unit``) and which models they accept.
    """
    name = 'model'      # the task, as a method's ``tasks`` names it
    models = 'models'   # "KTAN distils <models>"
    has_labels = False  # ``Features.labels``: one class label per image
    part = 'model'      # "the student's <part> has 4 <unit>"
    probe_size = 64     # the side of the blank image of a probe forward
    unit = 'maps'
    maps_name = 'Feature maps'

    def __init__(self, student: nn.Module, teacher: nn.Module):
        self.student, self.teacher = student, teacher
        self.student_rec, self.teacher_rec = Recorder(), Recorder()

    @classmethod
    def accepts(cls, model: nn.Module) -> bool:
        raise NotImplementedError

    def maps(self, model: nn.Module, inputs: torch.Tensor) -> List:
        """The distillable maps of ``model`` for ``inputs``."""
        raise NotImplementedError

    def default_pairs(self, s_strides, t_strides
                      ) -> Optional[List[Tuple[int, int]]]:
        """The distilled pairs when a config names no levels (None: every
        pair ``match_levels`` finds)."""
        return None

    def setup_kd(self, kd_pairs, s_strides, t_strides, loss_kd) -> None:
        """Check that logit KD can compare the two models' class scores
        (clear errors otherwise) and set ``loss_kd``'s sigmoid/softmax."""
        raise NotImplementedError

    def watch_student(self, kd: bool, extras: Sequence[str] = ()) -> None:
        """Record the student's maps (and logits for KD) in its forward,
        and the ``extras`` terms ask for (``'head_inputs'``: the input of
        every layer of a dense head's class and box branches, per level)."""
        raise NotImplementedError

    def recording(self):
        return self.student_rec()

    def features(self, records: dict, data_samples=None) -> Features:
        """The student's :class:`Features` from what its forward recorded
        (its labels from ``data_samples`` where the task has them)."""
        raise NotImplementedError

    def teacher_forward(self, inputs: torch.Tensor, kd: bool) -> Features:
        """The teacher's :class:`Features` (its logits where KD needs them
        and they cost no more than its forward), without gradients."""
        raise NotImplementedError

    def logit_pairs(self, student: Features, teacher: Features
                    ) -> Sequence[Tuple[torch.Tensor, torch.Tensor]]:
        """(student rows, teacher rows) of class scores, ``(n, C)`` each."""
        raise NotImplementedError

    def num_classes(self) -> int:
        """The teacher's class count."""
        raise NotImplementedError

    def logit_width(self) -> int:
        """The width of a row of ``logit_pairs``."""
        return self.num_classes()


def as_maps(output) -> List[torch.Tensor]:
    """The 4-D maps in a module's output (a tensor or a tuple of them)."""
    outs = output if isinstance(output, (list, tuple)) else [output]
    return [x for x in outs if torch.is_tensor(x) and x.dim() == 4]


def stage_modules(backbone: nn.Module) -> List[nn.Module]:
    """The stages of an MMPretrain or MMDetection backbone, in order: its
    ``res_layers`` (ResNet family, the CIFAR zoo) or ``layers`` (MobileNet)
    by name, else its ``stages``/``layers`` container; ``[backbone]`` (its
    outputs, as ``out_indices`` selects them) when it has none of these."""
    for attr in ('res_layers', 'layers'):
        names = getattr(backbone, attr, None)
        if isinstance(names, (list, tuple)) and names and all(
                isinstance(n, str) for n in names):
            return [getattr(backbone, n) for n in names]
    for attr in ('stages', 'layers'):
        modules = getattr(backbone, attr, None)
        if isinstance(modules, (nn.ModuleList, nn.Sequential)):
            return list(modules)
    return [backbone]


@contextlib.contextmanager
def evaluating(model: nn.Module):
    """``model`` in eval mode for a probe forward (BN statistics
    untouched), then back in the mode it was in."""
    training = model.training
    model.eval()
    try:
        yield model
    finally:
        model.train(training)


def loaded(module: str, name: str):
    """``module.name`` when ``module`` is imported, else None. A toolbox's
    model exists only once its models are imported, so the adapters test
    models without importing a toolbox: a classification-only install
    (MMPretrain on mmcv-lite: no MMDetection, no compiled ops) never
    imports MMDetection."""
    return getattr(sys.modules.get(module), name, None)


def task_of(student: nn.Module, teacher: nn.Module) -> TaskAdapter:
    """The task adapter for a student and teacher, by the models' class."""
    from .classification import ClassificationTask
    from .detection import DetectionTask
    for task in (DetectionTask, ClassificationTask):
        ok = [task.accepts(m) for m in (student, teacher)]
        if all(ok):
            return task(student, teacher)
        if any(ok):
            raise ValueError(
                f'The student ({type(student).__name__}) and the teacher '
                f'({type(teacher).__name__}) are models of different tasks; '
                'distil a detector from a detector and a classifier from a '
                'classifier.')
    raise ValueError(
        f'mmkd distils MMDetection detectors and MMPretrain image '
        f'classifiers (ImageClassifier); the student is a '
        f'{type(student).__name__}.')
