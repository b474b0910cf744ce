def check_number(value, name: str, owner: str, positive: bool = False):
    """``value`` as a float if it is a number (``> 0`` with ``positive``,
    else ``>= 0``); otherwise an error naming ``owner.name``, the expected
    type and what was given (``'4'`` from a config is a str, not a
    number)."""
    bound = '> 0' if positive else '>= 0'
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f'{owner}: {name} must be a number {bound} (e.g. '
                        f'{name}=4.0), got {value!r}, a '
                        f'{type(value).__name__}')
    if value < 0 or (positive and value == 0):
        raise ValueError(f'{owner}: {name} must be {bound}, got {value}')
    return float(value)


def check_loss_weight(loss_weight: float, name: str) -> float:
    """Return ``loss_weight`` as a float, refusing negative or non-numbers."""
    if isinstance(loss_weight, bool) or not isinstance(loss_weight,
                                                       (int, float)):
        raise TypeError(f'{name}: loss_weight must be a number, '
                        f'got {loss_weight!r}')
    if loss_weight < 0:
        raise ValueError(
            f'{name}: loss_weight must be >= 0, got {loss_weight}. A '
            'negative weight would make training maximise the loss; use 0 '
            'to switch the term off.')
    return float(loss_weight)
